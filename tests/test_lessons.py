"""The code the lessons teach has one home, its lesson's ``#@save`` cells, and imports from there (helpers.lessons)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import paths
from helpers.lessons import MARK, saved_cells

ROOT = paths.root()
ALLOWED = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Expr)


def _saved_functions() -> dict[str, str]:
    """Every top-level function or class a #@save cell defines -> the lesson that defines it."""
    out = {}
    for nb in paths.lessons():
        for _, src in saved_cells(nb):
            for node in ast.parse(src).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    out[node.name] = nb.name
    return out


def _definitions(name: str) -> list[str]:
    """Where ``def name(`` / ``class name`` is written: notebook code cells (exercise starters aside) and helpers."""
    pattern = re.compile(rf"^\s*(def|class) {re.escape(name)}\b", re.M)
    places = []
    for nb in paths.lessons():
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            src = "".join(cell["source"])
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] == "code" and "exercise-starter" not in tags and pattern.search(src):
                places.append(f"{nb.name}[{i}]")
    for py in sorted((ROOT / "helpers").rglob("*.py")):
        if pattern.search(py.read_text()):
            places.append(str(py.relative_to(ROOT)))
    return places


@pytest.mark.parametrize("path", [p for p in paths.lessons() if saved_cells(p)], ids=lambda p: p.stem)
def test_saved_cells_only_define(path: Path):
    """Importing a lesson module must not load a model or print: only imports, definitions and constants."""
    for index, src in saved_cells(path):
        for node in ast.parse(src).body:
            assert isinstance(node, ALLOWED), \
                f"{path.name} cell {index}: `{ast.unparse(node)[:60]}` is not a definition"
            if isinstance(node, ast.Expr):
                assert isinstance(node.value, ast.Constant), f"{path.name} cell {index}: a call at import time"


def test_each_taught_function_is_defined_once():
    taught = _saved_functions()
    twice = {name: places for name in taught if len(places := _definitions(name)) != 1}
    assert not twice, f"taught functions written more than once (import them from helpers.lessons): {twice}"


@pytest.mark.parametrize("topic", [p.stem.partition("_")[2] for p in paths.lessons() if saved_cells(p)])
def test_lesson_module_imports_in_a_fresh_process(topic: str):
    code = f"import helpers.lessons.{topic} as m; print(len([n for n in vars(m) if not n.startswith('_')]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) > 0


def _toy_course(tmp_path: Path, body: str) -> dict[str, str]:
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for s in ("x = 1  # not saved", f"{MARK}\n{body}")]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "01_toy.ipynb").write_text(json.dumps(nb))
    return {**os.environ, "COURSE_ROOT": str(tmp_path)}


def test_import_builds_from_the_notebook_and_shows_its_source(tmp_path: Path):
    env = _toy_course(tmp_path, "def double(x):\n    return 2 * x\n")
    code = ("import inspect; from helpers.lessons.toy import double; print(double(21)); "
            "print(inspect.getsource(double).splitlines()[0]); print('x' in dir(__import__('helpers.lessons.toy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:3] == ["42", "def double(x):", "False"]  # only the #@save cell was taken


def test_a_traceback_names_the_lesson_cell(tmp_path: Path):
    env = _toy_course(tmp_path, "def boom():\n    raise ValueError('from the lesson')\n")
    code = ("import traceback\nfrom helpers.lessons.toy import boom\ntry:\n    boom()\n"
            "except ValueError:\n    traceback.print_exc()")  # as IPython prints it: through linecache
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "<notebooks/01_toy.ipynb, cell 1>" in out.stderr and "raise ValueError('from the lesson')" in out.stderr


def test_an_unknown_lesson_says_which_exist(tmp_path: Path):
    env = _toy_course(tmp_path, "def f():\n    return 1\n")
    out = subprocess.run([sys.executable, "-c", "import helpers.lessons.nope"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode != 0 and "No lesson teaches 'helpers.lessons.nope'" in out.stderr and "toy" in out.stderr
