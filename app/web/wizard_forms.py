"""Reading the wizard's HTML forms into the definition's JSON shape (no validation here)."""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.datastructures import MultiDict

from app.jobs.channels import DEFAULT_DRIVE_FILENAME, TEMPLATED_FIELDS
from app.jobs.schema import DEFAULT_REPORT_FILENAME
from app.scheduling import country_names, subdivision_names

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BINDING_KINDS = ("param", "column", "value")


def _rows(form: MultiDict, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """Indexed rows `prefix-0-field`, `prefix-1-field`, … in index order; blank rows dropped."""
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith(f"{prefix}-") and key.split("-")[1].isdigit()
        }
    )
    rows = []
    for i in indexes:
        row = {f: form.get(f"{prefix}-{i}-{f}", "").strip() for f in fields}
        if any(row.values()):
            rows.append(row)
    return rows


def apply_row_action(items: list[Any], action: str, blank: Any) -> list[Any]:
    """The list after an add / remove-N / up-N button; unchanged for other actions.

    In the Deliveries step (`blank` is a delivery) `add-<kind>` appends a blank delivery of
    that kind (`BLANK_DELIVERIES`); plain `add` appends `blank`."""
    name, _, index = action.partition("-")
    if name == "add":
        if index and _is_delivery(blank):
            if index not in BLANK_DELIVERIES:
                return items
            return [*items, copy.deepcopy(BLANK_DELIVERIES[index])]
        return [*items, blank]
    if not index.isdigit() or int(index) >= len(items):
        return items
    i = int(index)
    if name == "remove":
        return items[:i] + items[i + 1 :]
    if name == "up" and i > 0:
        items = list(items)
        items[i - 1], items[i] = items[i], items[i - 1]
    return items


def _number(text: str) -> int | str | None:
    """An integer field: int when it is one, the text itself (to be reported) otherwise."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def configuration(form: MultiDict) -> dict[str, Any]:
    return {
        "name": form.get("name", "").strip(),
        "code": form.get("code", "").strip(),
        "description": form.get("description", "").strip(),
        "scheduled": form.get("scheduled") == "on",
        "hold_for_review": form.get("hold_for_review") == "on",
        "error_notice": form.get("error_notice", "owner"),
        "error_notice_to": form.get("error_notice_to", "").strip(),
    }


def parameters(form: MultiDict) -> dict[str, Any]:
    rows = _rows(form, "p", ("name", "type", "label", "default"))
    return {
        "parameters": [
            {
                "name": r["name"],
                "type": r["type"] or "string",
                "label": r["label"],
                "default": r["default"] or None,
            }
            for r in rows
        ]
    }


def data_sources(form: MultiDict) -> dict[str, Any]:
    rows = _rows(form, "ds", ("alias", "source", "repeating"))
    return {
        "data_sources": [
            {"alias": r["alias"], "source": r["source"], "repeating": r["repeating"] == "on"}
            for r in rows
            if r["alias"] or r["source"]
        ]
    }


def reports(form: MultiDict) -> dict[str, Any]:
    reports_out = []
    indexes = sorted(
        {int(k.split("-")[1]) for k in form if k.startswith("r-") and k.split("-")[1].isdigit()}
    )
    for i in indexes:
        template = form.get(f"r-{i}-template", "").strip()
        if not template:
            continue
        bindings: dict[str, Any] = {}
        for key in form:
            prefix = f"r-{i}-b-"
            if key.startswith(prefix) and key.endswith("-kind"):
                param = key[len(prefix) : -len("-kind")]
                kind = form.get(key)
                value = form.get(f"{prefix}{param}-value", "")
                if kind in BINDING_KINDS and value != "":
                    bindings[param] = {kind: value}
        reports_out.append(
            {
                "template": template,
                "bindings": bindings,
                "filename": form.get(f"r-{i}-filename", "").strip() or DEFAULT_REPORT_FILENAME,
                **_outputs(form, i),
            }
        )
    return {"reports": reports_out}


# The delimiter select's values: a tab cannot travel as an <option> value a person reads.
DELIMITER_CHOICES = {"comma": ",", "semicolon": ";", "tab": "\t"}


def _outputs(form: MultiDict, i: int) -> dict[str, Any]:
    """A report's formats, data sections and CSV options (docs/OUTPUTS.md) from its panel;
    a form without the panel (an older page) keeps the PDF only."""
    if not form.get(f"r-{i}-outputs"):
        return {"formats": ["pdf"]}
    delimiter = form.get(f"r-{i}-csv-delimiter", "comma")
    return {
        "formats": form.getlist(f"r-{i}-format"),
        "table_sections": form.getlist(f"r-{i}-section"),
        "csv": {
            # an unknown choice is kept as typed, for the check to refuse beside the field
            "delimiter": DELIMITER_CHOICES.get(delimiter, delimiter),
            "bom": form.get(f"r-{i}-csv-bom") == "on",
        },
    }


DELIVERY_FIELDS = ("connection", *TEMPLATED_FIELDS["email"])
# The form fields of each delivery kind's panel (`d-<i>-<field>`, named as the model's
# fields), besides `kind`, `name` (hidden, kept as it was) and `condition`.
CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    "webhook": ("url", "secret_connection", "include_pdf", "timeout_seconds"),
    "slack": ("webhook_connection", "text"),
    "teams": ("webhook_connection", "title", "text"),
    "drive": ("service_account", "folder_id", "filename"),
}
# What "Add <kind>" appends: the values a new panel shows.
BLANK_DELIVERIES: dict[str, dict[str, Any]] = {
    "email": {"kind": "email", "to": "", "subject": "", "message": ""},
    "webhook": {
        "kind": "webhook",
        "url": "",
        "secret_connection": None,
        "include_pdf": True,
        "timeout_seconds": 10,
        "condition": "",
    },
    "slack": {"kind": "slack", "webhook_connection": "", "text": "", "condition": ""},
    "teams": {"kind": "teams", "webhook_connection": "", "title": "", "text": "", "condition": ""},
    "drive": {
        "kind": "drive",
        "service_account": "",
        "folder_id": "",
        "filename": DEFAULT_DRIVE_FILENAME,
        "condition": "",
    },
}


def _is_delivery(blank: Any) -> bool:
    return isinstance(blank, dict) and blank.get("kind") in BLANK_DELIVERIES


def _decimal(text: str) -> int | float | str | None:
    """A number field that may be fractional: int or float, the text itself otherwise."""
    number = _number(text)
    if not isinstance(number, str):
        return number
    try:
        return float(text)
    except ValueError:
        return text


def _delivery(form: MultiDict, i: int) -> dict[str, Any]:
    """Delivery `i` of the form in the definition's shape."""

    def text(field: str) -> str:
        # Browsers send textarea line breaks as CRLF; store what the author typed.
        return form.get(f"d-{i}-{field}", "").replace("\r\n", "\n").strip()

    kind = form.get(f"d-{i}-kind", "").strip() or "email"
    name, condition = text("name"), text("condition")
    if kind == "email":
        row = {f: form.get(f"d-{i}-{f}", "").strip() for f in DELIVERY_FIELDS}
        delivery: dict[str, Any] = {
            "kind": "email",
            **{k: v for k, v in row.items() if k != "connection"},
            "connection": row["connection"] or None,
            "condition": condition,
        }
    elif kind == "webhook":
        include_pdf = form.get(f"d-{i}-include_pdf") == "on"
        timeout = text("timeout_seconds")
        delivery = {
            "kind": kind,
            "url": text("url"),
            "secret_connection": text("secret_connection") or None,
            "include_pdf": include_pdf,
            "condition": condition,
        }
        if timeout:
            delivery["timeout_seconds"] = _decimal(timeout)
    elif kind in CHANNEL_FIELDS:
        delivery = {"kind": kind, **{f: text(f) for f in CHANNEL_FIELDS[kind]}}
        delivery["condition"] = condition
        if kind == "drive":
            delivery["filename"] = delivery["filename"] or DEFAULT_DRIVE_FILENAME
    else:  # a kind this form does not know: keep it for the check to report
        delivery = {"kind": kind, "condition": condition}
    if name:
        delivery["name"] = name
    return delivery


def deliveries(form: MultiDict) -> dict[str, Any]:
    """Every delivery panel (`d-<i>-…`, in index order) in the shape of its kind's model.

    A panel left empty is kept like any other: saving the step then says beside its
    fields what is missing, and its Remove button takes it away. Nothing a person added
    disappears unasked."""
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("d-") and key.split("-")[1].isdigit()
        }
    )
    return {"deliveries": [_delivery(form, i) for i in indexes]}


def schedule(form: MultiDict) -> dict[str, Any]:
    grace = _number(form.get("misfire_grace_minutes", "60").strip())
    values: dict[str, Any] = {
        "misfire_grace_seconds": grace * 60 if isinstance(grace, int) else 3600
    }
    start_date = form.get("start_date", "").strip()
    if not start_date:
        values["schedule"] = None
        return values
    trigger = form.get("trigger", "monthly")
    rule: dict[str, Any] = {
        "start": f"{start_date}T{form.get('start_time', '00:00').strip() or '00:00'}",
        "timezone": form.get("timezone", "").strip() or "UTC",
        "trigger": trigger,
    }
    if trigger == "cron":
        rule["cron"] = form.get("cron", "").strip()
    elif trigger != "once":
        rule["every"] = _number(form.get("every", "1").strip()) or 1
        # Until is "Forever" or a date, chosen explicitly: Forever drops a date left in the
        # field, and "Until date" without one stays "" so the check says a date is missing.
        mode, until = form.get("until_mode"), form.get("until", "").strip()
        rule["until"] = None if mode == "forever" else (until if mode == "date" else until or None)
        rule["days"] = [d for d in WEEKDAYS if form.get(f"day-{d}") == "on"]
        if trigger in ("monthly", "yearly"):
            occurrence = form.get("occurrence", "").strip()
            rule["occurrence"] = _number(occurrence)
            rule["from_end"] = form.get("from_end") == "on"
            rule["day"] = None if occurrence else _number(form.get("day", "").strip())
            rule["shift"] = None if occurrence else (form.get("shift", "").strip() or None)
        if trigger == "yearly":
            rule["month"] = _number(form.get("month", "").strip())
    if trigger != "once":
        rule["holidays"] = _holidays(form)
    values["schedule"] = rule
    return values


def _holidays(form: MultiDict) -> dict[str, Any] | None:
    """The "Public holidays" pickers as the rule's `holidays`; a country typed by name
    ('Germany') becomes its code, anything unknown is passed on for validation to name."""
    country = form.get("holiday_country", "").strip()
    if not country:
        return None
    by_name = {name.casefold(): code for code, name in country_names().items()}
    country = by_name.get(country.casefold(), country)
    subdivision = form.get("holiday_subdivision", "").strip()
    if subdivision:
        names = {name.casefold(): code for code, name in subdivision_names(country).items()}
        subdivision = names.get(subdivision.casefold(), subdivision)
    return {"country": country, "subdivision": subdivision or None}


PARSERS = {
    "configuration": configuration,
    "parameters": parameters,
    "data-sources": data_sources,
    "reports": reports,
    "schedule": schedule,
    "deliveries": deliveries,
}
BLANK_ROWS = {
    "parameters": ("parameters", {"name": "", "type": "string", "label": "", "default": None}),
    "data-sources": ("data_sources", {"alias": "", "source": "", "repeating": False}),
    "reports": (
        "reports",
        {"template": "", "bindings": {}, "filename": DEFAULT_REPORT_FILENAME, "formats": ["pdf"]},
    ),
    "deliveries": ("deliveries", BLANK_DELIVERIES["email"]),
}
