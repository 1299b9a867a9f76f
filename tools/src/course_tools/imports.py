"""Who imports whom among the course's own modules: one resolver for the launch cell (which kit entries a notebook
reaches through the modules it imports) and for the layout test (the learner's package never imports the tooling).

Every import counts, lazy ones inside functions too, relative ones resolved against their package.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterable


def modules(*src: Path) -> dict[str, Path]:
    """Every module under the source folders ``src`` (each holding packages): dotted name -> file."""
    out = {}
    for folder in src:
        for path in sorted(Path(folder).rglob("*.py")):
            name = ".".join(path.relative_to(folder).with_suffix("").parts).removesuffix(".__init__")
            out[name] = path
    return out


def imported(name: str, path: Path) -> set[str]:
    """The dotted names module ``name`` (at ``path``) imports: ``from .checks import lesson07`` in ``helpers`` gives
    ``helpers.checks`` and ``helpers.checks.lesson07``; absolute imports as written."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + (node.module.split(".") if node.module else []))
            found.add(mod)
            found |= {f"{mod}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def graph(*src: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same source folders it imports (never itself)."""
    known = modules(*src)
    return {name: {m for m in imported(name, path) if m in known and m != name} for name, path in known.items()}


def reachable(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    """The modules of ``edges`` that ``start`` names, and every module those import, and so on."""
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in edges and name not in seen:
            seen.add(name)
            for imported_name in edges[name]:
                visit(imported_name)

    for name in start:
        visit(name)
    return seen
