"""A report's files besides (or instead of) its PDF: the formats, the data sections whose
rows make the CSV and XLSX files, and the CSV options (docs/OUTPUTS.md). `ReportRef`
(app.jobs.schema) declares the fields; the rules that check them live here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from app.jobs.strict import Strict
from app.rendering.tables import CSV_DELIMITERS

OutputFormat = Literal["pdf", "csv", "xlsx"]
TABLE_FORMATS = ("csv", "xlsx")
# Fields left out of a stored or exported report while they hold their default, so a
# PDF-only report reads as it did before formats existed.
OUTPUT_FIELDS = ("formats", "table_sections", "csv")


class CsvOptions(Strict):
    """How a report's CSV file is written: the field delimiter, and whether it starts with
    a UTF-8 byte order mark (Excel needs one to read UTF-8)."""

    delimiter: str = ","
    bom: bool = False

    @field_validator("delimiter")
    @classmethod
    def _known_delimiter(cls, value: str) -> str:
        if value not in CSV_DELIMITERS:
            raise ValueError("choose a comma (,), a semicolon (;) or a tab as the delimiter")
        return value


class OutputRules(BaseModel):
    """The checks of a report's `formats`, `table_sections` and `csv` (declared by the
    subclass); errors name their field, e.g. ``table_sections: pick the data section…``.
    Whether a section is one of the template's own is checked with the template
    (app.jobs.checks)."""

    @model_validator(mode="before")
    @classmethod
    def _one_section(cls, data: Any) -> Any:
        # "table_section": "lines" is the same as "table_sections": ["lines"].
        if isinstance(data, Mapping) and "table_section" in data and "table_sections" not in data:
            data = dict(data)
            section = data.pop("table_section")
            data["table_sections"] = [section] if isinstance(section, str) and section else []
        return data

    @field_validator("formats", check_fields=False)
    @classmethod
    def _each_once(cls, formats: list[str]) -> list[str]:
        twice = sorted({f for f in formats if formats.count(f) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is listed more than once")
        return formats

    @field_validator("table_sections", check_fields=False)
    @classmethod
    def _distinct_sections(cls, sections: list[str]) -> list[str]:
        twice = sorted({s for s in sections if sections.count(s) > 1})
        if twice:
            raise ValueError(f"section '{twice[0]}' is picked more than once")
        return sections

    @model_validator(mode="after")
    def _sections_for_tables(self) -> Any:
        formats: list[str] = getattr(self, "formats", [])
        sections: list[str] = getattr(self, "table_sections", [])
        tables = [f.upper() for f in formats if f in TABLE_FORMATS]
        if tables and not sections:
            raise ValueError(
                f"table_sections: pick the data section whose rows go into the "
                f"{' and '.join(tables)} file"
            )
        if "csv" in formats and len(sections) > 1:
            raise ValueError(
                "table_sections: a CSV file holds one table: pick one section "
                "(an XLSX file takes one sheet per section)"
            )
        return self

    @model_serializer(mode="wrap")
    def _lean(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        fields = type(self).model_fields
        for name in OUTPUT_FIELDS:
            if name in fields and getattr(self, name) == fields[name].default:
                data.pop(name, None)
        return data
