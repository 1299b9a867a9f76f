"""Who uses what: the learner's package (helpers: everything a notebook reaches through its imports, checks and
lessons included) imports nothing from the tooling (course_tools: build, site, launch, workspace, hub, benchmarks).
The picture, one arrow per pair of groups, is drawn here and must be exactly this one."""

from __future__ import annotations

import re

import nbformat
import pytest

from course_tools import imports, paths
from course_tools.launch import HELPERS_IMPORT

ROOT = paths.root()
SRC = (ROOT / "helpers" / "src", ROOT / "tools" / "src")
GRAPH = imports.graph(*SRC)
LEARNER, TOOLING = "helpers (the learner's)", "course_tools (the tooling)"
# group -> the groups it may import: the tooling uses the learner's package, never the other way round
PICTURE = {(TOOLING, LEARNER)}


def group(module: str) -> str:
    return LEARNER if module.split(".")[0] == "helpers" else TOOLING


def notebook_imports() -> set[str]:
    """The helpers modules the lessons import (``from helpers.x import y`` gives helpers.x and helpers.x.y)."""
    found = set()
    for path in paths.lessons():
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        for m in HELPERS_IMPORT.finditer(text):
            if m.group(3):
                found.add(m.group(3))
            else:
                found.add(m.group(1))
                found |= {f"{m.group(1)}.{n.strip()}" for n in re.split(r"[\s,()]+", m.group(2)) if n.strip()}
    return found


def test_the_picture():
    arrows = {(group(a), group(b)) for a, deps in GRAPH.items() for b in deps if group(a) != group(b)}
    drawn = "\n".join(f"{a} -> {b}" for a, b in sorted(arrows))
    print(f"\n{drawn}")
    assert arrows == PICTURE, f"the packages import each other as\n{drawn}\nnot as {PICTURE}"


def test_the_learners_package_names_no_tooling_anywhere():
    """Not even a lazy import inside a function, nor one the graph cannot resolve."""
    files = imports.modules(SRC[0])
    for name, path in files.items():
        wrong = {m for m in imports.imported(name, path) if m.split(".")[0] == "course_tools"}
        assert not wrong, f"{name} imports {wrong}"


def test_what_the_notebooks_reach_is_the_learners_package():
    reached = imports.reachable(notebook_imports(), GRAPH)
    assert {"helpers.checks.lesson08", "helpers.lessons.generate", "helpers.models"} <= reached
    assert {m for m in reached if group(m) != LEARNER} == set()


@pytest.mark.parametrize("start", ["helpers.lessons", "helpers.checks"])
def test_no_arrow_from_lessons_or_checks_to_hub_site_course_or_bench(start):
    begin = [m for m in GRAPH if m == start or m.startswith(start + ".")]
    banned = re.compile(r"^course_tools\.(hub|site|course|bench\w*)$")
    assert not [m for m in imports.reachable(begin, GRAPH) if banned.match(m)]


def test_the_check_sees_lazy_and_relative_imports():
    """The graph is what the tests above trust: it sees an import inside a function and a relative one."""
    assert "course_tools.notebooks" in GRAPH["course_tools.launch"]  # `from .notebooks import ...` in a function
    assert "helpers.models" in GRAPH["helpers.checks.core"]  # `from ..models import checkpoint` in a function


def test_no_import_cycle():
    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, f"import cycle: {' -> '.join(trail[trail.index(name):] + (name,))}"
        for dep in sorted(GRAPH[name]):
            visit(dep, trail + (name,))

    for module in GRAPH:
        visit(module, ())
