"""Rendering one report for one entry: bind parameters, fetch its data, HTML, PDF."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from app.datasources.fetch import fetch_rows
from app.datasources.parameters import coerce_value
from app.rendering.environment import render_html
from app.rendering.narrative import narrative_context, wants_summary, write_narrative
from app.rendering.pdf import RenderedPdf, html_to_pdf


class BindingError(ValueError):
    """A report parameter that could not get its value from its binding."""


def bind_parameters(
    bindings: Mapping[str, Mapping[str, Any]],
    template: Mapping[str, Any],
    params: Mapping[str, Any],
    row: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Values of the template's parameters from a report's bindings, typed as declared.

    `bindings` has the job definition's JSON shape (`ReportRef.bindings` dumped): each
    parameter name maps to `{"param": name}`, `{"column": name}` or `{"value": literal}`.
    BindingError names a missing column or a required parameter left without a value.
    """
    values: dict[str, Any] = {}
    for name, binding in bindings.items():
        if "param" in binding:
            values[name] = params.get(binding["param"])
        elif "column" in binding:
            column = binding["column"]
            if row is None or column not in row:
                raise BindingError(f"parameter '{name}': the row has no column '{column}'")
            values[name] = row[column]
        else:
            values[name] = binding["value"]
    for declared in template.get("parameters", []):
        name = declared["name"]
        if values.get(name) is None:
            if declared.get("required", True):
                raise BindingError(f"parameter '{name}' of '{template['code']}' has no value")
            continue
        try:
            values[name] = coerce_value(declared.get("type", "string"), values[name])
        except ValueError as exc:
            raise BindingError(f"parameter '{name}': {exc}") from None
    return values


def fetch_own_data(
    template: Mapping[str, Any],
    sources: Mapping[str, Mapping[str, Any]],
    binds: Mapping[str, Any],
) -> dict[str, list[dict[str, Any]]]:
    """The rows of each of the template's own data sources, by alias, fetched with `binds`
    (source snapshots by code in `sources`). Raises what `fetch_rows` raises (QueryError…)."""
    return {
        ref["alias"]: fetch_rows(sources[ref["source"]], binds)
        for ref in template.get("data_sources", [])
    }


def render_with_data(
    template: Mapping[str, Any],
    own_data: Mapping[str, list[dict[str, Any]]],
    report_params: Mapping[str, Any],
    context: Mapping[str, Any],
    workspace_id: int,
    *,
    summarise: bool = True,
    stand_in: str = "",
) -> RenderedPdf:
    """Render the template in the sandbox with its fetched data sections, then the PDF.

    The summary (if the template asks and `summarise`) is written from `own_data` first;
    see render_report_pdf."""
    narrative = None
    if summarise and wants_summary(template):
        narrative = write_narrative(template, own_data, report_params)
    values = {**context, **own_data, "params": dict(report_params)}
    values["narrative"] = narrative_context(narrative, stand_in if wants_summary(template) else "")
    rendered = html_to_pdf(
        render_html(template["html"], values), template.get("css", ""), workspace_id
    )
    return replace(rendered, narrative=narrative)


def render_report_pdf(
    template: Mapping[str, Any],
    sources: Mapping[str, Mapping[str, Any]],
    report_params: Mapping[str, Any],
    context: Mapping[str, Any],
    binds: Mapping[str, Any],
    workspace_id: int,
    *,
    summarise: bool = True,
    stand_in: str = "",
) -> RenderedPdf:
    """Fetch the template's own data with its parameters as binds, render it, return the PDF
    with the characters no installed font could draw.

    When the template's summary is on and `summarise` is true, the configured model writes
    `narrative.text` from that data first (docs/SUMMARY.md; a failure leaves it empty and
    the RenderedPdf's `narrative` carries the warning). Otherwise `narrative.text` is
    `stand_in` (the preview's placeholder) or empty."""
    own_data = fetch_own_data(template, sources, {**binds, **report_params})
    return render_with_data(
        template,
        own_data,
        report_params,
        context,
        workspace_id,
        summarise=summarise,
        stand_in=stand_in,
    )
