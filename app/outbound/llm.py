"""The one call Herald makes to a language model: an OpenAI-compatible chat completion
(`POST {HERALD_LLM_BASE_URL}/chat/completions`), used by the optional written summary
(docs/SUMMARY.md).

The endpoint is an operator's setting (environment), not something an editor types, so the
private-address guard of webhooks (app/outbound/post.py) does not apply: a model served on
this machine or the local network is the usual case. The API key is sent as a bearer token
and appears in no message, log line or exception this module produces.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from flask import current_app

# How much of an unexpected answer an error message quotes.
EXCERPT_CHARS = 120
# Largest answer read (bytes): a chat completion of HERALD_LLM_MAX_OUTPUT_CHARS characters is a
# few kilobytes of JSON; anything near this is not a summary.
MAX_ANSWER_BYTES = 1_000_000


class SummaryError(RuntimeError):
    """The endpoint gave no usable text; the message says why in one sentence, without the key."""


@dataclass(frozen=True)
class Completion:
    """The model's text (already cut to HERALD_LLM_MAX_OUTPUT_CHARS) and the sizes, in
    characters, of what was sent (every message's content) and what came back (before the
    cut)."""

    text: str
    prompt_chars: int
    response_chars: int


def llm_configured() -> bool:
    """True when HERALD_LLM_BASE_URL and HERALD_LLM_MODEL are both set (the key is optional:
    a local server may need none)."""
    config = current_app.config
    return bool(config.get("LLM_BASE_URL") and config.get("LLM_MODEL"))


def chat_completion(system: str, user: str) -> Completion:
    """Ask the configured model once: a system and a user message, `temperature` 0.2.

    Reads `choices[0].message.content` of the JSON answer. Raises SummaryError when the
    summary is not configured, on a timeout (HERALD_LLM_TIMEOUT_SECONDS: the whole answer
    must have arrived within it), a refused connection, a non-2xx status (a redirect
    included: none is followed), an answer over MAX_ANSWER_BYTES, not JSON (or not
    UTF-8) or lacking that text, or an empty text. Never retries: the caller renders
    without a summary.
    """
    config = current_app.config
    if not llm_configured():
        raise SummaryError("no summary endpoint is configured (HERALD_LLM_BASE_URL, _MODEL)")
    url = str(config["LLM_BASE_URL"]).rstrip("/") + "/chat/completions"
    headers = {"Accept": "application/json", "User-Agent": "Herald"}
    if config.get("LLM_API_KEY"):
        headers["Authorization"] = f"Bearer {config['LLM_API_KEY']}"
    body = {
        "model": config["LLM_MODEL"],
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "temperature": 0.2,
    }
    timeout = float(config["LLM_TIMEOUT_SECONDS"])
    try:
        raw = _post(url, body, headers, timeout)
    except httpx.TimeoutException:
        raise SummaryError(f"the summary endpoint gave no answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise SummaryError(
            f"the summary endpoint could not be reached ({type(exc).__name__})"
        ) from None
    text = _content(raw)
    limit = int(config["LLM_MAX_OUTPUT_CHARS"])
    return Completion(
        text=text[:limit].strip(),
        prompt_chars=len(system) + len(user),
        response_chars=len(text),
    )


def _post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> bytes:
    """POST `body` as JSON and read the 2xx answer's bytes, bounded in size and in time.

    The answer is read as it arrives and given up past MAX_ANSWER_BYTES (a 100 MB stream is
    never held) or once `timeout` seconds have passed since the request began: httpx's own
    timeout bounds each read, so bytes trickling in one at a time would otherwise keep a
    worker for ever. Raises SummaryError (status, size), httpx.TimeoutException (time)."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    with (
        httpx.Client(timeout=timeout, follow_redirects=False) as client,
        client.stream("POST", url, json=body, headers=headers) as response,
    ):
        if not 200 <= response.status_code < 300:
            raise SummaryError(f"the summary endpoint answered HTTP {response.status_code}")
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise SummaryError(
                    f"the summary endpoint's answer is larger than {MAX_ANSWER_BYTES:,} bytes"
                )
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took longer than the timeout")
            chunks.append(chunk)
    return b"".join(chunks)


def _content(raw: bytes) -> str:
    """`choices[0].message.content` of a chat-completions answer, else SummaryError."""
    try:
        answer = json.loads(raw)
        text = answer["choices"][0]["message"]["content"]
    except ValueError:
        raise SummaryError("the summary endpoint's answer is not JSON") from None
    except (KeyError, IndexError, TypeError):
        raise SummaryError(
            "the summary endpoint's answer has no choices[0].message.content"
        ) from None
    if not isinstance(text, str) or not text.strip():
        raise SummaryError("the summary endpoint answered with an empty text")
    return text
