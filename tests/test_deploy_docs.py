"""docs/DEPLOY.md names every setting the code reads, and the Procfile's roles are the ones it
documents (issue 16, point 5): a new environment variable without documentation fails here.

The variables are found by parsing the source of app/, workers/ and wsgi.py, not by a list
kept here: `os.environ.get("X")`, `os.environ["X"]`, `os.getenv("X")`, `"X" in os.environ`,
a module's own helper that reads the environment with its argument (`_int("X", 3)`), and any
string that is exactly a `HERALD_*` name (e.g. the size limits' `Limit(..., "HERALD_MAX_…")`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "DEPLOY.md"
SOURCES = [*sorted((ROOT / "app").rglob("*.py")), *sorted((ROOT / "workers").rglob("*.py"))]
SOURCES.append(ROOT / "wsgi.py")
HERALD_NAME = re.compile(r"HERALD_[A-Z0-9_]+")
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def _dotted(node: ast.AST) -> str:
    """`os.environ.get` for that attribute chain; "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _reads_environ(node: ast.AST) -> ast.AST | None:
    """The expression naming the variable when `node` reads the environment, else None."""
    if isinstance(node, ast.Call) and node.args:
        name = _dotted(node.func)
        if name.endswith(("environ.get", "environ.setdefault", "environ.pop", "getenv")):
            return node.args[0]
    if isinstance(node, ast.Subscript) and _dotted(node.value).endswith("environ"):
        return node.slice
    if (
        isinstance(node, ast.Compare)
        and len(node.comparators) == 1
        and isinstance(node.ops[0], ast.In | ast.NotIn)
        and _dotted(node.comparators[0]).endswith("environ")
    ):
        return node.left
    return None


def _constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if ENV_NAME.fullmatch(node.value) else None
    return None


def env_vars_in(source: str) -> set[str]:
    """Every environment variable a module's source reads (see the module docstring)."""
    tree = ast.parse(source)
    found: set[str] = set()
    helpers: dict[str, int] = {}  # function name -> index of the parameter it looks up
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            params = [a.arg for a in node.args.args]
            for inner in ast.walk(node):
                looked_up = _reads_environ(inner)
                if isinstance(looked_up, ast.Name) and looked_up.id in params:
                    helpers[node.name] = params.index(looked_up.id)
        if name := _constant(_reads_environ(node)):
            found.add(name)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and HERALD_NAME.fullmatch(node.value)
        ):
            found.add(node.value)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            index = helpers.get(node.func.id)
            arg = node.args[index] if index is not None and len(node.args) > index else None
            if name := _constant(arg):
                found.add(name)
    return found


def settings_in_code() -> set[str]:
    return set().union(*(env_vars_in(path.read_text(encoding="utf-8")) for path in SOURCES))


def documented() -> set[str]:
    """Variables named in the first column of DEPLOY.md's settings table."""
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", DEPLOY.read_text(), re.MULTILINE))


def test_the_parser_finds_each_way_the_code_reads_a_setting():
    source = (
        "import os\n"
        "from os import environ\n"
        "def _int(name, default):\n    return int(os.environ.get(name, default))\n"
        "A = os.environ.get('ONE')\nB = os.environ['TWO']\nC = os.getenv('THREE')\n"
        "D = 'FOUR' in os.environ\nE = _int('FIVE', 3)\nF = environ.get('SIX')\n"
        "G = Limit('KEY', 'HERALD_SEVEN', 1)\n"
        "H = config['NOT_AN_ENV_VAR']\nI = 'Text HERALD_EIGHT in a sentence'\n"
    )
    assert env_vars_in(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "HERALD_SEVEN"}


def test_the_code_is_read():
    found = settings_in_code()
    # One of each kind the parser knows, so an empty walk cannot pass the next test.
    assert {"DATABASE_URL", "SMTP_HOST", "HERALD_LEASE_SECONDS", "HERALD_MAX_DATA_BYTES"} <= found
    assert "HERALD_THROTTLE_WINDOW_SECONDS" in found


def test_every_setting_the_code_reads_is_in_deploy_md():
    missing = settings_in_code() - documented()
    assert not missing, f"settings read by the code but not documented in docs/DEPLOY.md: {missing}"


def test_deploy_md_documents_no_setting_twice():
    names = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", DEPLOY.read_text(), re.MULTILINE)
    assert len(names) == len(set(names))


def procfile() -> dict[str, str]:
    roles = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            role, _, command = line.partition(":")
            roles[role.strip()] = command.strip()
    return roles


def test_the_procfile_roles_are_the_ones_deploy_md_documents():
    table = dict(re.findall(r"^\| `([a-z]+)` \| `([^`]+)` \|", DEPLOY.read_text(), re.MULTILINE))
    assert procfile() == table
    assert set(table) == {"release", "web", "worker", "clock"}
    # The release role is the migration command the README and `./dev run` use.
    assert table["release"] == "flask --app wsgi db upgrade"
