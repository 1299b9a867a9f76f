"""Notebook housekeeping for authors and CI: execute a notebook in place, keep it clean, find its exercises.

    python -m helpers.notebooks execute notebooks/07_logits_to_labels.ipynb   # run top to bottom, save outputs
    python -m helpers.notebooks check notebooks/*.ipynb                       # fail if a notebook is not clean

"Clean" (nbdev-style): no stored widget state, no per-cell execution timing metadata, execution counts 1..N in
order with every code cell executed. Outputs are kept: nbval compares them.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

from .errors import CourseError, run_cli

KEEP_NB_METADATA = ("kernelspec", "language_info")
KEEP_CELL_METADATA = ("tags", "jupyter", "collapsed")


def clean(nb: Any) -> Any:
    """Strip widget state and volatile metadata in place; returns the notebook."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NB_METADATA}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": "python", "version": nb.metadata["language_info"].get("version", "")}
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if cell.cell_type == "code":
            for out in cell.outputs:
                out.get("metadata", {}).pop("execution", None)
                data = out.get("data", {})
                data.pop("application/vnd.jupyter.widget-view+json", None)
    return nb


def problems(nb: Any) -> list[str]:
    """Why a committed notebook is not clean (empty list when it is)."""
    found = []
    if "widgets" in nb.metadata:
        found.append("stored widget state in metadata")
    extra = set(nb.metadata) - set(KEEP_NB_METADATA)
    if extra:
        found.append(f"extra notebook metadata {sorted(extra)}")
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if counts and counts != list(range(1, len(counts) + 1)):
        found.append("execution counts are not 1..N in order (run it top to bottom in a fresh kernel)")
    for i, cell in enumerate(nb.cells):
        extra_cell = set(cell.metadata) - set(KEEP_CELL_METADATA)
        if extra_cell:
            found.append(f"cell {i}: extra metadata {sorted(extra_cell)}")
        if cell.cell_type == "code":
            for out in cell.outputs:
                if out.output_type == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                    found.append(f"cell {i}: stored error {out.get('ename')}")
                if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                    found.append(f"cell {i}: stored widget view")
    return found


def execute(path: Path, timeout: int = 900) -> float:
    """Run a notebook top to bottom in a fresh kernel (cwd = its folder), save it clean; returns seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources).execute()
    seconds = time.perf_counter() - t0
    nbformat.write(clean(nb), path)
    return seconds


SOLUTION_RE = re.compile(r"```python\n(.*?)```", re.S)


def exercises(nb: Any) -> list[dict[str, Any]]:
    """The exercises of a notebook: indices of starter and check cells, and the reference solution's code.

    Cells are tagged ``exercise-starter`` (code), ``exercise-check`` (code) and ``exercise-solution`` (markdown with
    the solution in a ```python block inside a collapsed <details>), in that order, once per exercise.
    """
    tagged: dict[str, list[int]] = {"exercise-starter": [], "exercise-check": [], "exercise-solution": []}
    for i, cell in enumerate(nb.cells):
        for tag in cell.metadata.get("tags", []):
            if tag in tagged:
                tagged[tag].append(i)
    starters, checks, solutions = tagged.values()
    if not (len(starters) == len(checks) == len(solutions)):
        raise CourseError(f"exercise cells do not pair up: {len(starters)} starters, {len(checks)} checks, "
                          f"{len(solutions)} solutions.")
    out = []
    for s, c, sol in zip(starters, checks, solutions):
        if not s < c < sol:
            raise CourseError(f"exercise at cell {s}: expected starter, check, solution in that order.")
        match = SOLUTION_RE.search(nb.cells[sol].source)
        if not match:
            raise CourseError(f"solution cell {sol} has no ```python block.")
        out.append({"starter": s, "check": c, "solution_cell": sol, "solution": match.group(1)})
    return out


# ---------------------------------------------------------------- authoring


def md(source: str, tags: tuple[str, ...] = ()) -> Any:
    import nbformat

    cell = nbformat.v4.new_markdown_cell(source.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def code(source: str, tags: tuple[str, ...] = (), hidden: bool = False) -> Any:
    import nbformat

    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    if hidden:
        cell.metadata["jupyter"] = {"source_hidden": True}
    return cell


def exercise_cells(starter: str, check: str, solution: str) -> list[Any]:
    """Starter (runs untouched), check (prints a pass line or a hint), reference solution (collapsed)."""
    reveal = ("<details><summary><b>Reveal a reference solution</b> (try first!)</summary>\n\n"
              f"```python\n{solution.strip()}\n```\n\n</details>")
    return [code(starter, tags=("exercise-starter",)), code(check, tags=("exercise-check",)),
            md(reveal, tags=("exercise-solution",))]


def launch_cells(notebook: str) -> list[Any]:
    """The launch row (Colab and Binder badges) and the Colab-only set-up cell that open every notebook."""
    from .launch import COLAB_TAG, LAUNCH_TAG, badges, colab_cell

    return [md(badges(notebook), tags=(LAUNCH_TAG,)), code(colab_cell(), tags=(COLAB_TAG,))]


def write(path: Path, cells: list[Any]) -> None:
    """Write a new (unexecuted) notebook with the course's kernel metadata."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, path)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.notebooks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("execute", help="run notebooks top to bottom and save them clean")
    ex.add_argument("paths", nargs="+", type=Path)
    ck = sub.add_parser("check", help="fail if notebooks are not clean")
    ck.add_argument("paths", nargs="+", type=Path)
    cl = sub.add_parser("clean", help="strip widget state and volatile metadata (outputs kept)")
    cl.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    import nbformat

    bad = 0
    for path in args.paths:
        if args.cmd == "execute":
            print(f"{path}: executed in {execute(path):.1f} s")
        elif args.cmd == "clean":
            nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        else:
            found = problems(nbformat.read(path, as_version=4))
            for p in found:
                print(f"{path}: {p}")
            bad += bool(found)
    return 1 if bad else 0


if __name__ == "__main__":
    run_cli(main)
