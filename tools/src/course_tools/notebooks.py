"""Notebook housekeeping for authors and CI: execute a notebook in place, keep it clean, find its exercises.

    python -m course_tools.notebooks execute notebooks/07_logits_to_labels.ipynb   # run top to bottom, save outputs
    python -m course_tools.notebooks check notebooks/*.ipynb                       # fail if a notebook is not clean

"Clean" (nbdev-style): no stored widget state, no per-cell execution timing metadata, execution counts 1..N in
order with every code cell executed. Outputs are kept: nbval compares them.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any, Callable

from helpers.errors import CourseError, run_cli
from helpers.files import write_atomic

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


Execute = Callable[[str], Any]  # runs more code in the same kernel; returns the executed cell (its outputs)

# Run last in the kernel: it prints the kernel's peak resident memory in MiB.
PEAK_RSS = """
import resource, sys
try:  # Linux: this kernel's own high-water mark. getrusage's ru_maxrss would also count the memory of the process
    # that started the kernel (it survives fork and exec), which may be a benchmark with a model loaded.
    _peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    _peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
print(_peak)
"""


def run(nb: Any, cwd: Path | str, timeout: int = 900,
        after_cell: Callable[[int, Any, Execute], None] | None = None) -> dict[str, Any]:
    """Execute the code cells of ``nb`` in place, top to bottom, in a fresh kernel whose working directory is
    ``cwd``, stopping at the first error: the one way the course runs a notebook (``execute`` below, ``make course``,
    ``make bench``, the exercise test).

    ``after_cell(index, cell, execute)`` is called after each code cell; ``execute(source)`` runs more code in the
    same kernel (not stored in ``nb``). Returns ``{"seconds": time of nb's own cells, "error": what stopped it (a
    cell's error, a timeout, a dead kernel) or None, "peak_mib": the kernel's peak resident memory, read in it last
    (even after an error, unless the kernel died), or None}``.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})

    def execute(source: str) -> Any:
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)  # executed at an index of its own, so no stored cell's outputs are touched
        try:
            return client.execute_cell(cell, len(nb.cells) - 1)
        finally:
            nb.cells.pop()

    result: dict[str, Any] = {"error": None, "peak_mib": None}
    with client.setup_kernel():
        t0 = time.perf_counter()
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
                    if after_cell:
                        after_cell(index, cell, execute)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            result["error"] = err
        result["seconds"] = time.perf_counter() - t0
        if not isinstance(result["error"], DeadKernelError):
            printed = "".join(o.get("text", "") for o in execute(PEAK_RSS).outputs if o.get("output_type") == "stream")
            try:
                result["peak_mib"] = float(printed.strip().splitlines()[-1])
            except (ValueError, IndexError):
                pass
    return result


def describe(error: BaseException) -> str:
    """``ename: evalue`` of a cell's error (or the kind and message of a timeout / dead kernel), on one line."""
    name = getattr(error, "ename", None) or type(error).__name__
    value = str(getattr(error, "evalue", None) or error).strip().splitlines()
    return f"{name}: {value[-1] if value else ''}"


def execute(path: Path, timeout: int = 900) -> float:
    """Run a notebook top to bottom in a fresh kernel (cwd = its folder), save it clean; returns seconds."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    result = run(nb, path.parent, timeout)
    if result["error"] is not None:
        raise result["error"]
    write_atomic(path, nbformat.writes(clean(nb)))
    return result["seconds"]


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


def write(path: Path, cells: list[Any]) -> None:
    """Write a new (unexecuted) notebook with the course's kernel metadata."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, path)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.notebooks")
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
