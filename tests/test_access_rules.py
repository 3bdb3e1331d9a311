"""The access functions of app/access.py called directly on real rows (no HTTP): membership and
role rank, lookups by id or code scoped to a workspace, the messages a caller is shown.

These are the fast tests `mutmut` runs against the access checks (see README "Development");
tests/test_access.py checks every route of the app against the same rules, end to end.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from app.access import (
    MAX_ROW_ID,
    find_job_run,
    get_delivery,
    get_entry,
    get_job,
    get_run,
    get_workspace,
    job_run_params,
    job_run_queries,
    remember_role,
    require,
    role_in,
    workspaces_of,
)
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import (
    Artifact,
    Entry,
    EntryDelivery,
    Job,
    Membership,
    Role,
    Run,
    User,
    Workspace,
)


def _workspace(code: str) -> Workspace:
    ws = Workspace(code=code, name=code.title())
    db.session.add(ws)
    db.session.flush()
    return ws


def _member(email: str, ws: Workspace, role: str) -> User:
    """A person (found or made; no password: these tests never log in) with a role in `ws`."""
    person = db.session.scalars(db.select(User).filter_by(email=email)).first()
    if person is None:
        person = User(email=email, name=email, password_hash="-")
        db.session.add(person)
        db.session.flush()
    db.session.add(Membership(user_id=person.id, workspace_id=ws.id, role=role))
    db.session.commit()
    return person


def _job(ws: Workspace, code: str) -> Job:
    job = Job(workspace_id=ws.id, code=code, name=code)
    db.session.add(job)
    db.session.commit()
    return job


class Rows:
    """Two workspaces with a job, a run, an entry, an artifact and a delivery each."""

    def __init__(self) -> None:
        self.ws = _workspace("acme")
        self.other = _workspace("beta")
        self.viewer = _member("viewer@x.example", self.ws, "viewer")
        self.editor = _member("editor@x.example", self.ws, "editor")
        self.admin = _member("admin@x.example", self.ws, "admin")
        self.outsider = _member("outsider@x.example", self.other, "admin")
        self.job = _job(self.ws, "statements")
        self.other_job = _job(self.other, "invoices")
        self.run, self.entry, self.delivery = self._run(self.job)
        self.other_run, self.other_entry, self.other_delivery = self._run(self.other_job)

    @staticmethod
    def _run(job: Job) -> tuple[Run, Entry, EntryDelivery]:
        run = Run(workspace_id=job.workspace_id, job_id=job.id, trigger="manual", status="running")
        db.session.add(run)
        db.session.flush()
        entry = Entry(run_id=run.id, seq=0, status="Completed")
        db.session.add(entry)
        db.session.flush()
        delivery = EntryDelivery(entry_id=entry.id, position=0, kind="email")
        artifact = Artifact(
            entry_id=entry.id, position=0, report_code="r", filename="r.pdf", status="generated"
        )
        db.session.add_all([delivery, artifact])
        db.session.commit()
        return run, entry, delivery


@pytest.fixture
def rows(app: Flask) -> Rows:
    return Rows()


# --- membership and rank ---------------------------------------------------------------------


def test_role_in_is_the_membership_or_none(rows):
    assert role_in(rows.viewer, rows.ws) is Role.viewer
    assert role_in(rows.admin, rows.ws) is Role.admin
    assert role_in(rows.outsider, rows.ws) is None
    assert role_in(rows.outsider, rows.other) is Role.admin


def test_a_role_is_read_once_per_request_and_remembered_roles_are_used(app, rows):
    with app.test_request_context("/"):
        assert role_in(rows.viewer, rows.ws) is Role.viewer
        db.session.execute(db.update(Membership).values(role="admin"))
        assert role_in(rows.viewer, rows.ws) is Role.viewer  # read once this request
        remember_role(rows.outsider.id, rows.ws.id, Role.editor)
        assert role_in(rows.outsider, rows.ws) is Role.editor
    with app.test_request_context("/"):  # the next request reads again
        assert role_in(rows.viewer, rows.ws) is Role.admin
        assert role_in(rows.outsider, rows.ws) is None


def test_without_a_request_nothing_is_remembered(rows):
    assert role_in(rows.viewer, rows.ws) is Role.viewer
    db.session.execute(db.update(Membership).values(role="editor"))
    assert role_in(rows.viewer, rows.ws) is Role.editor
    remember_role(rows.outsider.id, rows.ws.id, Role.admin)
    assert role_in(rows.outsider, rows.ws) is None


@pytest.mark.parametrize(
    ("person", "need", "answer"),
    [
        ("viewer", Role.viewer, Role.viewer),
        ("viewer", Role.editor, "this needs the editor role; you are viewer"),
        ("viewer", Role.admin, "this needs the admin role; you are viewer"),
        ("editor", Role.viewer, Role.editor),
        ("editor", Role.editor, Role.editor),
        ("editor", Role.admin, "this needs the admin role; you are editor"),
        ("admin", Role.admin, Role.admin),
        ("admin", Role.viewer, Role.admin),
    ],
)
def test_require_compares_role_ranks(rows, person, need, answer):
    user = getattr(rows, person)
    if isinstance(answer, Role):
        assert require(user, rows.ws, need) is answer
    else:
        with pytest.raises(Forbidden) as refused:
            require(user, rows.ws, need)
        assert str(refused.value) == answer


@pytest.mark.parametrize("person", ["outsider", None])
def test_outsiders_and_anonymous_callers_do_not_see_the_workspace(rows, person):
    user = getattr(rows, person) if person else None
    with pytest.raises(NotFound, match="^workspace not found$"):
        require(user, rows.ws, Role.viewer)
    with pytest.raises(NotFound, match="^workspace not found$"):
        get_workspace(user, "acme")


def test_workspaces_of_lists_memberships_by_name(rows):
    _member("admin@x.example", rows.other, "viewer")
    _member("admin@x.example", _workspace("aaa"), "editor")
    listed = [(ws.code, role) for ws, role in workspaces_of(rows.admin)]
    assert listed == [("aaa", Role.editor), ("acme", Role.admin), ("beta", Role.viewer)]
    assert [ws.code for ws, _ in workspaces_of(rows.outsider)] == ["beta"]


# --- lookups by id or code -------------------------------------------------------------------


def test_a_workspace_is_found_by_id_or_code(rows):
    assert get_workspace(rows.viewer, "acme") == rows.ws
    assert get_workspace(rows.viewer, rows.ws.id) == rows.ws
    assert get_workspace(rows.viewer, str(rows.ws.id)) == rows.ws
    assert get_workspace(rows.editor, "acme", Role.editor) == rows.ws
    with pytest.raises(Forbidden):
        get_workspace(rows.viewer, "acme", Role.editor)
    for missing in ["nope", 999_999, str(MAX_ROW_ID), str(MAX_ROW_ID + 1), "9" * 40]:
        with pytest.raises(NotFound, match="^workspace not found$"):
            get_workspace(rows.viewer, missing)


def test_a_workspace_whose_code_is_digits_is_looked_up_by_id(rows):
    digits = _workspace(str(rows.other.id))  # e.g. code "2", id 3
    _member("viewer@x.example", digits, "viewer")
    _member("viewer@x.example", rows.other, "viewer")
    assert get_workspace(rows.viewer, str(rows.other.id)) == rows.other


def test_a_job_is_found_by_id_or_code_in_its_workspace_only(rows):
    assert get_job(rows.ws, rows.job.code, rows.viewer) == rows.job
    assert get_job(rows.ws, rows.job.id, rows.viewer) == rows.job
    assert get_job(rows.ws, str(rows.job.id), rows.viewer) == rows.job
    assert get_job(rows.ws, rows.job.code, rows.editor, Role.editor) == rows.job
    for elsewhere in [rows.other_job.id, str(MAX_ROW_ID + 1), "nope"]:
        with pytest.raises(NotFound, match="^job not found$"):
            get_job(rows.ws, elsewhere, rows.viewer)
    with pytest.raises(Forbidden, match="^this needs the editor role; you are viewer$"):
        get_job(rows.ws, rows.job.code, rows.viewer, Role.editor)
    with pytest.raises(NotFound, match="^workspace not found$"):
        get_job(rows.ws, rows.job.code, rows.outsider)


def test_a_run_is_found_in_its_workspace_and_job_only(rows):
    assert get_run(rows.ws, rows.run.id, rows.viewer) == rows.run
    assert get_run(rows.ws, rows.run.id, rows.viewer, job=rows.job) == rows.run
    assert get_run(rows.ws, rows.run.id, rows.editor, Role.editor) == rows.run
    second_job = _job(rows.ws, "letters")
    for run_id, job in [
        (rows.other_run.id, None),
        (rows.other_run.id, rows.other_job),
        (rows.run.id, second_job),
        (999_999, None),
    ]:
        with pytest.raises(NotFound, match="^run not found$"):
            get_run(rows.ws, run_id, rows.viewer, job=job)
    with pytest.raises(Forbidden):
        get_run(rows.ws, rows.run.id, rows.viewer, Role.editor)
    with pytest.raises(NotFound, match="^workspace not found$"):
        get_run(rows.ws, rows.run.id, rows.outsider)


def test_an_entry_is_found_in_its_run_with_artifacts_and_deliveries_loaded(rows):
    entry = get_entry(rows.run, rows.entry.id)
    assert entry.id == rows.entry.id
    db.session.expire_all()
    entry = get_entry(rows.run, rows.entry.id)
    assert {"artifacts", "deliveries"}.isdisjoint(inspect(entry).unloaded)
    assert [a.filename for a in entry.artifacts] == ["r.pdf"]
    assert [d.id for d in entry.deliveries] == [rows.delivery.id]
    for run, entry_id in [(rows.run, rows.other_entry.id), (rows.other_run, rows.entry.id)]:
        with pytest.raises(NotFound, match="^entry not found$"):
            get_entry(run, entry_id)


def test_a_delivery_is_found_with_its_run_and_entry_in_its_workspace_only(rows):
    run, entry, delivery = get_delivery(rows.ws, rows.delivery.id, rows.viewer)
    assert (run.id, entry.id, delivery.id) == (rows.run.id, rows.entry.id, rows.delivery.id)
    assert get_delivery(rows.ws, rows.delivery.id, rows.editor, Role.editor)[2] == delivery
    for missing in [rows.other_delivery.id, 999_999]:
        with pytest.raises(NotFound, match="^delivery not found$"):
            get_delivery(rows.ws, missing, rows.viewer)
    with pytest.raises(Forbidden):
        get_delivery(rows.ws, rows.delivery.id, rows.viewer, Role.editor)
    with pytest.raises(NotFound, match="^workspace not found$"):
        get_delivery(rows.ws, rows.delivery.id, rows.outsider)


# --- a run of a job in one query (the polled API endpoints) ----------------------------------


def test_job_run_params_say_by_id_or_code(rows):
    assert job_run_params(7, "stmts", 5) == (
        False,
        {"run_id": 5, "workspace_id": 7, "job": "stmts"},
    )
    assert job_run_params(7, "12", 5) == (True, {"run_id": 5, "workspace_id": 7, "job": 12})
    assert job_run_params(7, 12, MAX_ROW_ID) == (
        True,
        {"run_id": MAX_ROW_ID, "workspace_id": 7, "job": 12},
    )
    assert job_run_params(7, str(MAX_ROW_ID), 5)[1]["job"] == MAX_ROW_ID
    for job, run_id in [(str(MAX_ROW_ID + 1), 5), ("12", MAX_ROW_ID + 1)]:
        with pytest.raises(NotFound, match="^run not found$"):
            job_run_params(7, job, run_id)


def test_find_job_run_by_id_or_code(rows):
    for job in [rows.job.code, rows.job.id, str(rows.job.id)]:
        assert find_job_run(rows.ws.id, job, rows.run.id) == (rows.job, rows.run)
    for workspace_id, job, run_id in [
        (rows.other.id, rows.job.code, rows.run.id),  # another workspace
        (rows.ws.id, rows.job.code, rows.other_run.id),  # another job's run
        (rows.other.id, rows.other_job.id, rows.run.id),
        (rows.ws.id, rows.other_job.id, rows.other_run.id),
        (rows.ws.id, "nope", rows.run.id),
        (rows.ws.id, rows.job.code, MAX_ROW_ID + 1),
    ]:
        with pytest.raises(NotFound, match="^run not found$"):
            find_job_run(workspace_id, job, run_id)


def test_job_run_queries_narrow_any_statement_to_one_run_of_one_job(rows):
    queries = job_run_queries(select(Run.id).join(Job, Job.id == Run.job_id))
    found = {
        (by_id, job, workspace_id, run_id): db.session.execute(
            queries[by_id], {"job": job, "workspace_id": workspace_id, "run_id": run_id}
        ).scalar_one_or_none()
        for by_id, job in [(True, rows.job.id), (False, rows.job.code)]
        for workspace_id in [rows.ws.id, rows.other.id]
        for run_id in [rows.run.id, rows.other_run.id]
    }
    assert {key: run_id for key, run_id in found.items() if run_id is not None} == {
        (True, rows.job.id, rows.ws.id, rows.run.id): rows.run.id,
        (False, rows.job.code, rows.ws.id, rows.run.id): rows.run.id,
    }
