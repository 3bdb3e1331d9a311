"""A report generation job; its definition is a validated JSON document (app.jobs.schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import utcnow
from app.extensions import db


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("workspace_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    scheduled: Mapped[bool] = mapped_column(default=False)
    hold_for_review: Mapped[bool] = mapped_column(default=False)
    # Who is told when a run ends with errors: "owner" (who created the job), "addresses"
    # (error_notice_to, an address list) or "off". See app.delivery.error_notice.
    error_notice: Mapped[str] = mapped_column(String(16), default="owner", server_default="owner")
    error_notice_to: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Each is the JSON of the matching part of app.jobs.schema.JobDefinition.
    parameters: Mapped[list[Any]] = mapped_column(default=list)
    data_sources: Mapped[list[Any]] = mapped_column(default=list)
    reports: Mapped[list[Any]] = mapped_column(default=list)
    deliveries: Mapped[list[Any]] = mapped_column(default=list)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    misfire_grace_seconds: Mapped[int] = mapped_column(default=3600)
    next_fire_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_run_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    workspace = relationship("Workspace")
    owner = relationship("User")


class ScheduleMiss(db.Model):
    """A scheduled fire that produced no run (the clock was down past the misfire grace)."""

    __tablename__ = "schedule_misses"
    __table_args__ = (UniqueConstraint("job_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime] = mapped_column()
    missed_fires: Mapped[int] = mapped_column(default=1)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobDraft(db.Model):
    """A job definition being edited in the wizard; the job changes only when it is saved."""

    __tablename__ = "job_drafts"
    # A discarded draft's id is never given to another draft (its links and dry-run files
    # name it): SQLite reuses the largest id otherwise. No effect on PostgreSQL.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Steps whose input passed validation; the others are shown as to-do.
    valid_steps: Mapped[list[Any]] = mapped_column(default=list)
    # SHA-256 of the job's definition when the draft was opened: committing over a job that
    # changed since is refused (app/jobs/drafts.py commit_fresh_draft). None for a new job.
    base_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    job = relationship("Job")
