"""Rules of the layout that a reviewer would otherwise have to remember (DESIGN.md "Layers")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
FACES = sorted(p for face in ("web", "api") for p in (APP / face).rglob("*.py"))
# A face parses, loads, calls one domain function and renders: it never queries itself.
QUERYING = re.compile(r"\bdb\.session\b|\bselect\(|^from sqlalchemy(\.orm)? import")


def test_the_faces_are_found() -> None:
    assert len(FACES) > 10 and any(p.name == "runs.py" for p in FACES)


@pytest.mark.parametrize("path", FACES, ids=lambda p: str(p.relative_to(APP)))
def test_faces_hold_no_queries(path: Path) -> None:
    hits = [
        f"{path.relative_to(APP)}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if QUERYING.search(line)
    ]
    assert not hits, (
        "move these into a domain query (app/runs/queries.py, app/jobs/queries.py):\n"
        + "\n".join(hits)
    )


@pytest.mark.parametrize(
    "path", sorted((APP / "api").glob("*.py")), ids=lambda p: str(p.relative_to(APP))
)
def test_api_handler_modules_stay_small(path: Path) -> None:
    """The API is split by resource; the OpenAPI document is data, not handlers."""
    limit = 400 if path.name == "openapi.py" else 300
    assert len(path.read_text().splitlines()) <= limit
