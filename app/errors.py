"""Domain errors that views, the API and commands translate into responses."""

from __future__ import annotations


class HeraldError(Exception):
    """Base of errors a user can act on; the message is safe to show."""


class NotFound(HeraldError):
    pass


class Forbidden(HeraldError):
    pass


class Conflict(HeraldError):
    pass


class ValidationFailed(HeraldError):
    """Bad input; `errors` maps a field path to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in errors.items()))
