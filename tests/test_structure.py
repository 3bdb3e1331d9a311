"""Structure rules the linters do not check: small modules (issue #14, STYLE.md)."""

from __future__ import annotations

from pathlib import Path

import app

MAX_LINES = 400
APP = Path(app.__file__).parent


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
