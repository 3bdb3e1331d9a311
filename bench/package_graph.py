"""Print Herald's package graph: every direct import between top-level packages, and cycles.

Usage: python bench/package_graph.py [--modules]

Each line `app.X -> app.Y` is one package importing another directly (grimp, with
`as_packages=True`; `app` and `workers` are the roots). Modules directly under `app/`
(`app.models` is a package, `app.config` a module) count as their own node. After the edges
come the two-way pairs and the longer cycles (strongly connected components of more than
one node); "no cycles" when there are none. `--modules` adds, under each edge, the module
imports that make it, so a violation is easy to find.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def node(module: str) -> str:
    """The graph node of a module: its package two levels deep (`app.runs`, `workers.tasks`)."""
    return ".".join(module.split(".")[:2])


def edges(graph: grimp.ImportGraph) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Map each (importer node, imported node) to the module imports that make that edge."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = node(importer), node(imported)
            if a != b:
                found.setdefault((a, b), []).append((importer, imported))
    return found


def cycles(pairs: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan's algorithm)."""
    succ: dict[str, set[str]] = {}
    for a, b in pairs:
        succ.setdefault(a, set()).add(b)
        succ.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    """Build the graph from the checkout this script lives in and print it."""
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("app", "workers", cache_dir=None)
    found = edges(graph)
    show_modules = "--modules" in sys.argv[1:]
    for a, b in sorted(found):
        print(f"{a} -> {b}")
        if show_modules:
            for importer, imported in sorted(found[(a, b)]):
                print(f"    {importer} -> {imported}")
    pairs = set(found)
    two_way = sorted((a, b) for a, b in pairs if (b, a) in pairs and a < b)
    print()
    print(f"{len(pairs)} package imports; two-way pairs: {len(two_way)}")
    for a, b in two_way:
        print(f"  {a} <-> {b}")
    comps = cycles(pairs)
    if comps:
        for comp in comps:
            print("cycle: " + ", ".join(comp))
    else:
        print("no cycles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
