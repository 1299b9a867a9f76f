"""Instructor build (``make course``): every notebook executed with the instructor's parameters, timed and measured.

    python -m course_tools.course                     # every notebooks/NN_*.ipynb
    python -m course_tools.course -p SEED 1           # papermill parameters, as `make course PARAMS="-p SEED 1"`
    python -m course_tools.course -y "{seed: 1}" -r text "it's raw" --notebooks notebooks --out build

For each notebook, in order: papermill injects the parameters and the course's one runner
(``course_tools.notebooks.run``) executes it in a fresh kernel (cwd = its folder, as in the course) into
``build/executed/``; ``build/course-report.md`` (and ``.json``) gives each notebook's run time and the kernel's peak
memory (resident set size). ``make site`` turns the executed notebooks into the course's one rendering, a website
(course_tools.site): a folder of static files to publish, or zip and hand out.

A parameter is passed only to the notebooks whose ``parameters`` cell declares it; a parameter no notebook declares
is an error (a typo would otherwise be ignored silently). Plots use the inline backend whatever ``MPLBACKEND`` says.
A notebook that fails is still rendered (with its error) and the build ends with status 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from .paths import LESSON_GLOB, lessons
from helpers.errors import CourseError, run_cli
from helpers.files import write_atomic

INLINE = "module://matplotlib_inline.backend_inline"


def resolve_value(value: str) -> Any:
    """papermill's ``-p`` typing: True/False/None, then int, then float, else the string itself."""
    special = {"True": True, "False": False, "None": None}
    if value in special:
        return special[value]
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def parse_params(p: list[list[str]] | None, r: list[list[str]] | None, y: list[str] | None) -> dict[str, Any]:
    import yaml

    params: dict[str, Any] = {}
    for text in y or []:
        loaded = yaml.safe_load(text)
        if not isinstance(loaded, dict):
            raise CourseError(f"-y {text!r} is not a YAML mapping: write it as -y '{{seed: 1}}'.")
        params.update(loaded)
    params.update({name: resolve_value(value) for name, value in p or []})
    params.update({name: value for name, value in r or []})
    return params


def title(nb: Any, fallback: str) -> str:
    first = nb.cells[0].source.splitlines()[0] if nb.cells and nb.cells[0].source else ""
    return first.lstrip("# ").strip() or fallback


def declared_parameters(path: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(path)))


# ---------------------------------------------------------------- one notebook


def run_one(src: Path, out: Path, params: dict[str, Any], timeout: int) -> dict[str, Any]:
    """Execute one notebook with ``params`` injected after its parameters cell (papermill's parameterize), by the
    course's one runner; the executed notebook, error included, is written to ``out``."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from .notebooks import describe, run

    nb = load_notebook_node(str(src))  # nbformat.read, plus the empty tag lists papermill's parameterize expects
    if params:
        nb = parameterize_notebook(nb, params, kernel_name="python3", language="python")
    result = run(nb, src.parent, timeout)
    write_atomic(out, nbformat.writes(nb))
    status = "ok"
    if result["error"] is not None:
        failed = [i for i, c in enumerate(nb.cells) if any(o["output_type"] == "error" for o in c.get("outputs", ()))]
        status = f"failed in cell {failed[0] if failed else '?'}: {describe(result['error'])}"[:300]
    peak = None if result["peak_mib"] is None else round(result["peak_mib"], 1)
    return {"seconds": round(result["seconds"], 1), "peak_mib": peak, "status": status}


# ---------------------------------------------------------------- the report


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MiB"


def report_markdown(rows: list[dict[str, Any]], params: dict[str, Any]) -> str:
    lines = ["| # | notebook | run time | peak memory (kernel) | parameters | status |", "|---|---|---|---|---|---|"]
    for r in rows:
        given = ", ".join(f"{k}={v!r}" for k, v in r["parameters"].items()) or "-"
        lines.append(f"| {r['name'][:2]} | {r['name']} | {r['seconds']:.1f} s | {_mib(r['peak_mib'])} | {given} "
                     f"| {r['status']} |")
    total = sum(r["seconds"] for r in rows)
    peaks = [r["peak_mib"] for r in rows if r["peak_mib"] is not None]
    lines.append(f"| | **total** | **{total:.1f} s** | max {_mib(max(peaks) if peaks else None)} | | |")
    head = f"Course build, {dt.datetime.now():%Y-%m-%d %H:%M}, parameters: {params or 'none'}\n\n"
    return head + "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the build


def build(notebooks: Path, out: Path, params: dict[str, Any], timeout: int = 900) -> list[dict[str, Any]]:
    import nbformat

    paths = lessons(notebooks)
    if not paths:
        raise CourseError(f"No notebooks matching {LESSON_GLOB} in {notebooks}.")
    declared = {p: declared_parameters(p) for p in paths}
    unknown = set(params) - set().union(*declared.values())
    if unknown:
        known = ", ".join(sorted(set().union(*declared.values()))) or "none"
        raise CourseError(f"No notebook declares the parameter(s) {', '.join(sorted(unknown))}: "
                          f"the notebooks' parameters are {known}.")
    os.environ["MPLBACKEND"] = INLINE  # each kernel inherits it: plots stored as images, whatever the caller's
    rows = []
    for path in paths:
        given = {k: v for k, v in params.items() if k in declared[path]}
        result = run_one(path, out / "executed" / path.name, given, timeout)
        row = {"name": path.name, "title": title(nbformat.read(path, as_version=4), path.stem), "parameters": given,
               **result}
        rows.append(row)
        print(f"[course] {path.name}: {row['seconds']:.1f} s, peak {_mib(row['peak_mib'])}, {row['status']}",
              flush=True)
    (out / "course-report.md").write_text(report_markdown(rows, params))
    (out / "course-report.json").write_text(json.dumps({"parameters": params, "notebooks": rows}, indent=2,
                                                       default=str))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.course", description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--parameters", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="a parameter, typed like papermill's -p (int, float, True/False/None, else text)")
    parser.add_argument("-r", "--parameters_raw", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="a parameter, always as text")
    parser.add_argument("-y", "--parameters_yaml", action="append", metavar="YAML", help="parameters as YAML")
    parser.add_argument("--notebooks", type=Path, default=Path("notebooks"))
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    params = parse_params(args.parameters, args.parameters_raw, args.parameters_yaml)
    rows = build(args.notebooks, args.out, params, args.timeout)
    print()
    print(report_markdown(rows, params))
    print(f"executed notebooks: {args.out / 'executed'} (`make site` renders them); "
          f"this table: {args.out / 'course-report.md'}")
    failed = [r["name"] for r in rows if r["status"] != "ok"]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    run_cli(main)
