"""The one call Herald makes to a language model: an OpenAI-compatible chat completion
(`POST {HERALD_LLM_BASE_URL}/chat/completions`), used by the optional written summary
(docs/SUMMARY.md).

The endpoint is an operator's setting (environment), not something an editor types, so the
private-address guard of webhooks (app/outbound/post.py) does not apply: a model served on
this machine or the local network is the usual case. The API key is sent as a bearer token
and appears in no message, log line or exception this module produces.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from flask import current_app

# How much of an unexpected answer an error message quotes.
EXCERPT_CHARS = 120


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
    summary is not configured, on a timeout (HERALD_LLM_TIMEOUT_SECONDS, for connecting and
    for each read), a refused connection, a non-2xx status, an answer that is not JSON or
    lacks that text, or an empty text. Never retries: the caller renders without a summary.
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
        response = httpx.post(
            url, json=body, headers=headers, timeout=timeout, follow_redirects=False
        )
    except httpx.TimeoutException:
        raise SummaryError(f"the summary endpoint gave no answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise SummaryError(
            f"the summary endpoint could not be reached ({type(exc).__name__})"
        ) from None
    if not 200 <= response.status_code < 300:
        raise SummaryError(f"the summary endpoint answered HTTP {response.status_code}")
    text = _content(response)
    limit = int(config["LLM_MAX_OUTPUT_CHARS"])
    return Completion(
        text=text[:limit].strip(),
        prompt_chars=len(system) + len(user),
        response_chars=len(text),
    )


def _content(response: httpx.Response) -> str:
    """`choices[0].message.content` of a chat-completions answer, else SummaryError."""
    try:
        answer = response.json()
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
