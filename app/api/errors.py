"""The API's one error shape: {"error": {"code", "message", "details"}, "request_id"}."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app import logs

CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "validation_error",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "internal_error",
    503: "service_unavailable",
}


# Seed 004's catalog: a body that is not JSON or breaks the request schema is a
# body_validation_error; a bad query or path parameter is a validation_error (both name the
# field in details.errors); a refusal because of the current state (a sent delivery retried,
# a job with runs in progress deleted, a stale draft committed) is a 409 conflict.
BODY_INVALID = "body_validation_error"


class ApiError(Exception):
    """Raised by API handlers; rendered as the error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details
        self.code = code or CODES.get(status, "internal_error")
        self.headers = headers or {}


def request_id() -> str:
    """The caller's X-Request-ID / X-Correlation-ID when it looks sane, else a new uuid."""
    return logs.request_id()


def error_response(error: ApiError) -> Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    response = jsonify({"error": body, "request_id": request_id()})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def field_errors(errors: dict[str, str]) -> dict[str, Any]:
    """Validation details: one item per field, in the order found."""
    return {"errors": [{"field": field, "message": message} for field, message in errors.items()]}


def invalid_request(errors: dict[str, str], code: str = BODY_INVALID) -> ApiError:
    """The 422 for a request with problems: each in `details`, beside its field's path
    (a body's fields by default; `code` "validation_error" for query and path parameters)."""
    count = len(errors)
    message = f"{count} problem{'s' if count != 1 else ''} in the request; see details"
    return ApiError(422, message, field_errors(errors), code=code)


def invalid_parameter(name: str, message: str) -> ApiError:
    """The 422 validation_error for one query or path parameter, named in details.errors."""
    return ApiError(422, f"{name}: {message}", field_errors({name: message}))


def conflict(reason: str) -> ApiError:
    """The 409 for a request the current state refuses; `reason` says what to do instead."""
    return ApiError(409, reason, {"reason": reason})
