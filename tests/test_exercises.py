"""For every exercise of every notebook: the untouched starter gets a hint, and the reference solution passes.

Each notebook runs once in a fresh kernel, top to bottom. After a check cell runs on the untouched starter, its output
must hold a hint and no pass line; then the revealed solution runs in the same kernel and the check cell again, which
must print the pass line. No cell may raise (the checks print hints, never tracebacks).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers.checks import HINT, PASS
from helpers.notebooks import exercises

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


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


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises(path: Path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    found = exercises(nb)
    if not found:
        pytest.skip(f"{path.name} has no exercises")
    by_check = {ex["check"]: ex for ex in found}
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    results = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)  # raises CellExecutionError on any traceback
            if index in by_check:
                starter_out = _text(cell.outputs)
                solution = nbformat.v4.new_code_cell(by_check[index]["solution"])
                client.execute_cell(solution, index)
                recheck = nbformat.v4.new_code_cell(cell.source)
                client.execute_cell(recheck, index)
                results.append((index, starter_out, _text(recheck.outputs)))
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
