"""Small first-page pictures of generated PDFs, for the entry list and the review queue.

Each is rendered once from the stored PDF (PDFium, through the pypdfium2 wheel: no system
package) and kept in storage beside the reports; later requests read the stored PNG.
"""

from __future__ import annotations

import io
import logging
import threading

import pypdfium2 as pdfium

from app import storage
from app.models import Artifact

THUMBNAIL_WIDTH = 160  # pixels; shown at 80 CSS px wide, so sharp on 2x screens
# PDFium keeps global state and is not thread-safe (pypdfium2 docs, "Thread safety"):
# threaded web servers render one thumbnail at a time.
_PDFIUM = threading.Lock()
log = logging.getLogger(__name__)


def thumbnail_key(artifact: Artifact) -> str:
    """Where the artifact's thumbnail is stored (one per artifact, never shared)."""
    return f"thumbnails/{artifact.id}.png"


def render_first_page(pdf: bytes, width: int = THUMBNAIL_WIDTH) -> bytes:
    """The first page of `pdf` as PNG bytes `width` pixels wide (height keeps the aspect).

    Raises pdfium.PdfiumError for a file PDFium cannot read, ValueError for one without pages."""
    with _PDFIUM:
        document = pdfium.PdfDocument(pdf)
        try:
            if len(document) == 0:
                raise ValueError("the PDF has no pages")
            page = document[0]
            image = page.render(scale=width / page.get_width()).to_pil()
            page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def thumbnail(artifact: Artifact) -> str | None:
    """The storage key of the artifact's thumbnail, rendering and storing it on first use;
    None when there is no picture to show (no stored PDF, one PDFium cannot read, or a store
    that does not answer), so a page shows its placeholder instead of breaking."""
    if artifact.status != "generated" or not artifact.storage_key:
        return None
    if artifact.content_type != "application/pdf":  # a CSV or XLSX file has no page to show
        return None
    key = thumbnail_key(artifact)
    try:
        if storage.exists(key):
            return key
        png = render_first_page(storage.load(artifact.storage_key))
    except (OSError, ValueError, pdfium.PdfiumError) as exc:
        log.warning("no thumbnail for artifact %s: %s", artifact.id, exc)
        return None
    storage.save(key, png)
    return key
