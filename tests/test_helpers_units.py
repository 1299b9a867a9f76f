"""Unit tests of the small helpers: checks machinery, tables, notebook housekeeping, errors."""

from __future__ import annotations

import nbformat
import pytest
import torch

from helpers.checks import HINT, PASS, Hint, as_tensor, call, exercise, expect_close, expect_shape, expect_type
from helpers.display import Table
from helpers.errors import CourseError, run_cli
from course_tools.notebooks import clean, code, exercise_cells, exercises, md, problems, run


@exercise
def _check_probs(probs):
    t = as_tensor(probs, "probs")
    expect_shape(t, (2,), "probs")
    expect_close(t, torch.tensor([0.25, 0.75]), "probs", atol=1e-4)
    return "right."


@pytest.mark.parametrize("bad", [None, "text", [1.0, 2.0, 3.0], [float("nan"), 1.0], [0.5, 0.5], object()])
def test_checks_give_hints_never_tracebacks(bad, capsys):
    assert not _check_probs(bad)
    out = capsys.readouterr().out
    assert out.startswith(HINT) and out.count("\n") == 1


def test_checks_pass_line(capsys):
    assert _check_probs(torch.tensor([0.25, 0.75]))
    assert capsys.readouterr().out == f"{PASS} right.\n"


def test_unexpected_errors_inside_a_check_become_hints(capsys):
    @exercise
    def check(fn):
        return f"got {call(fn, 1, what='my_fn')}"

    def broken(x):
        raise ZeroDivisionError("boom")

    def todo(x):
        raise NotImplementedError

    assert not check(broken) and "raised ZeroDivisionError: boom" in capsys.readouterr().out
    assert not check(todo) and "not written yet" in capsys.readouterr().out
    assert not check(42) and "should be a function" in capsys.readouterr().out
    assert check(lambda x: x + 1) and "got 2" in capsys.readouterr().out


def test_expect_type():
    with pytest.raises(Hint, match="still None"):
        expect_type(None, int, "n")
    with pytest.raises(Hint, match="should be an int; got str"):
        expect_type("3", int, "n")
    assert expect_type(3, int, "n") == 3


@pytest.mark.parametrize("passed", [True, False])
def test_check_result_shows_nothing_in_notebooks(passed):
    """A check cell's value (the CheckResult) adds no Out[...] under the line the check printed: IPython's formatter,
    which a kernel's display hook asks, gives no data for it (and gives some for any other value)."""
    from IPython.core.interactiveshell import InteractiveShell

    from helpers.checks import CheckResult

    formatter = InteractiveShell.instance().display_formatter
    assert formatter.format(CheckResult(passed)) == ({}, {})
    assert "text/plain" in formatter.format(object())[0]


def test_table_text_and_html():
    t = Table([{"a": 1, "b": "<x>"}], title="T")
    assert repr(t).splitlines() == ["T", "a | b", "--+----", "1 | <x>"]
    assert "&lt;x&gt;" in t._repr_html_()


def test_exercise_cells_round_trip():
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# t"), *exercise_cells("x = None", "check(x)", "x = 1\ny = 2")]
    (ex,) = exercises(nb)
    assert ex["solution"] == "x = 1\ny = 2\n"
    assert "<details>" in nb.cells[3].source


def test_exercise_cells_must_pair_up():
    nb = nbformat.v4.new_notebook()
    nb.cells = [code("x = None", tags=("exercise-starter",))]
    with pytest.raises(CourseError, match="do not pair up"):
        exercises(nb)


def test_clean_and_problems():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    cell = code("1")
    cell.execution_count = 3
    cell.metadata["execution"] = {"iopub.status.busy": "x"}
    nb.cells = [cell]
    found = problems(nb)
    assert any("widget" in p for p in found) and any("1..N" in p for p in found)
    clean(nb)
    assert "widgets" not in nb.metadata and "execution" not in cell.metadata


def test_run_cli_prints_one_line(capsys):
    def main():
        raise CourseError("do this instead.")

    with pytest.raises(SystemExit) as exit_info:
        run_cli(main)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "error: do this instead.\n"


@pytest.mark.notebooks
def test_course_errors_show_as_one_line_in_a_kernel(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [code("from helpers import setup\nsetup()"),
                code("from helpers.models import checkpoint\ncheckpoint('gpt5')")]
    run(nb, tmp_path, timeout=120)
    outputs = nb.cells[1].outputs
    assert [o["output_type"] for o in outputs] == ["stream"]
    assert outputs[0]["text"].startswith("❌ Unknown model 'gpt5'") and outputs[0]["text"].count("\n") == 1
