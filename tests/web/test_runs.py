"""Run page filters, search and paging; entry detail; Retry; Deliver (N selected); job list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select, update

from app.database import utcnow
from app.extensions import db, queues
from app.models import Artifact, Entry, EntryDelivery, Job, Run
from app.runs.create import start_run
from tests import factories as make
from tests.delivery.smtp_rig import scripted_smtp
from tests.helpers import entries_of, reload_run

ROWS = [
    {"name": "Ada Lovelace", "email": "ada@example.com"},
    {"name": "Bob 100%_sure", "email": "bob@example.com"},
    {"name": "Zoë Ångström", "email": "zoe@example.com"},
]
EDITOR, VIEWER = "editor@acme.example", "viewer@acme.example"


@pytest.fixture
def acme(app, smtp_server):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    make.user(EDITOR, ws, "editor")
    make.user(VIEWER, ws, "viewer")
    return ws


@pytest.fixture
def login(auth):
    return lambda email=EDITOR: auth.login(email, make.PASSWORD)


def rows_shown(page: str) -> int:
    return page.count('<tr id="entry-')


def finished_run(ws, work, mailbox, *, reject: bool = False, **extra) -> int:
    job = make.mailing_job(ws, ROWS, **extra)
    if reject:
        mailbox.reject_with = "550 5.1.1 No such user"
    run_id = start_run(job, None).id
    work()
    mailbox.clear()
    return run_id


# --- the run page: status filter, search, paging --------------------------------------------


def test_entries_filter_by_exact_status_and_search_any_row_value(
    acme, login, client, work, mailbox
):
    job = make.mailing_job(acme, [*ROWS, {"name": "No Mail", "email": ""}])
    run_id = start_run(job, None).id
    work()
    login()
    url = f"/w/acme/runs/{run_id}"

    failed = client.get(f"{url}?status=DeliveryFailed").text
    assert rows_shown(failed) == 1 and "no recipient" in failed
    assert rows_shown(client.get(f"{url}?status=Completed").text) == 3
    assert rows_shown(client.get(f"{url}?status=Completed&bucket=errors").text) == 0
    assert rows_shown(client.get(f"{url}?status=Bogus").text) == 4  # unknown: ignored

    assert rows_shown(client.get(f"{url}?q=LOVELACE").text) == 1  # case-insensitive
    assert rows_shown(client.get(f"{url}?q=example.com").text) == 3  # any value
    assert rows_shown(client.get(f"{url}?q=Zo%C3%AB").text) == 1  # stored JSON escapes it
    assert rows_shown(client.get(f"{url}?q=email").text) == 0  # keys are not values
    # % and _ are literal characters, not wildcards.
    assert rows_shown(client.get(f"{url}?q=100%25_s").text) == 1
    assert rows_shown(client.get(f"{url}?q=%25").text) == 1
    assert rows_shown(client.get(f"{url}?q=_").text) == 1
    nothing = client.get(f"{url}?q=nobody&status=Completed").text
    assert rows_shown(nothing) == 0 and "No entries match “nobody” with status Completed" in nothing


def bulk_run(job: Job, count: int, status: str = "Completed") -> int:
    """A finished run of `count` entries, each with a PDF and a sent email, written directly."""
    run = Run(workspace_id=job.workspace_id, job_id=job.id, trigger="manual", status="finished")
    db.session.add(run)
    db.session.flush()
    db.session.execute(
        insert(Entry),
        [
            {"run_id": run.id, "seq": i, "status": status, "row": {"name": f"Person {i:05d}"}}
            for i in range(1, count + 1)
        ],
    )
    ids = db.session.scalars(select(Entry.id).filter_by(run_id=run.id).order_by(Entry.seq)).all()
    db.session.execute(
        insert(Artifact),
        [
            {"entry_id": i, "position": 0, "report_code": "letter", "filename": f"p{i}.pdf"}
            | {"status": "generated", "storage_key": f"bulk/{i}.pdf"}
            for i in ids
        ],
    )
    db.session.execute(
        insert(EntryDelivery),
        [
            {"entry_id": i, "position": 0, "kind": "email", "status": "sent", "attempts": 1}
            | {"detail": {"to": [f"p{i}@example.com"]}}
            for i in ids
        ],
    )
    db.session.commit()
    return run.id


def test_entries_are_paged_fifty_at_a_time_keeping_the_filters(acme, login, client):
    job = make.people_job(acme, ROWS, "<p>x</p>")
    run_id = bulk_run(job, 120)
    login()
    url = f"/w/acme/runs/{run_id}"

    first = client.get(url).text
    assert rows_shown(first) == 50
    assert re.search(r'data-bucket="completed">120<', first)
    third = client.get(f"{url}?page=3").text
    assert rows_shown(third) == 20 and "Person 00101" in third and ">Next<" not in third
    searched = client.get(f"{url}?q=person%200&status=Completed&page=2").text
    assert rows_shown(searched) == 50
    next_link = re.search(r'href="([^"]+)">Next<', searched)[1].replace("&amp;", "&")
    assert next_link == f"{url}?status=Completed&q=person+0&page=3"
    assert f'href="{url}?status=Completed&amp;q=person+0">Previous<' in searched
    assert rows_shown(client.get(next_link).text) == 20


def test_the_run_page_queries_do_not_grow_with_the_entries_shown(acme, login, client):
    job = make.people_job(acme, ROWS, "<p>x</p>")
    small, large = bulk_run(job, 5), bulk_run(job, 50)
    login()

    def statements(url: str) -> int:
        db.session.remove()  # requests here share the test's app context, hence its session
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    statements(f"/w/acme/runs/{small}")  # warm-up: the login's user, caches
    assert statements(f"/w/acme/runs/{small}") == statements(f"/w/acme/runs/{large}")
    assert statements(f"/w/acme/runs/{large}?q=person") == statements(f"/w/acme/runs/{large}")


def test_the_live_section_keeps_filters_in_its_polling_url(acme, login, client):
    job = make.people_job(acme, ROWS, "<p>x</p>")
    run_id = start_run(job, None).id  # never worked: still pending
    login()
    live = client.get(
        f"/w/acme/runs/{run_id}?status=Queued&q=ada&page=2", headers={"HX-Request": "true"}
    ).text
    assert "<html" not in live
    assert f'hx-get="/w/acme/runs/{run_id}?status=Queued&amp;q=ada&amp;page=2"' in live
    assert 'hx-trigger="every 1s"' in live


# --- entry detail and Retry -----------------------------------------------------------------


def progress_class(page: str) -> str:
    return re.search(r'<progress class="([^"]+)"', page)[1]


def test_the_progress_bar_is_green_only_when_every_entry_went_well(acme, login, client, work):
    login(VIEWER)
    job = make.mailing_job(acme, [*ROWS, {"name": "Dee", "email": ""}])  # Dee: no recipient
    run_id = start_run(job, None).id
    work()

    def shown() -> str:
        page = client.get(f"/w/acme/runs/{run_id}").text
        return re.search(r'<progress class="([^"]+)"', page)[1]

    def every_entry(status: str) -> None:
        db.session.execute(update(Entry).where(Entry.run_id == run_id).values(status=status))
        db.session.commit()

    assert shown() == "progress warning"  # three sent, one failed: it was all green
    every_entry("Completed")
    assert shown() == "progress success"
    every_entry("DeliveryFailed")
    assert shown() == "progress error"


def test_the_entry_page_shows_row_reports_and_deliveries(acme, login, client, work, mailbox):
    run_id = finished_run(acme, work, mailbox)
    ada = entries_of(run_id)[0]
    login(VIEWER)
    run_page = client.get(f"/w/acme/runs/{run_id}").text
    entry_url = f"/w/acme/runs/{run_id}/entries/{ada.id}"
    assert f'href="{entry_url}"' in run_page
    assert 'name="entry_id"' not in run_page  # a viewer gets no checkboxes

    page = client.get(entry_url).text
    assert "<dt>name</dt><dd>Ada Lovelace</dd>" in page
    assert "<dt>email</dt><dd>ada@example.com</dd>" in page
    pdf_url = f"/w/acme/artifacts/{ada.artifacts[0].id}/{ada.artifacts[0].filename}"
    assert f'href="{pdf_url}"' in page and f'<iframe src="{pdf_url}"' in page
    assert client.get(pdf_url).data.startswith(b"%PDF")
    delivery = ada.deliveries[0]
    assert f'id="delivery-{delivery.id}"' in page
    assert "status-sent" in page and "<dt>To</dt><dd>ada@example.com</dd>" in page
    assert "<dt>Subject</dt><dd>s</dd>" in page
    assert ">Retry<" not in page


def test_an_entry_with_undrawn_characters_shows_the_warning(acme, login, client, work, mailbox):
    rows = [
        {"name": "Ada Lovelace", "email": "ada@example.com"},
        {"name": "Bob \ue000", "email": "bob@example.com"},
    ]
    job = make.mailing_job(acme, rows, html="<p>{{ people.name }}</p>")
    run_id = start_run(job, None).id
    work()
    ada, bob = entries_of(run_id)
    warning = "letter: 1 character could not be drawn: \ue000 (U+E000)"
    login(VIEWER)

    bob_page = client.get(f"/w/acme/runs/{run_id}/entries/{bob.id}").text
    assert 'id="entry-warnings"' in bob_page and 'class="flash warning render-warnings"' in bob_page
    assert f"<li>{warning}</li>" in bob_page
    ada_page = client.get(f"/w/acme/runs/{run_id}/entries/{ada.id}").text
    assert 'id="entry-warnings"' not in ada_page and "could not be drawn" not in ada_page
    run_page = client.get(f"/w/acme/runs/{run_id}").text
    assert run_page.count('class="field-warning"') == 1 and warning in run_page


def test_an_entry_lists_each_render_warning_and_the_run_page_says_how_many(
    acme, login, client, work, mailbox
):
    html = (
        "<style>\np { cursor: pointer; transition: none; }\n@media screen { p { color: red } }"
        "\n</style>\n<p>{{ people.name }}</p>"
    )
    job = make.mailing_job(acme, [{"name": "Ada", "email": "ada@example.com"}], html=html)
    run_id = start_run(job, None).id
    work()
    (ada,) = entries_of(run_id)
    assert ada.status == "Completed" and len(ada.warnings) == 3
    login(VIEWER)

    page = client.get(f"/w/acme/runs/{run_id}/entries/{ada.id}").text
    assert "<strong>3 render warnings</strong>" in page
    assert page.count("<li>letter: HTML &lt;style&gt; line 2: ") == 2
    assert "<li>letter: HTML &lt;style&gt; line 3: `@media screen` never applies" in page
    assert "Choose a font" not in page  # the glyph advice only for undrawn characters
    run_page = client.get(f"/w/acme/runs/{run_id}").text
    assert run_page.count('class="field-warning"') == 1
    entry_url = f"/w/acme/runs/{run_id}/entries/{ada.id}#entry-warnings"
    assert f'<a href="{entry_url}">and 2 more warnings</a>' in run_page


def test_retry_without_javascript_redirects_back_and_sends(
    acme, login, auth, client, work, mailbox
):
    run_id = finished_run(acme, work, mailbox, reject=True)
    ada = entries_of(run_id)[0]
    delivery_id = ada.deliveries[0].id
    entry_url = f"/w/acme/runs/{run_id}/entries/{ada.id}"
    login()
    page = client.get(entry_url).text
    assert "550 5.1.1 No such user" in page
    assert f'action="/w/acme/deliveries/{delivery_id}/retry"' in page

    response = auth.post(f"/w/acme/deliveries/{delivery_id}/retry", page=entry_url)

    assert response.status_code == 303 and response.headers["Location"] == entry_url
    assert "Queued for another attempt." in client.get(entry_url).text
    work()
    assert len(mailbox.messages) == 1
    assert entries_of(run_id)[0].deliveries[0].status == "sent"
    assert ">Retry<" not in client.get(entry_url).text


def test_retry_with_htmx_swaps_the_delivery_row(acme, login, auth, client, work, mailbox):
    run_id = finished_run(acme, work, mailbox, reject=True)
    ada = entries_of(run_id)[0]
    delivery_id = ada.deliveries[0].id
    entry_url = f"/w/acme/runs/{run_id}/entries/{ada.id}"
    login()

    row = auth.post(
        f"/w/acme/deliveries/{delivery_id}/retry", page=entry_url, headers={"HX-Request": "true"}
    )

    assert row.status_code == 200 and "<html" not in row.text
    assert f'<article id="delivery-{delivery_id}"' in row.text
    assert "status-pending" in row.text and "Queued for another attempt." in row.text
    assert f'hx-get="/w/acme/deliveries/{delivery_id}"' in row.text  # polls while sending
    work()
    polled = client.get(f"/w/acme/deliveries/{delivery_id}", headers={"HX-Request": "true"})
    assert "<html" not in polled.text and "status-sent" in polled.text
    assert "hx-trigger" not in polled.text  # sent: polling stops
    assert "<html" in client.get(f"/w/acme/deliveries/{delivery_id}").text  # no JS: the page

    again = auth.post(
        f"/w/acme/deliveries/{delivery_id}/retry", page=entry_url, headers={"HX-Request": "true"}
    )
    assert "only a failed, partly or possibly delivered delivery can be retried" in again.text
    assert len(mailbox.messages) == 1


# --- Deliver (N selected) -------------------------------------------------------------------


def test_deliver_approves_held_entries_then_asks_before_sending_again(
    acme, login, auth, client, work, mailbox
):
    run_id = finished_run(acme, work, mailbox, hold_for_review=True)
    ids = [e.id for e in entries_of(run_id)]
    run_url = f"/w/acme/runs/{run_id}"
    login()
    page = client.get(run_url).text
    assert page.count('form="deliver-form" name="entry_id"') == 3
    assert "Deliver selected" in page

    response = auth.post(f"{run_url}/deliver", {"entry_id": ids[:2]}, page=run_url)
    assert response.status_code == 303 and response.headers["Location"] == run_url
    assert "Entries: 2 approved and queued for delivery." in client.get(run_url).text
    work()
    assert len(mailbox.messages) == 2

    # The same selection again: those two were delivered, so nothing happens without a yes.
    confirm = auth.post(f"{run_url}/deliver", {"entry_id": ids}, page=run_url)
    assert confirm.status_code == 200 and "<html" in confirm.text
    assert "Re-deliver 2 completed entries? This sends them again." in confirm.text
    assert "1 held entry is approved" in confirm.text
    assert queues.queue("deliver").count == 0
    assert [e.status for e in entries_of(run_id)] == ["Completed", "Completed", "PendingReview"]
    fragment = auth.post(
        f"{run_url}/deliver", {"entry_id": ids}, page=run_url, headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text and 'id="confirm-deliver"' in fragment.text
    confirmed = re.search(r'name="confirmed" value="([^"]+)"', confirm.text)[1]
    assert confirm.text.count('name="entry_id"') == 3

    yes = {"entry_id": ids, "confirmed": confirmed}
    response = auth.post(f"{run_url}/deliver", yes, page=run_url)
    assert response.status_code == 303
    flashed = client.get(run_url).text
    assert "1 approved and queued for delivery; 2 queued to be delivered again." in flashed
    work()
    assert len(mailbox.messages) == 5
    assert reload_run(run_id).status == "finished"

    # The same confirmation submitted again (a double click without JavaScript, a reload):
    # everything it covered has been re-sent since, so nothing goes out twice.
    assert auth.post(f"{run_url}/deliver", yes, page=run_url).status_code == 303
    assert "Entries: 3 skipped" in client.get(run_url).text
    work()
    assert len(mailbox.messages) == 5
    # A confirmation that is not a time asks again rather than sending.
    bogus = auth.post(f"{run_url}/deliver", {"entry_id": ids, "confirmed": "1"}, page=run_url)
    assert "Re-deliver 3 completed entries?" in bogus.text


def test_deliver_keeps_the_filters_and_needs_a_selection(acme, login, auth, client, work, mailbox):
    run_id = finished_run(acme, work, mailbox, hold_for_review=True)
    run_url = f"/w/acme/runs/{run_id}"
    login()
    filtered = f"{run_url}?bucket=review&q=ada"
    form = client.get(filtered).text
    assert '<input type="hidden" name="bucket" value="review">' in form
    assert '<input type="hidden" name="q" value="ada">' in form

    response = auth.post(f"{run_url}/deliver", {"bucket": "review", "q": "ada"}, page=run_url)

    assert response.status_code == 303 and response.headers["Location"] == filtered
    assert "Select at least one entry to deliver." in client.get(filtered).text


def test_a_viewer_cannot_post_retry_or_deliver(acme, login, auth, client, work, mailbox):
    run_id = finished_run(acme, work, mailbox, reject=True)
    ada = entries_of(run_id)[0]
    login(VIEWER)
    run_url = f"/w/acme/runs/{run_id}"
    entry_page = client.get(f"{run_url}/entries/{ada.id}").text
    assert "550 5.1.1 No such user" in entry_page and ">Retry<" not in entry_page
    retry = auth.post(f"/w/acme/deliveries/{ada.deliveries[0].id}/retry", page=run_url)
    yes = {"entry_id": ada.id, "confirmed": utcnow().isoformat()}
    deliver = auth.post(f"{run_url}/deliver", yes, page=run_url)
    assert (retry.status_code, deliver.status_code) == (403, 403)
    assert entries_of(run_id)[0].deliveries[0].status == "failed"


def test_another_workspaces_entries_and_deliveries_are_invisible(
    acme, login, auth, client, work, mailbox, smtp_server
):
    mine = finished_run(acme, work, mailbox, reject=True)
    globex = make.workspace("globex", smtp=smtp_server.settings)
    make.user("boss@globex.example", globex, "admin")
    theirs = finished_run(globex, work, mailbox, reject=True)
    their_entry = entries_of(theirs)[0]
    their_delivery = their_entry.deliveries[0].id
    login()
    for url in (
        f"/w/acme/runs/{theirs}/entries/{their_entry.id}",
        f"/w/acme/runs/{mine}/entries/{their_entry.id}",  # an entry of another run
        f"/w/globex/runs/{theirs}/entries/{their_entry.id}",
        f"/w/acme/deliveries/{their_delivery}",
        f"/w/acme/runs/{mine}/entries/999999",
    ):
        assert client.get(url).status_code == 404, url
    page = f"/w/acme/runs/{mine}"
    for url in (f"/w/acme/deliveries/{their_delivery}/retry", f"/w/globex/runs/{theirs}/deliver"):
        assert auth.post(url, {"entry_id": their_entry.id}, page=page).status_code == 404, url
    assert entries_of(theirs)[0].deliveries[0].status == "failed"


# --- the job list ---------------------------------------------------------------------------


@pytest.fixture
def many_jobs(acme):
    make.template(acme, "t", "<p>x</p>")
    for i in range(30):
        make.job(
            acme,
            code=f"job-{i:02d}",
            name=f"Job {i:02d}" if i != 7 else "Quarterly 50%_off letters",
            description="the finance team" if i % 10 == 3 else "",
            reports=[{"template": "t"}],
        )
    now = utcnow()
    for i, job in enumerate(db.session.scalars(select(Job).order_by(Job.code))):
        if i in (4, 5):
            job.scheduled, job.next_fire_at = True, now + timedelta(days=i)
        if i in (1, 2):
            job.last_run_at, job.last_run_status = now - timedelta(days=i), "completed_with_errors"
    db.session.commit()


def codes(page: str) -> list[str]:
    return re.findall(r"<td><code>([^<]+)</code></td>", page)


def test_the_job_list_searches_sorts_and_pages(acme, many_jobs, login, client):
    login()
    first = client.get("/w/acme/jobs").text
    assert len(codes(first)) == 25 and codes(first)[0] == "job-00"
    assert '<a href="/w/acme/jobs?sort=code&amp;dir=asc">Code</a>' in first
    assert 'href="/w/acme/jobs?page=2">Next<' in first
    assert len(codes(client.get("/w/acme/jobs?page=2").text)) == 5

    by_code_desc = client.get("/w/acme/jobs?sort=code&dir=desc").text
    assert codes(by_code_desc)[:2] == ["job-29", "job-28"]
    assert 'aria-sort="descending"' in by_code_desc
    assert 'href="/w/acme/jobs?sort=code&amp;dir=desc&amp;page=2">Next<' in by_code_desc

    assert codes(client.get("/w/acme/jobs?sort=next_run").text)[:3] == [
        "job-04",
        "job-05",
        "job-00",
    ]
    assert codes(client.get("/w/acme/jobs?sort=next_run&dir=desc").text)[:2] == ["job-05", "job-04"]
    last_run = client.get("/w/acme/jobs?sort=last_run&dir=desc").text
    assert codes(last_run)[:3] == ["job-01", "job-02", "job-00"]
    assert "completed with errors" in last_run

    assert codes(client.get("/w/acme/jobs?q=FINANCE").text) == ["job-03", "job-13", "job-23"]
    assert codes(client.get("/w/acme/jobs?q=job-1").text) == [f"job-1{i}" for i in range(10)]
    assert codes(client.get("/w/acme/jobs?q=50%25_").text) == ["job-07"]
    assert codes(client.get("/w/acme/jobs?q=_").text) == ["job-07"]
    nothing = client.get("/w/acme/jobs?q=nothing+like+this").text
    assert codes(nothing) == [] and "No jobs match" in nothing
    searched = client.get("/w/acme/jobs?q=job&sort=code").text
    assert 'href="/w/acme/jobs?q=job&amp;sort=code&amp;page=2">Next<' in searched
    assert 'name="sort" value="code"' in searched  # a new search keeps the order


# ---- per-recipient outcomes (issue 13) ------------------------------------------------------


def smtp_job_run(settings: dict, to: list[str], work) -> tuple[int, Entry]:
    ws = make.workspace("acme", smtp=settings)
    make.user(VIEWER, ws, "viewer")
    make.user(EDITOR, ws, "editor")
    delivery = {"kind": "email", "to": ", ".join(to), "subject": "s", "message": "m"}
    job = make.people_job(ws, [{"name": "Ada"}], "<p>x</p>", deliveries=[delivery])
    run_id = start_run(job, None).id
    work()
    (entry,) = entries_of(run_id)
    return run_id, entry


def test_the_entry_and_run_pages_show_a_partly_delivered_email_per_recipient(
    app, login, client, work
):
    to = ["p0@example.com", "p1@example.com", "p2@example.com"]
    with scripted_smtp(refuse={"p1@example.com": "550 5.1.1 No such user"}) as (_s, settings):
        run_id, entry = smtp_job_run(settings, to, work)
    (delivery,) = entry.deliveries
    assert (entry.status, delivery.status) == ("CompletedWithErrors", "partial")
    login(VIEWER)

    page = client.get(f"/w/acme/runs/{run_id}/entries/{entry.id}").text
    shown = re.search(rf'<article id="delivery-{delivery.id}".*?</article>', page, re.S)[0]
    assert '<span class="badge status-partial">partly delivered</span>' in shown
    assert "<dt>Recipients</dt><dd>2 of 3 accepted the message" in shown
    refused = re.findall(r"<li>(.*?)</li>", shown, re.S)
    assert refused == [
        '<span class="badge status-refused">refused</span> p1@example.com '
        '<span class="muted">550 5.1.1 No such user</span>'
    ]
    assert "Already uploaded" not in shown  # that line is for Drive files, not recipients
    run_page = client.get(f"/w/acme/runs/{run_id}").text
    assert "email: partly delivered" in run_page


def test_the_entry_page_shows_a_possibly_delivered_email_and_why_retry_may_duplicate(
    app, login, client, work
):
    to = ["p0@example.com", "p1@example.com"]
    with scripted_smtp(drop_after_data=1) as (_s, settings):
        run_id, entry = smtp_job_run(settings, to, work)
    (delivery,) = entry.deliveries
    assert delivery.status == "uncertain"
    login(EDITOR)

    page = client.get(f"/w/acme/runs/{run_id}/entries/{entry.id}").text
    shown = re.search(rf'<article id="delivery-{delivery.id}".*?</article>', page, re.S)[0]
    assert "status-uncertain" in shown
    assert "possibly delivered to p0@example.com, p1@example.com" in shown
    assert "<dt>Recipients</dt><dd>0 of 2 accepted the message" in shown
    assert shown.count('<span class="badge status-uncertain">uncertain</span>') == 2
    assert ">Retry<" in shown and "it may have arrived already" in shown
