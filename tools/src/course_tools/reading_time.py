"""Each lesson's time estimate, from a measured reading: what a learner reads, runs and attempts, at stated rates.

A reading of a lesson is: its prose (markdown words, the exercise solutions left out: a learner attempts before
revealing), its code (non-blank lines of every code cell but the Colab set-up cell), its outputs (non-blank text
lines; a figure counts as FIGURE_LINES), its exercises (attempted: a fixed cost each plus a cost per line of the
solution's code) and the seconds its cells take to run (the notebook's own run time, measured by `make bench` or
given). Each is counted in the notebook, split into the core and the sections whose heading ends with
"(optional)". The rates turn those counts into minutes; they were fitted to timed readings of six lessons by two
expert reviewers who read them cell by cell as a learner (issue 21: 03 80-100 min, 05 55-60, 08 75, 09 90,
10 75-90, 11 75-90). Fitted on those six notebooks as the reviewers read them (commit a87a7ef), by a grid
search over the five rates, the rates below give 101, 60, 74, 91, 73 and 81 minutes: each within 2 minutes of its
range. `calibration()` gives the same comparison for the notebooks as they are now.

The header of each lesson carries the result in one paragraph that starts with **Time:**, and the README's table of
notebooks its minutes: `python -m course_tools.reading_time write` rewrites both (`make times` runs every notebook to
measure its run time first), and tests/test_reading_time.py checks every header and row is what the counts give.

    python -m course_tools.reading_time write --seconds build/bench.json   # run times measured by make bench
    python -m course_tools.reading_time write --seconds build/test-results.xml  # or by make test (nbval)
    python -m course_tools.reading_time write                              # keep each header's stated run time
    python -m course_tools.reading_time check                              # exit 1 if a header or row is stale
    python -m course_tools.reading_time calibration                        # the six reviewed lessons vs the rates
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

WORDS_PER_MIN = 150  # technical prose, read to be understood (about half an ordinary reading pace)
CODE_LINES_PER_MIN = 9  # code read line by line before it is run
OUTPUT_LINES_PER_MIN = 15  # printed results looked over
FIGURE_LINES = 10  # a figure: as long as ten lines of output
EXERCISE_MIN = 5  # per exercise: read the task, run the starter and the check
SOLUTION_LINE_MIN = 0.25  # per line of the solution's code: writing and fixing it
REVIEWED = {"03": (80, 100), "05": (55, 60), "08": (75, 75), "09": (90, 90), "10": (75, 90), "11": (75, 90)}
OPTIONAL = re.compile(r"^(#+)\s.*\(optional\)\s*$", re.I)
HEADING = re.compile(r"^(#+)\s")
TIME = re.compile(r"^\*\*Time:\*\*.*$", re.M)


@dataclass
class Counts:
    words: int = 0
    code_lines: int = 0
    output_lines: int = 0
    exercises: int = 0
    solution_lines: int = 0

    def minutes(self) -> float:
        return (self.words / WORDS_PER_MIN + self.code_lines / CODE_LINES_PER_MIN
                + self.output_lines / OUTPUT_LINES_PER_MIN + self.exercises * EXERCISE_MIN
                + self.solution_lines * SOLUTION_LINE_MIN)


@dataclass
class Reading:
    core: Counts = field(default_factory=Counts)
    optional: Counts = field(default_factory=Counts)


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


def reading_of(notebook: Path) -> Reading:
    """The counts of one lesson, core and optional apart (a heading ending in "(optional)" opens an optional part
    that lasts until the next heading of the same or a higher level)."""
    reading, optional_level = Reading(), 0
    for cell in json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]:
        src, tags = _source(cell), cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "markdown":
            for line in src.splitlines():
                heading = HEADING.match(line)
                if heading and optional_level and len(heading.group(1)) <= optional_level:
                    optional_level = 0
                if OPTIONAL.match(line) and not optional_level:
                    optional_level = len(OPTIONAL.match(line).group(1))
        part = reading.optional if optional_level else reading.core
        if cell["cell_type"] == "markdown":
            if "exercise-solution" in tags:
                code = re.findall(r"```python\n(.*?)```", src, flags=re.S)
                part.solution_lines += sum(_lines(c) for c in code)
                continue
            prose = TIME.sub("", re.sub(r"```.*?```", "", src, flags=re.S))
            part.words += len(re.findall(r"[A-Za-z0-9']+", prose))
            continue
        if "colab-setup" in tags:
            continue
        part.code_lines += _lines(src)
        part.exercises += "exercise-starter" in tags
        texts = []  # one text per cell: how a run happened to split its streams into chunks must not count
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                part.output_lines += FIGURE_LINES
            else:
                texts.append("".join(out.get("text", "")) + "".join(data.get("text/plain", "")))
        part.output_lines += _lines("".join(texts))
    return reading


def estimate(reading: Reading, run_seconds: float) -> tuple[int, int]:
    """(core minutes, optional minutes), each rounded to 5; the cells' run time goes to the core."""
    core = reading.core.minutes() + run_seconds / 60
    return 5 * max(1, round(core / 5)), 5 * round(reading.optional.minutes() / 5)


def header(reading: Reading, run_seconds: float) -> str:
    core, optional = estimate(reading, run_seconds)
    total = reading.core
    whole = (f"about {core} minutes" if not optional else
             f"about {core + optional} minutes: {core} for the core, {optional} for the sections marked optional")
    return (f"**Time:** {whole}. Measured as a reading of this notebook: {total.words:,} words of prose at "
            f"{WORDS_PER_MIN} a minute, {total.code_lines} lines of code at {CODE_LINES_PER_MIN}, {total.output_lines}"
            f" lines of output at {OUTPUT_LINES_PER_MIN}, {total.exercises} exercise(s) at {EXERCISE_MIN} minutes "
            f"plus {SOLUTION_LINE_MIN:g} per line of solution, and {run_seconds:.0f} s of cells running "
            f"(the core's counts; rates fitted to expert readings of six lessons).")


def stated_run_seconds(notebook: Path) -> float | None:
    """The run time a lesson's header states (what `write()` put there), or None if it states none."""
    for cell in json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"][:6]:
        found = re.search(r"and (\d+) s of cells running", _source(cell))
        if found:
            return float(found.group(1))
    return None


def write(notebook: Path, run_seconds: float) -> bool:
    """Rewrite the lesson's **Time:** paragraph from its counts; True if it changed."""
    import nbformat  # written as Jupyter writes it: only the header's cell changes in the file

    nb = nbformat.read(notebook, as_version=4)
    new = header(reading_of(notebook), run_seconds)
    for cell in nb.cells[:6]:
        if cell.cell_type == "markdown" and TIME.search(cell.source):
            if TIME.search(cell.source).group(0) == new:
                return False
            cell.source = TIME.sub(lambda _: new, cell.source)
            nbformat.write(nb, notebook)
            return True
    raise ValueError(f"{notebook.name} has no **Time:** line in its header")


def calibration(folder: Path, run_seconds: dict[str, float]) -> list[tuple[str, float, tuple[int, int]]]:
    """(lesson, the estimate in minutes, the reviewers' range) for each reviewed lesson."""
    rows = []
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        if number in REVIEWED:
            reading = reading_of(path)
            minutes = reading.core.minutes() + reading.optional.minutes() + run_seconds.get(path.stem, 0) / 60
            rows.append((path.stem, minutes, REVIEWED[number]))
    return rows


README_ROW = re.compile(r"^\| (\d\d) \| `([^`]+)` \| ([^|]*) \|(.*)$", re.M)  # | NN | `stem` | time | what |


def minutes_cell(notebook: Path) -> str:
    """The README's time column for a lesson: its header's estimate, core and optional apart."""
    seconds = stated_run_seconds(notebook)
    core, optional = estimate(reading_of(notebook), seconds or 0.0)
    return f"{core} min" + (f" + {optional} optional" if optional else "")


def write_readme(readme: Path, notebooks: list[Path]) -> bool:
    """Rewrite the time column of the README's table of notebooks; True if it changed."""
    by_stem = {p.stem: p for p in notebooks}
    text = Path(readme).read_text(encoding="utf-8")
    new = README_ROW.sub(lambda m: (f"| {m.group(1)} | `{m.group(2)}` | {minutes_cell(by_stem[m.group(2)])} |"
                                    f"{m.group(4)}") if m.group(2) in by_stem else m.group(0), text)
    if new != text:
        Path(readme).write_text(new, encoding="utf-8")
    return new != text


def stale(notebooks: list[Path], readme: Path) -> list[str]:
    """What is out of date: each lesson whose header is not what its counts give, and README rows that differ."""
    found = []
    for path in notebooks:
        seconds = stated_run_seconds(path)
        if seconds is None:
            found.append(f"{path.name}: its **Time:** paragraph states no measured run time")
            continue
        current = next((TIME.search(_source(c)).group(0) for c in json.loads(path.read_text(encoding="utf-8"))
                        ["cells"][:6] if c["cell_type"] == "markdown" and TIME.search(_source(c))), None)
        if current != header(reading_of(path), seconds):
            found.append(f"{path.name}: its **Time:** paragraph is not what its counts give")
    rows = {m.group(2): m.group(3).strip() for m in README_ROW.finditer(Path(readme).read_text(encoding="utf-8"))}
    for path in notebooks:
        if path.stem not in rows:
            found.append(f"README: no row for {path.stem} in the table of notebooks")
        elif stated_run_seconds(path) is not None and rows[path.stem] != minutes_cell(path):
            found.append(f"README: {path.stem}'s time is {rows[path.stem]!r}, its header gives {minutes_cell(path)!r}")
    return found


def run_seconds(report: Path) -> dict[str, float]:
    """Each notebook's run time: make bench's notebooks_seconds, or the sum of its cells' times in make test's JUnit
    report (nbval runs each notebook's cells in one kernel, so that sum is the notebook's run time)."""
    if report.suffix == ".json":
        return json.loads(report.read_text())["notebooks_seconds"]
    from .bench import suite_durations

    per_file = suite_durations(report)["test_seconds_per_file"]  # classname: notebooks.01_pipelines.ipynb
    return {name.split(".")[-2]: seconds for name, seconds in per_file.items() if name.endswith(".ipynb")}


def main(argv: list[str] | None = None) -> int:
    from . import paths

    parser = argparse.ArgumentParser(prog="python -m course_tools.reading_time")
    parser.add_argument("cmd", choices=("write", "check", "calibration"))
    parser.add_argument("--seconds", type=Path, help="a bench.json or make test's JUnit report: each run time")
    parser.add_argument("--measure", action="store_true", help="run every notebook (in a copy) to time it first")
    args = parser.parse_args(argv)
    notebooks, readme = paths.lessons(), paths.root() / "README.md"
    if args.cmd == "check":
        found = stale(notebooks, readme)
        for line in found:
            print(line)
        if found:
            print("run `python -m course_tools.reading_time write` (make times measures the run times first)")
        return 1 if found else 0
    measured = run_seconds(args.seconds) if args.seconds else {}
    if args.measure:
        from .bench import measure_notebooks

        measured = measure_notebooks()["notebooks_seconds"]
    if args.cmd == "calibration":
        for stem, minutes, (low, high) in calibration(paths.notebooks_dir(), measured):
            print(f"{stem}: {minutes:.0f} minutes (reviewers: {low}-{high})")
        return 0
    missing = []
    for path in notebooks:
        seconds = measured.get(path.stem, stated_run_seconds(path))
        if seconds is None:
            missing.append(path.name)
        elif write(path, seconds):
            print(f"{path.name}: {header(reading_of(path), seconds).split('.')[0]}")
    write_readme(readme, notebooks)
    for name in missing:
        print(f"{name}: no run time measured or stated: pass --seconds or --measure", file=sys.stderr)
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
