"""The six-step job wizard, working on a draft that Save commits."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("wizard", __name__, url_prefix="/w/<ws>/jobs")
