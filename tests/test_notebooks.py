"""Committed notebooks are clean (nbdev-style) and follow the lesson conventions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_tools import paths
from course_tools.launch import COLAB_TAG, LAUNCH_TAG, expected_cells
from course_tools.notebooks import problems

NOTEBOOKS = paths.lessons()
TIME_ESTIMATE = re.compile(r"\*\*Time:\*\* about \d+ (minutes|hours?)\b")  # "**Time:** about 30 minutes."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_clean(path: Path):
    found = problems(nbformat.read(path, as_version=4))
    assert not found, f"{path.name}: {found}; run `python -m course_tools.notebooks execute {path}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_conventions(path: Path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "objectives" in nb.cells[0].source.lower()
    assert TIME_ESTIMATE.search(nb.cells[0].source), "the first cell gives a time estimate: **Time:** about N minutes"
    assert "recap" in text and "exercise" in text
    if not path.name.startswith("00_"):
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), "needs a papermill parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_launch_row_and_colab_cell_are_current(path: Path):
    nb = nbformat.read(path, as_version=4)
    launch = [c for c in nb.cells if LAUNCH_TAG in c.metadata.get("tags", [])]
    colab = [c for c in nb.cells if COLAB_TAG in c.metadata.get("tags", [])]
    row, setup = expected_cells(path)
    fix = "run `python -m course_tools.launch` (rewrites only that cell; no need to execute the notebook again)"
    assert len(launch) == 1 and launch[0].source == row, f"launch row out of date: {fix}"
    assert len(colab) == 1 and colab[0].source == setup, f"Colab cell out of date: {fix}"
    assert colab[0].metadata.get("jupyter", {}).get("source_hidden"), f"Colab cell not collapsed: {fix}"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is colab[0], "the Colab set-up cell must be the first code cell"
