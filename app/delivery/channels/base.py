"""What every delivery channel sender shares: the entry being delivered and the shape of a
report file (settings models: `app.jobs.channels`). Posting lives in `app.outbound.post`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class ReportFile(Protocol):
    """One generated report as a channel sees it (`app.delivery.email.Attachment` is one)."""

    report_code: str
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class DeliveryContext:
    """The entry being delivered, for payloads and links; built by the delivery service.

    `download_url(i)` returns an absolute URL to the i-th file of the `artifacts` sequence
    passed to the same send call (0-based index into that sequence, *not* an Artifact id:
    the service maps indexes to its Artifact rows and signs the URL). Chat and webhook
    payloads include these links; they must work for a person without a Herald session.
    """

    job_id: int
    job_code: str
    job_name: str
    run_id: int
    entry_id: int
    entry_seq: int
    entry_status: str
    row: Mapping[str, Any] | None
    params: Mapping[str, Any]
    download_url: Callable[[int], str]
    # The EntryDelivery id: stable across retries of the same delivery, so receivers can
    # recognise a repeated POST (sent as X-Herald-Delivery). None when not known.
    delivery_id: int | None = None
    # What an interrupted earlier attempt of this delivery already did (DeliveryError.partial);
    # None on a first attempt and on a deliberate re-delivery, which sends everything again.
    partial: Mapping[str, Any] | None = None
    # An email delivery's Message-ID before the "@", the same on every attempt of it
    # (EntryDelivery.message_id_left). None: a fresh one per message.
    message_id_left: str | None = None
