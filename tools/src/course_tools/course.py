"""Instructor build (``make course``): every notebook executed, rendered to HTML, indexed, timed and measured.

    python -m helpers.course                          # every notebooks/NN_*.ipynb
    python -m helpers.course -p SEED 1                # papermill parameters, as `make course PARAMS="-p SEED 1"`
    python -m helpers.course -y "{seed: 1}" -r text "it's raw" --notebooks notebooks --out build

For each notebook, in order, in a fresh process: papermill injects the parameters and the course's one runner
(``helpers.notebooks.run``) executes it (kernel cwd = its folder, as in the course) into ``build/executed/``;
nbconvert renders that to ``build/html/`` (without the Colab set-up cell, which does nothing off Colab). Then
``build/html/index.html`` links them in order, and ``build/course-report.md`` (and ``.json``) gives each
notebook's run time and the kernel's peak memory (resident set size). The ``build/html`` folder is self-contained:
zip it and hand it out.

A parameter is passed only to the notebooks whose ``parameters`` cell declares it; a parameter no notebook declares
is an error (a typo would otherwise be ignored silently). Plots use the inline backend whatever ``MPLBACKEND`` says.
A notebook that fails is still rendered (with its error) and the build ends with status 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .paths import LESSON_GLOB, lessons
from helpers.errors import CourseError, run_cli
from helpers.files import write_atomic

INLINE = "module://matplotlib_inline.backend_inline"
HIDE_IN_HTML = ("colab-setup",)


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


# ---------------------------------------------------------------- one notebook (runs in its own process)


def run_one(src: Path, out: Path, params: dict[str, Any], timeout: int) -> dict[str, Any]:
    """Execute one notebook in this process, with ``params`` injected after its parameters cell (papermill's
    parameterize), by the course's one runner (helpers.notebooks.run); the executed notebook, error included, is
    written to ``out``. The kernel is this process's child, so its peak memory is this process's RUSAGE_CHILDREN
    maximum once the kernel has shut down."""
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
    return {"seconds": round(result["seconds"], 1), "peak_mib": _children_peak_mib(), "status": status}


def _children_peak_mib() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)  # bytes on macOS, KiB on Linux


# ---------------------------------------------------------------- rendering


def render_html(executed: Path, target: Path, name: str) -> None:
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    remove = TagRemovePreprocessor(remove_cell_tags=set(HIDE_IN_HTML), enabled=True)
    nb, _ = remove.preprocess(nb, {})
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb, resources={"metadata": {"name": name}})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")


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


def index_html(rows: list[dict[str, Any]], params: dict[str, Any]) -> str:
    import platform

    items = []
    for r in rows:
        ok = r["status"] == "ok"
        note = "" if ok else f" <b style='color:#b00'>(failed: {html.escape(r['status'])})</b>"
        items.append(f"<tr><td>{r['name'][:2]}</td><td><a href='{html.escape(r['html'])}'>{html.escape(r['title'])}"
                     f"</a>{note}</td><td>{r['seconds']:.0f} s</td><td>{_mib(r['peak_mib'])}</td></tr>")
    versions = _versions()
    given = html.escape(", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Transformers, under the hood: the notebooks</title>
<style>body{{font-family:system-ui,sans-serif;max-width:54rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:left}}
footer{{color:#666;font-size:.9rem;margin-top:2rem}}</style></head>
<body><h1>Transformers, under the hood</h1>
<p>The course's notebooks, in order, executed top to bottom on a CPU with the offline model kit. Open them in your
browser to read the code and every output; run them yourself with <code>make lab</code>, Colab or Binder (the badges
at the top of each notebook).</p>
<table><thead><tr><th>#</th><th>notebook</th><th>run time</th><th>peak memory</th></tr></thead>
<tbody>{''.join(items)}</tbody></table>
<footer>Built {dt.datetime.now():%Y-%m-%d %H:%M} with parameters: {given}; Python {platform.python_version()},
{html.escape(versions)}; {os.cpu_count()} CPU cores.</footer></body></html>
"""


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in ("torch", "transformers"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


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
    env = {**os.environ, "MPLBACKEND": INLINE}  # plots as images in the HTML, whatever the caller's MPLBACKEND
    rows = []
    for path in paths:
        given = {k: v for k, v in params.items() if k in declared[path]}
        executed = out / "executed" / path.name
        cmd = [sys.executable, "-m", "helpers.course", "_run_one", str(path), str(executed), json.dumps(given),
               str(timeout)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            result = {"seconds": 0.0, "peak_mib": None, "status": "failed to run: " + " ".join(tail)[:300]}
        nb_title = title(nbformat.read(path, as_version=4), path.stem)
        page = f"{path.stem}.html"
        if executed.exists():
            render_html(executed, out / "html" / page, nb_title)
        row = {"name": path.name, "title": nb_title, "html": page, "parameters": given, **result}
        rows.append(row)
        print(f"[course] {path.name}: {row['seconds']:.1f} s, peak {_mib(row['peak_mib'])}, {row['status']}",
              flush=True)
    (out / "html").mkdir(parents=True, exist_ok=True)
    (out / "html" / "index.html").write_text(index_html(rows, params), encoding="utf-8")
    (out / "course-report.md").write_text(report_markdown(rows, params))
    (out / "course-report.json").write_text(json.dumps({"parameters": params, "notebooks": rows}, indent=2,
                                                       default=str))
    return rows


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_run_one":  # internal: one notebook, in its own process
        src, out, params, timeout = sys.argv[2:6]
        print(json.dumps(run_one(Path(src), Path(out), json.loads(params), int(timeout))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m helpers.course", description=__doc__.splitlines()[0])
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
    print(f"HTML: {args.out / 'html' / 'index.html'}; executed notebooks: {args.out / 'executed'}; "
          f"this table: {args.out / 'course-report.md'}")
    failed = [r["name"] for r in rows if r["status"] != "ok"]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    run_cli(main)
