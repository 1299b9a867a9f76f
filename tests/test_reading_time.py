"""Each lesson's **Time:** estimate and the README's time column are what the lesson's measured reading gives
(course_tools.reading_time): edit a lesson or re-execute it, and this says to rewrite them."""

from __future__ import annotations

import json

import nbformat

from course_tools import paths, reading_time
from course_tools.notebooks import md


def test_headers_and_readme_are_current():
    found = reading_time.stale(paths.lessons(), paths.root() / "README.md")
    assert not found, "\n".join(found) + "\nrun `python -m course_tools.reading_time write`"


def _lesson(tmp_path, cells):
    nb = nbformat.v4.new_notebook(cells=[md("# 99 · A lesson\n\n**Time:** about 5 minutes."), *cells])
    path = tmp_path / "99_lesson.ipynb"
    nbformat.write(nb, path)
    return path


def test_optional_sections_are_counted_apart(tmp_path):
    words = " ".join(["word"] * 300)  # two minutes at 150 words a minute
    extra = " ".join([words] * 4)
    path = _lesson(tmp_path, [md(f"## 1. Core\n{words}"), md(f"## 2. Extra (optional)\n{extra}"),
                              md(f"## Recap\n{words}")])
    reading = reading_time.reading_of(path)
    assert reading.core.words == 600 + 3 + 2 + 1 and reading.optional.words == 1200 + 3  # + the headings' words
    core, optional = reading_time.estimate(reading, run_seconds=0)
    assert (core, optional) == (5, 10)
    assert reading_time.write(path, 30) and not reading_time.write(path, 30)  # written once, then current
    assert reading_time.stated_run_seconds(path) == 30
    assert "about 15 minutes: 5 for the core, 10 for the sections marked optional" in json.dumps(
        json.loads(path.read_text())["cells"][0])


def test_the_readme_row_follows_the_header(tmp_path):
    path = _lesson(tmp_path, [md("## 1. Core\n" + " ".join(["word"] * 1500))])
    reading_time.write(path, 60)
    readme = tmp_path / "README.md"
    readme.write_text("| # | notebook | time | what |\n|---|---|---|---|\n| 99 | `99_lesson` | ? | a lesson |\n")
    assert reading_time.stale([path], readme) == ["README: 99_lesson's time is '?', its header gives '10 min'"]
    assert reading_time.write_readme(readme, [path]) and reading_time.stale([path], readme) == []
    assert "| 99 | `99_lesson` | 10 min | a lesson |" in readme.read_text()


def test_output_lines_do_not_depend_on_how_a_run_split_its_streams(tmp_path):
    """Two runs of one cell print the same text in different chunks ("problem_type:" then " single_label..."): the
    lines of output, and so the estimate, must be the same."""
    text = "problem_type: single_label\nPOSITIVE 0.59\nNEGATIVE 0.96\n"
    counts = []
    for chunks in ([text], ["problem_type:", " single_label\nPOSITIVE 0.59", "\n", "NEGATIVE 0.96\n"]):
        cell = nbformat.v4.new_code_cell("print(...)", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=chunk) for chunk in chunks])
        counts.append(reading_time.reading_of(_lesson(tmp_path, [cell])).core.output_lines)
    assert counts == [3, 3], counts
