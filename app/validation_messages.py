"""Validation errors in the words of the person who made them, not of the validator.

One mapping from pydantic's error types to sentences ("Job name is required", "Add at
least one report", "Code may use lowercase letters, digits and -"), used by the wizard's
forms, the JSON API's error `details`, `jobs import` and the schedule rule alike. A field's
label comes from its path (`deliveries.0.subject` → "Subject"). Messages that validators
already wrote for people (ValueError texts) pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

# The two identifier shapes of definitions, and how to say what they allow.
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
PATTERN_RULES = {
    CODE_PATTERN: "may use lowercase letters, digits and - (at most 64, not starting with -)",
    IDENTIFIER_PATTERN: "may use letters, digits and _ (at most 64, not starting with a digit)",
}

# Field labels by path (`*` is one part: a list index or a key). First match wins.
LABELS: tuple[tuple[str, str], ...] = (
    ("name", "Job name"),
    ("parameters.*.name", "Parameter name"),
    ("parameters.*.type", "Parameter type"),
    ("parameters.*.label", "Parameter label"),
    ("parameters.*.default", "Default"),
    ("data_sources.*.alias", "Alias"),
    ("data_sources.*.source", "Data source"),
    ("reports.*.template", "Template"),
    ("reports.*.filename", "File name"),
    ("reports.*.bindings.*", "Binding"),
    ("deliveries.*.kind", "Delivery kind"),
    ("deliveries.*.from", "From"),
    ("deliveries.*.to", "To"),
    ("deliveries.*.cc", "CC"),
    ("deliveries.*.bcc", "BCC"),
    ("deliveries.*.url", "URL"),
    ("deliveries.*.timeout_seconds", "Timeout"),
    ("deliveries.*.folder_id", "Folder ID"),
    ("deliveries.*.filename", "File name pattern"),
    ("deliveries.*", "Delivery"),
    ("misfire_grace_seconds", "Misfire grace"),
    ("params", "Parameters"),
    ("params.*", "Parameter"),
    ("webhook.url", "Webhook URL"),
    ("webhook.secretConnection", "Webhook secret connection"),
    ("webhook", "Completion webhook"),
)
# What one item of a list field is called, for "Add at least one report".
ITEM_NOUNS = {
    "reports": "report",
    "deliveries": "delivery",
    "parameters": "parameter",
    "data_sources": "data source",
    "days": "weekday",
}
# Members of plain (undiscriminated) unions, as the shapes a person may write.
UNION_SHAPES = {
    "ParamBinding": '{"param": <job parameter>}',
    "ColumnBinding": '{"column": <column of the repeating row>}',
    "ValueBinding": '{"value": <fixed value>}',
}
_NUMBER_WORDS = {1: "one", 2: "two", 3: "three"}


def field_label(path: str) -> str:
    """The label a person knows a field by: "deliveries.0.subject" → "Subject"."""
    parts = path.split(".")
    for pattern, label in LABELS:
        wanted = pattern.split(".")
        if len(wanted) == len(parts) and all(
            w in ("*", p) for w, p in zip(wanted, parts, strict=True)
        ):
            return label
    leaf = next((p for p in reversed(parts) if p and not p.isdigit()), "")
    if not leaf:
        return "This value"
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", leaf).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower()


def message_for(error: ErrorDetails, path: str) -> str:
    """One pydantic error as a sentence about the field at `path`."""
    kind, ctx = error["type"], error.get("ctx") or {}
    label = field_label(path)
    if kind in ("value_error", "assertion_error"):
        return _people_text(error)
    if kind == "missing":
        return f"{label} is required"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return f"{label} is required" if n == 1 else f"{label} needs at least {n} characters"
    if kind == "string_too_long":
        return f"{label} may be at most {ctx.get('max_length')} characters long"
    if kind == "string_pattern_mismatch":
        rule = PATTERN_RULES.get(str(ctx.get("pattern")), "has characters that are not allowed")
        return f"{label} {rule}"
    if kind == "too_short":
        return _too_short(path, label, int(ctx.get("min_length", 1)))
    if kind == "too_long":
        return f"{label} may hold at most {ctx.get('max_length')} items"
    if kind == "union_tag_invalid":
        expected = ctx.get("expected_tags", "")
        return f"{label} has an unknown kind '{ctx.get('tag')}'; use one of {expected}"
    if kind == "union_tag_not_found":
        return f"{label} needs a {str(ctx.get('discriminator', 'kind')).strip(chr(39))}"
    if kind == "extra_forbidden":
        leaf = path.rsplit(".", 1)[-1]
        return f"Unknown field '{leaf}'"
    if kind == "json_invalid":
        return f"Not valid JSON: {ctx.get('error', 'cannot be read')}"
    comparison = _comparison(kind, ctx)
    if comparison:
        return f"{label} must be {comparison}"
    return f"{label} {_TYPE_RULES.get(kind, 'is not valid')}"


_TYPE_RULES = {
    "string_type": "must be text",
    "string_sub_type": "must be text",
    "string_unicode": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing_size": "is too large a number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be an object ({…})",
    "model_type": "must be an object ({…})",
    "model_attributes_type": "must be an object ({…})",
    "mapping_type": "must be an object ({…})",
    "list_type": "must be a list ([…])",
    "tuple_type": "must be a list ([…])",
    "set_type": "must be a list ([…])",
    "iterable_type": "must be a list ([…])",
    "none_required": "must be empty (null)",
    "json_type": "must be JSON text",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date without a time",
    "datetime_type": "must be a date and time (YYYY-MM-DDTHH:MM)",
    "datetime_parsing": "must be a date and time (YYYY-MM-DDTHH:MM)",
    "datetime_from_date_parsing": "must be a date and time (YYYY-MM-DDTHH:MM)",
    "url_type": "must be a URL",
    "url_parsing": "must be a URL",
    "url_scheme": "must be an http:// or https:// URL",
    "enum": "is not one of the allowed values",
}


def _comparison(kind: str, ctx: Mapping[str, Any]) -> str | None:
    if kind == "greater_than_equal":
        return f"{ctx.get('ge')} or more"
    if kind == "greater_than":
        return f"more than {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"{ctx.get('le')} or less"
    if kind == "less_than":
        return f"less than {ctx.get('lt')}"
    if kind in ("literal_error", "enum"):
        return f"one of {ctx.get('expected')}"
    return None


def _too_short(path: str, label: str, n: int) -> str:
    noun = ITEM_NOUNS.get(path.rsplit(".", 1)[-1])
    if noun is None:
        return f"{label} needs at least {n} item{'s' if n != 1 else ''}"
    return f"Add at least {_NUMBER_WORDS.get(n, n)} {noun}{'s' if n != 1 else ''}"


def _people_text(error: ErrorDetails) -> str:
    """A validator's own message: already written for people, minus pydantic's prefix."""
    return re.sub(r"^(Value error|Assertion failed), ", "", error["msg"])


def field_messages(exc: ValidationError, data: Any = None, prefix: str = "") -> dict[str, str]:
    """Every error of `exc` as {"field.path": "sentence"}, the first per field, in order.

    `data` is the validated input: with it, the tags pydantic puts into error locations
    (a discriminated union's kind, a plain union's member) are told apart from field names
    and dropped. A validator message of the form "field.path: problem" names its own field
    below the error's location. `prefix` is put before every path (a part validated alone).
    """
    errors: dict[str, str] = {}
    for error in exc.errors():
        path, member = _path(error["loc"], data)
        if member:  # no member of a plain union fit: say which shapes would
            message = f"{field_label(path)} must be one of {', '.join(UNION_SHAPES.values())}"
        else:
            message = message_for(error, path)
            own = re.match(r"^([\w.]+): (.*)$", message) if error["type"] == "value_error" else None
            if own:
                path, message = ".".join(p for p in (path, own[1]) if p), own[2]
        full = ".".join(p for p in (prefix, path) if p)
        errors.setdefault(full, message)
    return errors


def _path(loc: tuple[Any, ...], data: Any) -> tuple[str, bool]:
    """The field path of an error location, and whether it is a plain union's member."""
    parts: list[str] = []
    node = data
    for i, segment in enumerate(loc):
        last = i == len(loc) - 1
        if _has(node, segment):
            node = node[segment]
        elif isinstance(segment, str) and segment in UNION_SHAPES:
            return ".".join(parts), True
        elif data is not None and not last and isinstance(node, Mapping):
            continue  # a discriminator's tag: not a key of the input
        else:
            node = None
        parts.append(str(segment))
    return ".".join(parts), False


def _has(node: Any, segment: Any) -> bool:
    if isinstance(node, Mapping):
        return segment in node
    return isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)


# Pydantic validation-context key: the definition being read was accepted when it was saved (a
# run's snapshot), so save-time-only checks (private webhook addresses) are not applied again.
SAVED_DEFINITION = "saved_definition"
