"""Reading the wizard's HTML forms into the definition's JSON shape (no validation here)."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

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
    """The list after an add / remove-N / up-N button; unchanged for other actions."""
    name, _, index = action.partition("-")
    if name == "add":
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
                "filename": form.get(f"r-{i}-filename", "").strip() or "{report.code}.pdf",
            }
        )
    return {"reports": reports_out}


DELIVERY_FIELDS = (
    "connection",
    "from",
    "reply_to",
    "to",
    "cc",
    "bcc",
    "subject",
    "message",
    "attachment_name",
)


def deliveries(form: MultiDict) -> dict[str, Any]:
    rows = _rows(form, "d", DELIVERY_FIELDS)
    return {
        "deliveries": [
            {
                "kind": "email",
                **{k: v for k, v in r.items() if k != "connection"},
                "connection": r["connection"] or None,
            }
            for r in rows
        ]
    }


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
        rule["until"] = form.get("until", "").strip() or None
        rule["days"] = [d for d in WEEKDAYS if form.get(f"day-{d}") == "on"]
        if trigger in ("monthly", "yearly"):
            occurrence = form.get("occurrence", "").strip()
            rule["occurrence"] = _number(occurrence)
            rule["from_end"] = form.get("from_end") == "on"
            rule["day"] = None if occurrence else _number(form.get("day", "").strip())
        if trigger == "yearly":
            rule["month"] = _number(form.get("month", "").strip())
    values["schedule"] = rule
    return values


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
    "reports": ("reports", {"template": "", "bindings": {}, "filename": "{report.code}.pdf"}),
    "deliveries": ("deliveries", {"kind": "email", "to": "", "subject": "", "message": ""}),
}
