"""App-wide error handlers: one answer per failure, in the face that was asked.

A path under /api/ gets the API's error envelope, any other path an error page. They live
here, with the factory (entry-point layer), because they choose between the two faces,
which never import each other.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.api import api_http_error
from app.api.errors import ApiError, error_response
from app.errors import Forbidden, NotFound
from app.extensions import htmx
from app.limits import REQUEST, too_large
from app.runs.dispatch import RETRY_AFTER_SECONDS
from app.storage import StorageError


def _too_large_page() -> Response:
    """The friendly 413 page; an htmx request (a boosted wizard form, a test panel) gets it
    as the whole page too, since a fragment target cannot hold it."""
    message = f"What you sent is {too_large(REQUEST)}. Send a smaller file or less text."
    response = make_response(render_template("error.html", code=413, message=message), 413)
    if htmx:
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers for domain errors, CSRF, HTTP errors, a queue outage and crashes."""

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> tuple[str, int]:
        return render_template("error.html", code=404, message=str(exc)), 404

    @app.errorhandler(Forbidden)
    def forbidden(exc: Forbidden) -> tuple[str, int]:
        return render_template("error.html", code=403, message=str(exc)), 403

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_template("error.html", code=400, message=exc.description), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return api_http_error(exc)
        if exc.code == 404:
            return render_template("error.html", code=404, message="page not found"), 404
        if exc.code == 413:
            return _too_large_page()
        return exc

    @app.errorhandler(RedisError)
    def queue_unavailable(exc: RedisError) -> Any:
        """An action that needs the queue right now (not starting a run: that waits in the
        database) while Redis is down or loading: 503 with when to try again, never a 500."""
        app.logger.warning("the queue is unavailable: %s", exc)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        message = f"the work queue is unavailable; try again in {RETRY_AFTER_SECONDS} s"
        if request.path.startswith("/api/"):
            details = {"retry_after": RETRY_AFTER_SECONDS}
            return error_response(ApiError(503, message, details, headers=retry))
        page = render_template("error.html", code=503, message=message[0].upper() + message[1:])
        return page, 503, retry

    @app.errorhandler(StorageError)
    def store_unavailable(exc: StorageError) -> Any:
        """A download while the artifact store cannot be reached or refuses (a missing bucket,
        wrong credentials): 503 saying so, never a 500. The store's own words go to the log
        only (they name no secret, but do name the bucket)."""
        app.logger.warning("the artifact store failed a download: %s", exc)
        message = "the file store is unavailable; try again later"
        if request.path.startswith("/api/"):
            return error_response(ApiError(503, message))
        return render_template(
            "error.html", code=503, message=message[0].upper() + message[1:]
        ), 503

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if not request.path.startswith("/api/"):
            raise exc  # pages keep Flask's own 500 handling (and tracebacks in tests)
        app.logger.exception("unhandled API error")
        return error_response(ApiError(500, "internal error; quote the request_id"))
