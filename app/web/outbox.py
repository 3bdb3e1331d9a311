"""The Outbox: every message the development mail catcher received."""

from __future__ import annotations

import io
from collections.abc import Callable
from email.message import Message
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_file
from flask_login import current_user, login_required

from app.access import workspaces_of
from app.delivery.smtp import WORKSPACE_HEADER
from app.errors import NotFound
from app.filenames import clean_filename
from app.mailcatcher import OutboxMessage, list_messages, read_message
from app.models import Role

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
PAGE_SIZE = 50


def _directory() -> Path:
    directory = current_app.config.get("OUTBOX_DIR")
    if not directory:
        raise NotFound("the outbox is only available with the development mail catcher")
    return Path(directory)


def _visible_to_viewer() -> Callable[[Message], bool]:
    """Whether a caught message may be shown to the current user: only to admins of the
    workspace whose job sent it (the header Herald writes on every message). A message without
    exactly one such header was not sent by Herald, and is shown to nobody."""
    admin_of = {str(ws.id) for ws, role in workspaces_of(current_user) if role == Role.admin}

    def visible(message: Message) -> bool:
        named = message.get_all(WORKSPACE_HEADER) or []
        return len(named) == 1 and str(named[0]).strip() in admin_of

    return visible


def _message_or_404(name: str) -> OutboxMessage:
    found = read_message(_directory(), name)
    if found is None or not _visible_to_viewer()(found.message):
        raise NotFound("message not found")
    return found


@bp.get("")
@login_required
def index() -> str:
    page = max(request.args.get("page", 1, type=int), 1)
    messages, total = list_messages(
        _directory(), (page - 1) * PAGE_SIZE, PAGE_SIZE, visible=_visible_to_viewer()
    )
    return render_template(
        "outbox/index.html",
        messages=messages,
        total=total,
        page=page,
        has_next=page * PAGE_SIZE < total,
    )


@bp.get("/<name>")
@login_required
def message(name: str) -> str:
    found = _message_or_404(name)
    return render_template("outbox/message.html", message=found)


@bp.get("/<name>/attachments/<int:index>")
@login_required
def attachment(name: str, index: int) -> Response:
    found = _message_or_404(name)
    if index >= len(found.attachments):
        raise NotFound("attachment not found")
    part = found.attachments[index]
    content = part.get_content()
    return send_file(
        io.BytesIO(content.encode() if isinstance(content, str) else content),
        mimetype=part.get_content_type(),
        download_name=clean_filename(part.get_filename() or "", default="file", extension=None),
    )
