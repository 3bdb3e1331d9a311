"""`{alias.column}`, `{params.name}`, `{data.key}` substitution in deliveries and file names."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# Namespaces placeholders use besides data source aliases; an alias may not take them.
RESERVED_ALIASES = frozenset({"params", "data", "report", "run", "entry", "narrative"})
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\}")


class PlaceholderError(ValueError):
    """A placeholder that names nothing; the delivery using it fails with this message."""


def placeholder_values(
    *,
    params: Mapping[str, Any],
    data: Mapping[str, Any],
    repeating_alias: str | None = None,
    row: Mapping[str, Any] | None = None,
    shared: Mapping[str, list[Mapping[str, Any]]] | None = None,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Mapping[str, Any]]:
    """The namespaces placeholders resolve against; a shared source resolves to its first row."""
    values: dict[str, Mapping[str, Any]] = {}
    for alias, rows in (shared or {}).items():
        values[alias] = rows[0] if rows else {}
    if repeating_alias is not None:
        values[repeating_alias] = row or {}
    values.update(extra or {})
    values["params"] = params
    values["data"] = data
    return values


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def placeholder_text(namespace: str, key: str, values: Mapping[str, Mapping[str, Any]]) -> str:
    """The text of one placeholder's value; PlaceholderError if it names nothing."""
    scope = values.get(namespace)
    if scope is None or key not in scope:
        raise PlaceholderError(f"unknown placeholder {{{namespace}.{key}}}")
    return _text(scope[key])


def substitute(
    template: str,
    values: Mapping[str, Mapping[str, Any]],
    escape: Callable[[str], str] | None = None,
) -> str:
    """Replace every placeholder; an unknown one raises PlaceholderError naming it."""

    def replace(match: re.Match[str]) -> str:
        text = placeholder_text(*match.groups(), values)
        return escape(text) if escape else text

    return PLACEHOLDER.sub(replace, template or "")


def unknown_placeholders(template: str, known: Mapping[str, set[str] | None]) -> list[str]:
    """Placeholders that would not resolve; `None` for a namespace means any key is fine."""
    bad = []
    for match in PLACEHOLDER.finditer(template or ""):
        namespace, key = match.groups()
        if namespace not in known or known[namespace] is not None and key not in known[namespace]:
            bad.append(match.group(0))
    return bad
