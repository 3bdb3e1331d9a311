"""Signed HTTP posting, the one place Herald POSTs JSON to another system (webhook and chat
deliveries, completion notices): URL checks, JSON encoding, a POST with a timeout that
classifies failures, and HMAC signing.

Failure classification (used by the webhook and chat channels; Drive maps Google's errors
the same way):

- 2xx: delivered.
- 408, 429, 5xx, refused connections, DNS and TLS failures, timeouts before the request
  was sent: `TransientDeliveryError` — the delivery service retries later with backoff;
  429 and 503 with `Retry-After` are retried when asked (capped), not spending an attempt.
- no answer (timeout, reset) after the whole request was sent: `PossiblyDeliveredError` —
  the receiver may have it, so it is not resent automatically; a person may Retry.
- 3xx: `DeliveryError` — redirects are not followed (a POST body would be dropped or
  re-sent somewhere unexpected); configure the final URL.
- any other 4xx: `DeliveryError` naming the status and a short excerpt of the answer.

Destinations on this machine or a private network (loopback, RFC 1918, link-local such as
cloud metadata at 169.254.169.254, unique-local IPv6...) are refused unless the app runs with
ALLOW_PRIVATE_WEBHOOKS (HERALD_ALLOW_PRIVATE_WEBHOOKS=1): editors configure these URLs, and the
answer's excerpt lands in the run history, so an open door would let them read internal
services. Literal addresses are refused when a job is saved; names are resolved and checked
before each POST (a name that re-resolves between the check and the connection is not
caught: the guard is against mistakes and casual probing, not a determined DNS attacker).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context

from app.outbound.errors import DeliveryError, PossiblyDeliveredError, TransientDeliveryError

USER_AGENT = "Herald"
DEFAULT_TIMEOUT = 10.0
EXCERPT_CHARS = 200
# How much of an answer is read: enough for an error message, never a whole download.
READ_LIMIT = 64 * 1024
# Why an answer lost after the request went out is not retried (see PossiblyDeliveredError).
POSSIBLY_DELIVERED = (
    "possibly delivered, so not resent automatically (a resend could duplicate it; "
    "receivers can recognise a repeat by X-Herald-Delivery) — choose Retry to send it again"
)
# A signed request older (or newer) than this should be rejected by receivers.
SIGNATURE_TOLERANCE_SECONDS = 300


def check_http_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL with a host, else ValueError."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    if any(c.isspace() for c in url.strip()):
        raise ValueError("must not contain spaces")
    return url.strip()


def _is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def private_host_problem(host: str, *, resolve: bool) -> str | None:
    """Why POSTs to `host` are refused (a private or local address), or None.

    Always None with ALLOW_PRIVATE_WEBHOOKS. `resolve=False` checks only literal addresses and
    localhost names (no DNS, for validating a form); `resolve=True` checks every address the
    name resolves to (before sending)."""
    if not has_app_context() or current_app.config.get("ALLOW_PRIVATE_WEBHOOKS"):
        return None
    name = host.strip("[]").lower().rstrip(".")
    refusal = f"{host} is on this machine or a private network"
    hint = "; Herald posts there only with HERALD_ALLOW_PRIVATE_WEBHOOKS=1"
    if name == "localhost" or name.endswith(".localhost"):
        return refusal + hint
    try:
        addresses = [ipaddress.ip_address(name)]
    except ValueError:
        if not resolve:
            return None
        try:
            found = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None  # the POST itself reports an unknown name, as a retryable failure
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    private = next((a for a in addresses if _is_private(a)), None)
    if private is None:
        return None
    shown = "" if str(private) == name else f" ({private})"
    return refusal + shown + hint


def check_public_http_url(url: str) -> str:
    """`check_http_url`, and not a literal private or local address (see the module notes)."""
    url = check_http_url(url)
    if problem := private_host_problem(urllib.parse.urlsplit(url).hostname or "", resolve=False):
        raise ValueError(problem)
    return url


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def json_bytes(payload: Any) -> bytes:
    """Compact UTF-8 JSON; dates as ISO strings, decimals as numbers."""
    return json.dumps(
        payload, default=_json_default, ensure_ascii=False, separators=(",", ":")
    ).encode()


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Herald-Signature value: `sha256=` + hex HMAC-SHA256 of `b"<timestamp>." + body`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: recompute over the raw body, compare in constant time, and
    refuse timestamps too far from its clock (replays)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class HttpResult:
    status: int
    excerpt: str
    sent_bytes: int


def excerpt(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx then surfaces as an HTTPError


_opener = urllib.request.build_opener(_NoRedirect)


def is_transient_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def post_json(
    url: str,
    body: bytes,
    *,
    label: str,
    timeout: float = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
) -> HttpResult:
    """POST `body` as JSON; return the 2xx answer or raise the classified DeliveryError.

    `label` names the destination in messages (e.g. "Slack" or "webhook example.com") —
    never put a secret URL in it: messages end up in the run history.
    """
    host = urllib.parse.urlsplit(url).hostname or ""
    if problem := private_host_problem(host, resolve=True):
        raise DeliveryError(f"{label}: {problem}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
    )
    # urllib raises a URLError for anything before the request was fully written (DNS,
    # connect, TLS, sending) and the bare exception for anything while awaiting the answer:
    # the first is safe to retry, the second may have been delivered already.
    try:
        with _opener.open(request, timeout=timeout) as response:
            return HttpResult(response.status, excerpt(_read_quietly(response)), len(body))
    except urllib.error.HTTPError as exc:
        status, text, retry_after = exc.code, excerpt(_read_quietly(exc)), exc.headers
        exc.close()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise TransientDeliveryError(f"{label}: no answer within {timeout:g} s") from None
        raise TransientDeliveryError(f"{label}: cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise PossiblyDeliveredError(
            f"{label}: no answer within {timeout:g} s after the request was sent; "
            + POSSIBLY_DELIVERED
        ) from None
    except (http.client.HTTPException, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        raise PossiblyDeliveredError(
            f"{label}: connection lost after the request was sent ({reason}); " + POSSIBLY_DELIVERED
        ) from None
    except ValueError as exc:  # a malformed URL that slipped past validation
        raise DeliveryError(f"{label}: invalid URL ({exc})") from None
    message = f"{label}: HTTP {status}" + (f": {text}" if text else "")
    if is_transient_status(status):
        wait = retry_after_seconds(retry_after) if status in (429, 503) else None
        raise TransientDeliveryError(message, retry_after=wait)
    if 300 <= status < 400:
        raise DeliveryError(f"{message} (redirects are not followed; use the final URL)")
    raise DeliveryError(message)


def retry_after_seconds(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds a 429/503 answer asks to wait (RFC 9110 §10.2.3: delay-seconds or an
    HTTP-date), None when absent or unreadable. Capping is the delivery service's job."""
    value = (headers.get("Retry-After") if headers is not None else None) or ""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _read_quietly(response: Any) -> bytes:
    try:
        return response.read(READ_LIMIT)
    except (OSError, http.client.HTTPException):
        return b""
