"""Screens for report templates, data sources and connections."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("resources", __name__, url_prefix="/w/<ws>")
