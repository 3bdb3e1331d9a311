"""Runs of a job, their entries (one per repeating row), report artifacts and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import utcnow
from app.extensions import db


class Run(db.Model):
    __tablename__ = "runs"
    __table_args__ = (
        # The clock relies on this: one run per job and fire instant, however many clocks run.
        UniqueConstraint("job_id", "scheduled_for"),
        UniqueConstraint("job_id", "idempotency_key"),
        Index("ix_runs_job_created", "job_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))  # manual | schedule | api
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    params: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)  # effective values
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The job definition and templates as they were when the run started.
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    shared_data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    entry_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    scheduled_for: Mapped[datetime | None] = mapped_column(nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Optional completion webhook (API runs): where to POST, signed with a webhook connection.
    notify_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    notify_connection: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The caller's extra webhook headers, JSON encrypted with the connection secret key
    # (app/outbound/secrets.py); never shown back.
    notify_headers: Mapped[str | None] = mapped_column(Text, nullable=True)
    notify_status: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    notify_attempts: Mapped[int] = mapped_column(default=0)
    notify_next_at: Mapped[datetime | None] = mapped_column(nullable=True)
    notify_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The job's error notice for this run: None (not due), pending, sending, sent, failed.
    # Claimed with a conditional UPDATE, so it is sent once however many clocks run.
    error_notice_status: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    error_notice_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    prepared_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    job = relationship("Job")
    created_by = relationship("User")


class Entry(db.Model):
    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_run_status", "run_id", "status"),
        Index("ix_entries_run_seq", "run_id", "seq"),  # entry pages are ordered by seq
        Index("ix_entries_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    row: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(24), default="ParametersPrepared")
    stage: Mapped[str] = mapped_column(String(16), default="generate")  # generate | deliver
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Problems that did not stop the entry, one sentence each (e.g. characters a report
    # could not draw); None when there are none.
    warnings: Mapped[list[Any] | None] = mapped_column(nullable=True)
    # The written summary of its reports (docs/SUMMARY.md), kept so a delivery retry never
    # asks the model again: {"text": str, "reports": [{"report", "prompt_chars",
    # "response_chars", "truncated", "ok"}]}; None when no report asked for one.
    narrative: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    review_decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)

    run: Mapped[Run] = relationship()
    reviewed_by = relationship("User")
    artifacts: Mapped[list[Artifact]] = relationship(
        order_by="Artifact.position", cascade="all, delete-orphan"
    )
    deliveries: Mapped[list[EntryDelivery]] = relationship(
        order_by="EntryDelivery.position", cascade="all, delete-orphan"
    )


class Artifact(db.Model):
    """The outcome of one report for one entry: a stored PDF, or the error that prevented it."""

    __tablename__ = "artifacts"
    # The id keys the cached thumbnail: never reused for a new artifact (SQLite would).
    __table_args__ = (UniqueConstraint("entry_id", "position"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    report_code: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # generated | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    storage_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EntryDelivery(db.Model):
    """One configured delivery of one entry, with its own status and attempts."""

    __tablename__ = "entry_deliveries"
    __table_args__ = (
        UniqueConstraint("entry_id", "position"),
        Index("ix_entry_deliveries_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))  # email | drive | webhook | slack | teams
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What was (or would be) sent: recipients, subject, file names.
    detail: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An email delivery's Message-ID before the "@" (RFC 5322 id-left), chosen at its first
    # attempt and kept by every later one, a person's Retry included: a message sent again
    # after an interruption (the server had it, Herald never heard) carries the same
    # Message-ID, so a receiving system can tell it is the same message and drop it. A
    # deliberate re-delivery clears it: that is a new message.
    message_id_left: Mapped[str | None] = mapped_column(String(64), nullable=True)
