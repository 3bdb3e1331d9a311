"""Security headers on every response: what a browser may load, frame, sniff and refer.

The Content-Security-Policy allows scripts and styles from Herald's own origin only — htmx,
herald.js, herald.css and the vendored Swagger UI — so there is no inline script, event
handler or style attribute in any template (they live in app/static/), and htmx is told
(base.html's htmx-config) neither to inject its indicator <style> nor to settle the `style`
attribute: settling copies it with setAttribute, which this policy refuses, whenever anything
styled a field through CSSOM (allowed) before a swap. Generated PDFs are the one thing
Herald frames itself (the template editor's live preview), so a PDF may be framed by Herald's
own pages; everything else by no page at all (clickjacking).
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Swagger UI draws its icons as data: URLs
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self' data:",  # the preview shows a PDF from the server or a data: URL
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors {ancestors}",
    ]
)
FRAMEABLE_BY_SELF = {"application/pdf"}


def security_headers(response: Response) -> Response:
    """Add CSP (W3C CSP Level 3), X-Frame-Options (RFC 7034), X-Content-Type-Options: nosniff
    and Referrer-Policy to `response`, leaving any a view set itself."""
    framed = response.mimetype in FRAMEABLE_BY_SELF
    ancestors = "'self'" if framed else "'none'"
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy", CONTENT_SECURITY_POLICY.format(ancestors=ancestors)
    )
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if framed else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Links in messages and pages carry signed tokens in their URLs: never send paths away.
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Send the security headers on every response of `app`, errors and static files too."""
    app.after_request(security_headers)
