"""Rules of the layout that a reviewer would otherwise have to remember (DESIGN.md "Layers"):
faces hold no queries, small modules (issue #14, STYLE.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import app

MAX_LINES = 400
APP = Path(app.__file__).parent
FACES = sorted(p for face in ("web", "api") for p in (APP / face).rglob("*.py"))
# A face parses, loads, calls one domain function and renders: it never queries itself.
QUERYING = re.compile(r"\bdb\.session\b|\bselect\(|^from sqlalchemy(\.orm)? import")


def modules_over(limit: int, root: Path = APP) -> dict[str, int]:
    """Python modules under `root` longer than `limit` lines, as {relative path: lines}."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found[str(path.relative_to(root.parent))] = lines
    return found


def test_the_check_sees_modules() -> None:
    # A limit no module can meet lists them all: the walk finds the code it guards.
    assert "app/__init__.py" in modules_over(0)


def test_no_app_module_over_400_lines() -> None:
    assert modules_over(MAX_LINES) == {}


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
    limit = MAX_LINES if path.name == "openapi.py" else 300
    assert len(path.read_text().splitlines()) <= limit


def test_no_import_is_hidden_inside_a_function() -> None:
    """A function-level `from app...` import dodges the layer contract (import-linter sees
    it, but a reader does not): move the thing to the layer it belongs to instead."""
    roots = [APP, APP.parent / "workers", APP.parent / "herald_procs"]
    hidden = [
        f"{path.relative_to(APP.parent)}:{n}: {line.strip()}"
        for root in roots
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s+(from app[.\s]|import app\b)", line)
    ]
    assert hidden == []


TESTS = Path(__file__).parent
# Packages of domain code (DESIGN.md "Layers" 3–8): each has its tests in tests/<package>/.
DOMAIN_PACKAGES = [
    "jobs",
    "connections",
    "runs",
    "delivery",
    "scheduling",
    "mail",
    "conditions",
    "review",
    "rendering",
    "datasources",
]
CONFTEST_IMPORT = re.compile(r"^\s*(from\s+(\S*\.)?conftest\s+import|import\s+\S*\bconftest\b)")


def conftest_imports(root: Path = TESTS) -> list[str]:
    """Lines under `root` that import from a conftest module, as "path:line: text"."""
    return [
        f"{path.relative_to(root.parent)}:{n}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CONFTEST_IMPORT.match(line)
    ]


def test_the_conftest_check_sees_an_import(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("import os\nfrom tests.api.conftest import Api\n")
    (tmp_path / "test_y.py").write_text("    from .conftest import fires\n")
    assert conftest_imports(tmp_path) == [
        f"{tmp_path.name}/test_x.py:2: from tests.api.conftest import Api",
        f"{tmp_path.name}/test_y.py:1: from .conftest import fires",
    ]


def test_no_test_module_imports_from_a_conftest() -> None:
    """Shared helpers live in tests/helpers.py; a conftest holds fixtures only."""
    assert conftest_imports() == []


def test_every_domain_package_has_its_test_package() -> None:
    """tests/ mirrors app/ (DESIGN.md "Layout"): a domain package's tests sit in
    tests/<package>/, so a reader finds them where the code is."""
    assert [p for p in DOMAIN_PACKAGES if not (APP / p / "__init__.py").is_file()] == []
    missing = [
        p
        for p in DOMAIN_PACKAGES
        if not (TESTS / p / "__init__.py").is_file() or not list((TESTS / p).glob("test_*.py"))
    ]
    assert missing == []
