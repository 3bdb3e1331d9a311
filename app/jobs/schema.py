"""The job definition as JSON: the documented schema used by import/export, the API and tests."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.datasources.parameters import RELATIVE_DATES, check_size, coerce_value
from app.delivery.channels import DriveDelivery, SlackDelivery, TeamsDelivery, WebhookDelivery
from app.delivery.conditions import ConditionSyntaxError, parse_condition
from app.delivery.recipients import recipient_field_error
from app.errors import ValidationFailed
from app.scheduling import ScheduleRuleError, parse_rule

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# Namespaces placeholders use besides data source aliases; an alias may not take them.
RESERVED_ALIASES = {"params", "data", "report", "run", "entry"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


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


class ReportRef(Strict):
    template: str = Field(pattern=CODE_PATTERN)
    bindings: dict[str, Binding] = {}
    filename: str = DEFAULT_REPORT_FILENAME

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

    @field_validator("from_address", "reply_to", "to", "cc", "bcc")
    @classmethod
    def _address_list(cls, value: str, info: ValidationInfo) -> str:
        # The typed text must be an address list; row values are checked when sending.
        problem = recipient_field_error(value, single=info.field_name == "from_address")
        if problem:
            raise ValueError(problem)
        return value


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

    @model_validator(mode="after")
    def _consistent(self) -> JobDefinition:
        errors = {
            **parameter_errors(self.parameters),
            **data_source_errors(self.data_sources),
            **binding_errors(
                self.reports, {p.name for p in self.parameters}, any_repeating(self.data_sources)
            ),
            **condition_errors(self.deliveries, self.data_sources, self.parameters),
        }
        if self.scheduled and self.schedule is None:
            errors["schedule"] = "required when scheduled generation is enabled"
        if errors:
            # One error at a time through pydantic; ValidationFailed callers get them all.
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


def parse_definition(data: Any) -> JobDefinition:
    """Validate a job definition, raising ValidationFailed with one message per field."""
    try:
        return JobDefinition.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from None


def validation_errors(exc: ValidationError) -> dict[str, str]:
    """Flatten pydantic errors to {"field.path": "message"}."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p))
        message = err["msg"].removeprefix("Value error, ")
        # Model-level validators name their field in the message ("field: problem").
        match = re.match(r"^([\w.]+): (.*)$", message)
        if match and not path:
            path, message = match.groups()
        elif match and path:
            path, message = f"{path}.{match[1]}", match[2]
        errors.setdefault(path, message)
    return errors


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in {
        "email",
        "webhook",
        "slack",
        "teams",
        "drive",
        "ParamBinding",
        "ColumnBinding",
        "ValueBinding",
    }
