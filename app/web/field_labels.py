"""Human names for the wizard's error keys, for the summary above a step's form.

Job validation (app/jobs) keys its errors by the definition's path (`reports.0.table_sections`,
`deliveries.1.to`, `schedule.day`); the field itself shows its message beside it, but the
summary at the top of a step named the raw path, which a person cannot map to a field. This
names it the way the form labels it ("Report 1 · Data sections for CSV / Excel").
"""

from __future__ import annotations

# Repeated parts of a job, as the wizard's fieldsets number them (1-based).
_SECTIONS = {
    "parameters": "Parameter",
    "data_sources": "Data source",
    "reports": "Report",
    "deliveries": "Delivery",
}

# Field names whose form label is not the name with spaces (the labels of the step templates).
_FIELDS = {
    "name": "Name",
    "code": "Code",
    "error_notice_to": "Error notice addresses",
    "scheduled": "Enable scheduled generation",
    "hold_for_review": "Hold deliveries for review",
    "source": "Data source",
    "repeating": "Repeating",
    "template": "Template",
    "filename": "File name",
    "table_sections": "Data sections for CSV / Excel",
    "to": "To",
    "cc": "CC",
    "bcc": "BCC",
    "message": "Message (HTML)",
    "condition": "Delivery condition",
    "attachment_name": "Attachment file name",
    "url": "URL",
    "secret_connection": "Signing secret",
    "timeout_seconds": "Timeout (seconds)",
    "folder_id": "Folder ID",
    "timezone": "Time zone",
    "start": "Start date",
    "until": "Until date",
    "day": "Day of the month",
    "occurrence": "At which occurrence of an allowed day",
    "shift": "If the date is not a business day",
    "cron": "Cron expression",
    "misfire_grace_minutes": "Misfire grace (minutes)",
}

# Whole keys whose label depends on where they stand.
_WHOLE = {"name": "Job name", "schedule": "Schedule"}


def field_label(key: str) -> str:
    """Name an error key as the form labels it.

    `key` is a dotted path from job validation: `name` → "Job name",
    `reports.0.table_sections` → "Report 1 · Data sections for CSV / Excel",
    `reports.0.bindings.customerId` → "Report 1 · Binding of customerId",
    `schedule.day` → "Schedule · Day of the month". An unknown part is shown with its
    underscores as spaces, first letter capitalized. Never raises; an empty key gives "".
    """
    if key in _WHOLE:
        return _WHOLE[key]
    parts = [part for part in key.split(".") if part]
    names: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        if part in _SECTIONS and following is not None and following.isdigit():
            names.append(f"{_SECTIONS[part]} {int(following) + 1}")
            index += 2
        elif part == "bindings" and following is not None:
            names.append(f"Binding of {following}")  # the parameter's own name, as written
            index += 2
        else:
            names.append(_FIELDS.get(part) or part.replace("_", " ").capitalize())
            index += 1
    return " · ".join(names)
