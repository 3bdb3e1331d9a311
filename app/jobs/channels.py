"""Each delivery channel's *settings* (the part of a job definition that names where an entry
goes): webhook, Slack, Teams and Google Drive; email's settings are `EmailDelivery` in
`app.jobs.schema`. The senders that act on them live in `app.delivery.channels`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.jobs.strict import Strict
from app.outbound.post import DEFAULT_TIMEOUT, check_http_url, check_public_http_url
from app.validation_messages import CODE_PATTERN, SAVED_DEFINITION

# The report's own file name (`ReportRef.filename`, which differs per entry by default).
DEFAULT_DRIVE_FILENAME = "{report.filename}"
LEGACY_DRIVE_FILENAME = "{report.code}.pdf"


class WebhookDelivery(Strict):
    kind: Literal["webhook"] = "webhook"
    name: str = ""
    url: str = Field(min_length=1, max_length=2000)
    # Code of a Connection of kind "webhook" holding {"secret": ...}; None = unsigned.
    secret_connection: str | None = Field(default=None, pattern=CODE_PATTERN)
    include_pdf: bool = True
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=120)
    condition: str = ""

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str, info: ValidationInfo) -> str:
        if info.context and info.context.get(SAVED_DEFINITION):
            # Accepted when saved; a rule changed since is enforced before each POST.
            return check_http_url(url)
        return check_public_http_url(url)


class SlackDelivery(Strict):
    kind: Literal["slack"] = "slack"
    name: str = ""
    webhook_connection: str = Field(pattern=CODE_PATTERN)
    text: str = Field(min_length=1)
    condition: str = ""


class TeamsDelivery(Strict):
    kind: Literal["teams"] = "teams"
    name: str = ""
    webhook_connection: str = Field(pattern=CODE_PATTERN)
    title: str = Field(min_length=1)
    text: str = ""
    condition: str = ""


class DriveDelivery(Strict):
    kind: Literal["drive"] = "drive"
    name: str = ""
    service_account: str = Field(pattern=CODE_PATTERN)
    folder_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")
    filename: str = Field(default=DEFAULT_DRIVE_FILENAME, min_length=1)
    condition: str = ""

    @field_validator("filename", mode="before")
    @classmethod
    def _per_entry_default(cls, value: Any) -> Any:
        # Jobs saved before per-entry names had "{report.code}.pdf": the same file name for
        # every entry of a run in one folder. They get the report's own (per-entry) name.
        return DEFAULT_DRIVE_FILENAME if value in ("", LEGACY_DRIVE_FILENAME) else value


CHANNEL_MODELS: dict[str, type[BaseModel]] = {
    "webhook": WebhookDelivery,
    "slack": SlackDelivery,
    "teams": TeamsDelivery,
    "drive": DriveDelivery,
}

# Fields that may hold {alias.column} placeholders, by the definition's (JSON) field names:
# the save-time placeholder check, the dry run and the wizard's delivery panels read this.
TEMPLATED_FIELDS: dict[str, tuple[str, ...]] = {
    "email": (
        "from",
        "reply_to",
        "to",
        "cc",
        "bcc",
        "subject",
        "message",
        "attachment_name",
    ),
    "webhook": (),
    "slack": ("text",),
    "teams": ("title", "text"),
    "drive": ("filename",),
}
