"""The API's blueprint, on its own so route modules and the package can both import it."""

from __future__ import annotations

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated: no cookie, so no cross-site request to forge
