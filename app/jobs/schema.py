"""The job definition as JSON: the documented schema used by import/export, the API and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import nh3
from pydantic import (
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.conditions import ConditionSyntaxError, parse_condition
from app.datasources.parameters import RELATIVE_DATES, check_size, coerce_value
from app.errors import ValidationFailed
from app.jobs.channels import DriveDelivery, SlackDelivery, TeamsDelivery, WebhookDelivery
from app.jobs.outputs import CsvOptions, OutputFormat, OutputRules
from app.jobs.strict import Strict
from app.mail.recipients import recipient_field_error
from app.placeholders import RESERVED_ALIASES
from app.scheduling import ScheduleRule, ScheduleRuleError, parse_rule
from app.validation_messages import CODE_PATTERN, IDENTIFIER_PATTERN, field_messages


class ParameterDef(Strict):
    """A typed job parameter; a date default may be relative (e.g. start_of_month)."""

    name: str = Field(pattern=IDENTIFIER_PATTERN)
    type: Literal["string", "number", "date", "boolean"] = "string"
    label: str = ""
    default: Any = None

    @model_validator(mode="after")
    def _default_matches_type(self) -> ParameterDef:
        relative = isinstance(self.default, str) and self.default in RELATIVE_DATES
        if self.default is None or (self.type == "date" and relative):
            return self
        try:
            check_size(self.default)
            self.default = coerce_value(self.type, self.default)
        except ValueError as exc:
            raise ValueError(f"default: {exc}") from None
        return self


class DataSourceRef(Strict):
    alias: str = Field(pattern=IDENTIFIER_PATTERN)
    source: str = Field(pattern=CODE_PATTERN)
    repeating: bool = False

    @field_validator("alias")
    @classmethod
    def _not_reserved(cls, alias: str) -> str:
        if alias in RESERVED_ALIASES:
            raise ValueError(f"'{alias}' is reserved; choose another alias")
        return alias


class ParamBinding(Strict):
    param: str


class ColumnBinding(Strict):
    column: str


class ValueBinding(Strict):
    value: Any


Binding = ParamBinding | ColumnBinding | ValueBinding


# A report's file name differs per entry unless the job says otherwise (docs/RECIPIENTS.md).
DEFAULT_REPORT_FILENAME = "{report.code}-{entry.seq}.pdf"
# The default before per-entry names: every entry of a run got the same name.
LEGACY_REPORT_FILENAME = "{report.code}.pdf"


class ReportRef(OutputRules, Strict):
    """A report of the job: its template, bindings, file name pattern and files."""

    template: str = Field(pattern=CODE_PATTERN)
    bindings: dict[str, Binding] = {}
    filename: str = DEFAULT_REPORT_FILENAME
    # The files made of the report for each entry (docs/OUTPUTS.md; rules: OutputRules).
    formats: list[OutputFormat] = Field(default=["pdf"], min_length=1)
    table_sections: list[str] = []
    csv: CsvOptions = CsvOptions()

    @field_validator("filename", mode="before")
    @classmethod
    def _per_entry_default(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() in ("", LEGACY_REPORT_FILENAME):
            return DEFAULT_REPORT_FILENAME
        return value


class EmailDelivery(Strict):
    kind: Literal["email"] = "email"
    name: str = ""
    connection: str | None = Field(default=None, pattern=CODE_PATTERN)
    from_address: str = Field(default="", alias="from")
    reply_to: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = Field(min_length=1)
    message: str = Field(min_length=1)
    attachment_name: str = ""
    condition: str = ""

    @field_validator("message")
    @classmethod
    def _safe_html(cls, value: str) -> str:
        cleaned = clean_message_html(value)
        if not cleaned.strip():
            raise ValueError("nothing is left of the message once unsafe HTML is removed")
        return cleaned

    @field_validator("from_address", "reply_to", "to", "cc", "bcc")
    @classmethod
    def _address_list(cls, value: str, info: ValidationInfo) -> str:
        # The typed text must be an address list; row values are checked when sending.
        problem = recipient_field_error(value, single=info.field_name == "from_address")
        if problem:
            raise ValueError(problem)
        return value


def clean_message_html(markup: str) -> str:
    """An email message's HTML as it is stored: only the tags and attributes of ammonia's
    conservative default list (nh3), so no script, handler, style or frame reaches a mailbox
    or Herald's own pages. Placeholders ({people.name}, also inside href) are kept."""
    return nh3.clean(markup)


Delivery = Annotated[
    EmailDelivery | WebhookDelivery | SlackDelivery | TeamsDelivery | DriveDelivery,
    Field(discriminator="kind"),
]


class JobDefinition(Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    scheduled: bool = False
    hold_for_review: bool = False
    # Who hears of a run that ends with errors (app.delivery.error_notice): the job's owner,
    # the addresses in error_notice_to, or nobody.
    error_notice: Literal["owner", "addresses", "off"] = "owner"
    error_notice_to: str = ""
    parameters: list[ParameterDef] = []
    data_sources: list[DataSourceRef] = []
    reports: list[ReportRef] = Field(min_length=1)
    deliveries: list[Delivery] = []
    schedule: dict[str, Any] | None = None
    misfire_grace_seconds: int = Field(default=3600, ge=0)

    @field_validator("schedule")
    @classmethod
    def _valid_rule(cls, schedule: dict[str, Any] | None) -> dict[str, Any] | None:
        if schedule is None:
            return None
        try:
            return parse_rule(schedule).model_dump(mode="json", exclude_defaults=True)
        except ScheduleRuleError as exc:
            raise ValueError(f"{exc.field}: {exc.message}") from None

    @field_validator("error_notice_to")
    @classmethod
    def _notice_addresses(cls, value: str) -> str:
        problem = recipient_field_error(value)
        if problem:
            raise ValueError(problem)
        if "{" in value:
            raise ValueError("the error notice goes to fixed addresses: no placeholders")
        return value.strip()

    @model_validator(mode="after")
    def _notice_needs_addresses(self) -> JobDefinition:
        if self.error_notice == "addresses" and not self.error_notice_to:
            raise ValueError("error_notice_to: enter at least one address, or tell the owner")
        return self

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> JobDefinition:
        if info.context and info.context.get(DEFER_CONSISTENCY):
            return self  # the caller collects every problem itself (definition_problems)
        errors = consistency_errors(Parts.of(self))
        if self.scheduled and self.schedule is None:
            errors["schedule"] = SCHEDULE_REQUIRED
        if errors:
            field, message = next(iter(errors.items()))
            raise ValueError(f"{field}: {message}")
        return self

    @property
    def repeating(self) -> DataSourceRef | None:
        return next((d for d in self.data_sources if d.repeating), None)


def any_repeating(data_sources: list[DataSourceRef]) -> bool:
    return any(d.repeating for d in data_sources)


def parameter_errors(parameters: list[ParameterDef]) -> dict[str, str]:
    """Problems across parameters (each one alone is checked by ParameterDef)."""
    seen: set[str] = set()
    errors = {}
    for i, param in enumerate(parameters):
        if param.name in seen:
            errors[f"parameters.{i}.name"] = f"'{param.name}' is used twice"
        seen.add(param.name)
    return errors


def data_source_errors(data_sources: list[DataSourceRef]) -> dict[str, str]:
    """Aliases must be unique and at most one source may be Repeating."""
    seen: set[str] = set()
    errors = {}
    for i, ref in enumerate(data_sources):
        if ref.alias in seen:
            errors[f"data_sources.{i}.alias"] = f"'{ref.alias}' is used twice"
        seen.add(ref.alias)
    repeating = [i for i, ref in enumerate(data_sources) if ref.repeating]
    for i in repeating[1:]:
        errors[f"data_sources.{i}.repeating"] = (
            "at most one data source may be Repeating: a run makes one entry per row of it"
        )
    return errors


def binding_errors(
    reports: list[ReportRef], parameter_names: set[str], has_repeating: bool
) -> dict[str, str]:
    """Report bindings must name a job parameter, or a column only when a source repeats."""
    errors = {}
    for i, report in enumerate(reports):
        for key, binding in report.bindings.items():
            where = f"reports.{i}.bindings.{key}"
            if isinstance(binding, ParamBinding) and binding.param not in parameter_names:
                errors[where] = f"unknown job parameter '{binding.param}'"
            if isinstance(binding, ColumnBinding) and not has_repeating:
                errors[where] = "a column binding needs a Repeating data source"
    return errors


def condition_errors(
    deliveries: list[Any], data_sources: list[DataSourceRef], parameters: list[ParameterDef]
) -> dict[str, str]:
    """Delivery conditions must parse and name only known sources, parameters and namespaces."""
    known: dict[str, set[str] | None] = {ref.alias: None for ref in data_sources}
    known |= {
        "params": {p.name for p in parameters},
        "data": None,
        "run": {"id"},
        "entry": {"id", "seq"},
    }
    errors = {}
    for i, delivery in enumerate(deliveries):
        where = f"deliveries.{i}.condition"
        try:
            condition = parse_condition(delivery.condition)
        except ConditionSyntaxError as exc:
            errors[where] = str(exc)
            continue
        unknown = sorted(
            f"{{{ns}.{key}}}"
            for ns, key in (condition.references() if condition else ())
            if ns not in known or (known[ns] is not None and key not in known[ns])
        )
        if unknown:
            errors[where] = f"unknown reference {', '.join(unknown)}"
    return errors


SCHEDULE_REQUIRED = (
    "A schedule is required when scheduled generation is on: enter its start date, "
    "or turn scheduled generation off"
)
# Validation context key: skip the model-level consistency check (its caller reports it).
DEFER_CONSISTENCY = "defer_consistency"


@dataclass(frozen=True)
class Parts:
    """The parts of a definition that are well-formed on their own (None where not), so a
    partly filled wizard draft is checked as far as it goes."""

    scheduled: bool
    parameters: list[ParameterDef] | None
    data_sources: list[DataSourceRef] | None
    reports: list[ReportRef] | None
    deliveries: list[Any] | None
    schedule: ScheduleRule | None

    @classmethod
    def of(cls, definition: JobDefinition, rule: ScheduleRule | None = None) -> Parts:
        """A valid definition's parts; `rule` is its parsed schedule where a check needs it."""
        return cls(
            definition.scheduled,
            definition.parameters,
            definition.data_sources,
            definition.reports,
            definition.deliveries,
            rule,
        )

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Parts:
        """Each part of raw definition JSON validated alone."""
        try:
            rule = parse_rule(data["schedule"]) if data.get("schedule") is not None else None
        except ScheduleRuleError:
            rule = None
        return cls(
            data.get("scheduled") is True,
            *(_part(name, data.get(name, [])) for name in _PART_ADAPTERS),
            rule,
        )

    @property
    def repeating(self) -> DataSourceRef | None:
        return next((d for d in self.data_sources or [] if d.repeating), None)


_PART_ADAPTERS: dict[str, TypeAdapter] = {
    "parameters": TypeAdapter(list[ParameterDef]),
    "data_sources": TypeAdapter(list[DataSourceRef]),
    "reports": TypeAdapter(list[ReportRef]),
    "deliveries": TypeAdapter(list[Delivery]),
}


def _part(name: str, value: Any) -> Any:
    try:
        return _PART_ADAPTERS[name].validate_python(value)
    except ValidationError:
        return None


def consistency_errors(parts: Parts) -> dict[str, str]:
    """Problems across the parts of a definition, for the parts that are well-formed."""
    errors: dict[str, str] = {}
    params, sources = parts.parameters, parts.data_sources
    if params is not None:
        errors |= parameter_errors(params)
    if sources is not None:
        errors |= data_source_errors(sources)
    if parts.reports is not None and params is not None and sources is not None:
        errors |= binding_errors(parts.reports, {p.name for p in params}, any_repeating(sources))
    if parts.deliveries is not None and params is not None and sources is not None:
        errors |= condition_errors(parts.deliveries, sources, params)
    return errors


def definition_problems(data: Any) -> tuple[Parts | None, dict[str, str]]:
    """Every problem of definition JSON that needs no database: its shape, field by field,
    and the consistency of its parts; with the parts that are well-formed (None if `data`
    is no object at all)."""
    try:
        definition = JobDefinition.model_validate(data, context={DEFER_CONSISTENCY: True})
    except ValidationError as exc:
        errors = field_messages(exc, data)
        if not isinstance(data, Mapping):
            return None, errors
        parts = Parts.parse(data)
    else:
        rule = parse_rule(definition.schedule) if definition.schedule else None
        errors, parts = {}, Parts.of(definition, rule)
    for field, message in consistency_errors(parts).items():
        errors.setdefault(field, message)
    if parts.scheduled and isinstance(data, Mapping) and data.get("schedule") is None:
        errors.setdefault("schedule", SCHEDULE_REQUIRED)
    return parts, errors


def parse_definition(data: Any) -> JobDefinition:
    """Validate a job definition, raising ValidationFailed with one message per field."""
    _, errors = definition_problems(data)
    if errors:
        raise ValidationFailed(errors)
    return JobDefinition.model_validate(data)
