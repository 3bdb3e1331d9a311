"""The Outbox: every message the development mail catcher received."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_file
from flask_login import login_required

from app.errors import NotFound
from app.filenames import clean_filename
from app.mailcatcher import list_messages, read_message

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
PAGE_SIZE = 50


def _directory() -> Path:
    directory = current_app.config.get("OUTBOX_DIR")
    if not directory:
        raise NotFound("the outbox is only available with the development mail catcher")
    return Path(directory)


@bp.get("")
@login_required
def index() -> str:
    page = max(request.args.get("page", 1, type=int), 1)
    messages, total = list_messages(_directory(), (page - 1) * PAGE_SIZE, PAGE_SIZE)
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
    found = read_message(_directory(), name)
    if found is None:
        raise NotFound("message not found")
    return render_template("outbox/message.html", message=found)


@bp.get("/<name>/attachments/<int:index>")
@login_required
def attachment(name: str, index: int) -> Response:
    found = read_message(_directory(), name)
    if found is None or index >= len(found.attachments):
        raise NotFound("attachment not found")
    part = found.attachments[index]
    content = part.get_content()
    return send_file(
        io.BytesIO(content.encode() if isinstance(content, str) else content),
        mimetype=part.get_content_type(),
        download_name=clean_filename(part.get_filename() or "", default="file", extension=None),
    )
