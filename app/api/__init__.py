"""The JSON API v1: bearer Personal Access Tokens, one error envelope, the OpenAPI document."""

from __future__ import annotations

import hashlib
import time

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from app.api import (  # noqa: F401  (routes register)
    drafts,
    entries,
    files,
    jobs,
    openapi,
    reports,
    review,
    runs,
    system,
    tokens,
)
from app.api.blueprint import bp
from app.api.common import check_parameters
from app.api.errors import ApiError, conflict, error_response, invalid_request, request_id
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import limiter
from app.limits import REQUEST, too_large
from app.tokens import authenticate


def rate_limit_key() -> str:
    """Limits count per token (by its hash, before any database lookup), else per address."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


@bp.before_request
def _authenticate() -> None:
    request_id()
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        raise ApiError(
            401,
            "send a Personal Access Token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = authenticate(header[7:].strip())
    if token is None:
        raise ApiError(
            401,
            "the token is unknown, revoked or expired",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    g.api_token = token
    check_parameters(request.view_args)


@bp.after_app_request
def _correlate(response: Response) -> Response:
    if request.path.startswith(("/api/", "/swagger/")):
        response.headers["X-Request-ID"] = request_id()
        response.headers["X-Correlation-ID"] = request_id()
    return response


@bp.errorhandler(ValidationFailed)
def _invalid(exc: ValidationFailed) -> Response:
    # A refusal that names no field is about the state of things, not the request's content
    # (a finished run cancelled, a sent delivery retried): seed 004's 409 conflict.
    if set(exc.errors) == {""}:
        return error_response(conflict(exc.errors[""]))
    return error_response(invalid_request(exc.errors))


@bp.errorhandler(NotFound)
def _missing(exc: NotFound) -> Response:
    return error_response(ApiError(404, str(exc)))


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden) -> Response:
    return error_response(ApiError(403, str(exc)))


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> Response:
    return error_response(conflict(str(exc)))


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)


class NoApiSessions(SecureCookieSessionInterface):
    """Cookie sessions everywhere but the API, which a bearer token authenticates on its own:
    no cookie is read or written there (and no `Vary: Cookie` spoils caching)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(bp.url_prefix + "/"):
            return self.null_session_class()
        return super().open_session(app, request)


def register_api(app: Flask) -> None:
    app.session_interface = NoApiSessions()
    app.register_blueprint(bp)
    app.register_blueprint(openapi.swagger)
    app.register_error_handler(ApiError, error_response)


def api_http_error(exc: HTTPException) -> Response:
    """Werkzeug errors under /api/ (unknown URL, wrong method, rate limit, body too large)
    as the envelope."""
    headers = {}
    message = exc.description or exc.name
    if exc.code == 429:
        current = limiter.current_limit
        wait = int(current.reset_at - time.time()) if current else 60
        headers["Retry-After"] = str(max(1, wait))
        message = "too many requests for this token; retry after the time in Retry-After"
    if exc.code == 413:
        message = f"the request body is {too_large(REQUEST)}"
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 416 and getattr(exc, "length", None) is not None:
        # RFC 9110 §15.5.17: the size, so the client can ask again (pages keep werkzeug's).
        headers["Content-Range"] = f"{getattr(exc, 'units', 'bytes')} */{exc.length}"
    return error_response(ApiError(exc.code or 500, message, headers=headers))
