"""Rendering one report for one entry: bind parameters, fetch its data, HTML, PDF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.datasources.fetch import fetch_rows
from app.datasources.parameters import coerce_value
from app.rendering.environment import render_html
from app.rendering.narrative import narrative_context, wants_summary, write_narrative
from app.rendering.pdf import RenderedPdf, html_to_pdf
from app.rendering.tables import rows_to_csv, rows_to_xlsx


class BindingError(ValueError):
    """A report parameter that could not get its value from its binding."""


class SectionError(ValueError):
    """A data section picked for a CSV or XLSX file that the template does not have."""


@dataclass(frozen=True)
class TableOptions:
    """What a report's CSV and XLSX files hold (`app.jobs.schema.ReportRef`): the template's
    data sections (aliases) whose rows they take, and the CSV's delimiter and BOM."""

    sections: Sequence[str] = ()
    delimiter: str = ","
    bom: bool = False


@dataclass
class RenderedOutputs:
    """One report rendered into the formats asked for: format → bytes, in the order asked
    (`pdf`, `csv`, `xlsx`), and the PDF's warnings and summary."""

    files: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # The written summary the PDF's render asked for (app.rendering.narrative), if any.
    narrative: Any = None


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
    """Render the template in the sandbox with its fetched data sections, then the PDF with
    the characters no installed font could draw.

    When the template's summary is on and `summarise` is true, the configured model writes
    `narrative.text` from `own_data` first (docs/SUMMARY.md; a failure leaves it empty and
    the RenderedPdf's `narrative` carries the warning). Otherwise `narrative.text` is
    `stand_in` (the preview's placeholder) or empty."""
    narrative = None
    if summarise and wants_summary(template):
        narrative = write_narrative(template, own_data, report_params)
    values = {**context, **own_data, "params": dict(report_params)}
    values["narrative"] = narrative_context(narrative, stand_in if wants_summary(template) else "")
    rendered = html_to_pdf(
        render_html(template["html"], values), template.get("css", ""), workspace_id
    )
    return replace(rendered, narrative=narrative)


def render_report_outputs(
    template: Mapping[str, Any],
    sources: Mapping[str, Mapping[str, Any]],
    report_params: Mapping[str, Any],
    context: Mapping[str, Any],
    binds: Mapping[str, Any],
    workspace_id: int,
    formats: Sequence[str],
    tables: TableOptions,
) -> RenderedOutputs:
    """Fetch the template's own data once and make each of `formats` from it: the PDF as
    `render_with_data`, a CSV of the first picked section, an XLSX with a sheet per picked
    section. SectionError names a picked section the template has no data source for."""
    own_data = fetch_own_data(template, sources, {**binds, **report_params})
    missing = [s for s in tables.sections if s not in own_data]
    if missing and any(f != "pdf" for f in formats):
        raise SectionError(f"template '{template['code']}' has no data section '{missing[0]}'")
    out = RenderedOutputs()
    for fmt in formats:
        if fmt == "pdf":
            pdf = render_with_data(template, own_data, report_params, context, workspace_id)
            out.files["pdf"], out.warnings = pdf.data, pdf.warnings
            out.narrative = pdf.narrative
        elif fmt == "csv":
            rows = own_data[tables.sections[0]]
            out.files["csv"] = rows_to_csv(rows, delimiter=tables.delimiter, bom=tables.bom)
        elif fmt == "xlsx":
            out.files["xlsx"] = rows_to_xlsx([(s, own_data[s]) for s in tables.sections])
    return out
