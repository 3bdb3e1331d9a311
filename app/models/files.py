"""Temporary files built in the background (consolidated review documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import utcnow
from app.extensions import db


class TemporaryFile(db.Model):
    __tablename__ = "temporary_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # unguessable uuid4
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # review-document
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|ready|failed
    # What to build: e.g. {"run_id": 3, "entry_ids": [...]} for a review document.
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    size: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
