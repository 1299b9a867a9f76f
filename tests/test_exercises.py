"""For every exercise of every notebook: the untouched starter gets a hint, and the reference solution passes.

Each notebook runs once in a fresh kernel, top to bottom. After a check cell runs on the untouched starter, its output
must hold a hint and no pass line; then the revealed solution runs in the same kernel and the check cell again, which
must print the pass line. No cell may raise (the checks print hints, never tracebacks).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_tools import paths
from helpers.checks import HINT, PASS
from course_tools.notebooks import describe, exercises, run

pytestmark = pytest.mark.notebooks  # runs kernels: not in `make test-fast`

NOTEBOOKS = paths.lessons()


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(str(out["data"].get("text/plain", "")))
        elif out.get("output_type") == "error":
            parts.append(f"ERROR {out.get('ename')}: {out.get('evalue')}")
    return "".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises(path: Path):
    nb = nbformat.read(path, as_version=4)
    found = exercises(nb)
    if not found:
        pytest.skip(f"{path.name} has no exercises")
    by_check = {ex["check"]: ex for ex in found}
    results = []

    def solve_and_recheck(index, cell, execute):
        if index in by_check:
            execute(by_check[index]["solution"])
            results.append((index, _text(cell.outputs), _text(execute(cell.source).outputs)))

    error = run(nb, path.parent, timeout=600, after_cell=solve_and_recheck)["error"]
    assert error is None, f"a cell raised {describe(error)}"
    assert len(results) == len(found), "not every check cell ran"
    for index, starter_out, solved_out in results:
        assert HINT in starter_out and PASS not in starter_out, f"cell {index}: untouched starter got {starter_out!r}"
        assert PASS in solved_out and HINT not in solved_out, f"cell {index}: reference solution got {solved_out!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lessons_have_at_least_two_exercises(path: Path):
    nb = nbformat.read(path, as_version=4)
    if path.name.startswith("00_"):
        assert len(exercises(nb)) >= 1
    else:
        assert len(exercises(nb)) >= 2, f"{path.name} needs at least two checked exercises"
