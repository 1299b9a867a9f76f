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

The header of each lesson carries the result in one paragraph that starts with **Time:**; `write()` rewrites it and
tests/test_reading_time.py checks every header is what the notebook's counts give.
"""

from __future__ import annotations

import json
import re
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


def count(notebook: Path) -> Reading:
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
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            part.output_lines += FIGURE_LINES if "image/png" in data else _lines(
                "".join(out.get("text", "")) + "".join(data.get("text/plain", "")))
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
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    new = header(count(notebook), run_seconds)
    for cell in nb["cells"][:6]:
        src = _source(cell)
        if cell["cell_type"] == "markdown" and TIME.search(src):
            if TIME.search(src).group(0) == new:
                return False
            cell["source"] = TIME.sub(lambda _: new, src)
            Path(notebook).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            return True
    raise ValueError(f"{notebook.name} has no **Time:** line in its header")


def calibration(folder: Path, run_seconds: dict[str, float]) -> list[tuple[str, float, tuple[int, int]]]:
    """(lesson, the estimate in minutes, the reviewers' range) for each reviewed lesson."""
    rows = []
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        if number in REVIEWED:
            reading = count(path)
            minutes = reading.core.minutes() + reading.optional.minutes() + run_seconds.get(path.stem, 0) / 60
            rows.append((path.stem, minutes, REVIEWED[number]))
    return rows
