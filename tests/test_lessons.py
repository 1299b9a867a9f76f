"""The code the lessons teach has one home, its lesson's ``#@save`` cells, written out to a committed module
(course_tools.export) that later lessons, the checks and the benchmark import."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_tools import export, paths

ROOT = paths.root()
ALLOWED = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Expr)
SAVING = [p for p in paths.lessons() if export.saved_cells(p)]


def _saved_functions() -> dict[str, str]:
    """Every top-level function or class a #@save cell defines -> the lesson that defines it."""
    out = {}
    for nb in SAVING:
        for _, src in export.saved_cells(nb):
            for node in ast.parse(src).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    out[node.name] = nb.name
    return out


def _definitions(name: str) -> list[str]:
    """Where ``def name(`` / ``class name`` is written by hand: notebook code cells (exercise starters aside) and the
    course's Python files (the generated lesson modules aside: they are the notebooks' cells)."""
    pattern = re.compile(rf"^\s*(def|class) {re.escape(name)}\b", re.M)
    places = []
    for nb in paths.lessons():
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            src = "".join(cell["source"])
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] == "code" and "exercise-starter" not in tags and pattern.search(src):
                places.append(f"{nb.name}[{i}]")
    generated = set(export.generated())
    for py in sorted([*(ROOT / "helpers").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]):
        if py not in generated and pattern.search(py.read_text()):
            places.append(str(py.relative_to(ROOT)))
    return places


@pytest.mark.parametrize("path", SAVING, ids=lambda p: p.stem)
def test_saved_cells_only_define(path: Path):
    """Importing a lesson module must not load a model or print: only imports, definitions and constants."""
    for index, src in export.saved_cells(path):
        for node in ast.parse(src).body:
            assert isinstance(node, ALLOWED), \
                f"{path.name} cell {index}: `{ast.unparse(node)[:60]}` is not a definition"
            if isinstance(node, ast.Expr):
                assert isinstance(node.value, ast.Constant), f"{path.name} cell {index}: a call at import time"


def test_each_taught_function_is_defined_once():
    taught = _saved_functions()
    twice = {name: places for name in taught if len(places := _definitions(name)) != 1}
    assert not twice, f"taught functions written more than once (import them from helpers.lessons): {twice}"


def test_every_lesson_module_is_its_notebooks_saved_cells():
    assert export.stale() == [], "a lesson module differs from its notebook's #@save cells: run `make export`"
    assert {p.stem for p in export.generated()} == {export.topic(p) for p in SAVING}


def test_grep_finds_a_taught_function_in_its_module():
    found = subprocess.run(["grep", "-rln", "def filter_logits(", str(ROOT / "helpers")], capture_output=True,
                           text=True).stdout.split()
    assert found == [str(ROOT / "helpers" / "src" / "helpers" / "lessons" / "generate.py")]


@pytest.mark.integration
def test_every_lesson_module_imports_in_a_fresh_process():
    code = ("import importlib, sys\nfor topic in sys.argv[1:]:\n"
            "    m = importlib.import_module(f'helpers.lessons.{topic}')\n"
            "    print(topic, len([n for n in vars(m) if not n.startswith('_')]))")
    topics = [export.topic(p) for p in SAVING]
    result = subprocess.run([sys.executable, "-c", code, *topics], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert all(int(line.split()[1]) > 0 for line in result.stdout.splitlines())


# ---------------------------------------------------------------- the exporter, on a course of its own


def _toy_course(tmp_path: Path, *saved: str) -> Path:
    """A course with one lesson, 01_toy: an unsaved cell, then the #@save cells ``saved``; exported once."""
    (tmp_path / "helpers" / "src" / "helpers" / "lessons").mkdir(parents=True)
    (tmp_path / "helpers" / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    _write_toy(tmp_path, *saved)
    export.export(tmp_path)
    return tmp_path


def _write_toy(root: Path, *saved: str) -> None:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for s in ("tokenizer = 'not saved'", *(f"{export.MARK}\n{body}" for body in saved))]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "notebooks" / "01_toy.ipynb").write_text(json.dumps(nb))


def test_the_module_says_where_each_cell_comes_from(tmp_path: Path):
    root = _toy_course(tmp_path, "def double(x):\n    return 2 * x\n", "HALF = 0.5\n")
    text = (root / "helpers" / "src" / "helpers" / "lessons" / "toy.py").read_text()
    assert "# AUTOGENERATED from notebooks/01_toy.ipynb: edit the notebook, then run `make export`." in text
    assert "# %% notebooks/01_toy.ipynb, cell 1\ndef double(x):" in text
    assert "# %% notebooks/01_toy.ipynb, cell 2\nHALF = 0.5" in text
    assert "not saved" not in text and f"\n{export.MARK}" not in text
    namespace: dict = {}
    exec(compile(text, "toy.py", "exec"), namespace)
    assert namespace["double"](21) == 42


def test_a_changed_saved_cell_makes_its_module_stale_until_exported(tmp_path: Path):
    root = _toy_course(tmp_path, "def double(x):\n    return 2 * x\n")
    assert export.stale(root) == []
    _write_toy(root, "def double(x):\n    return x + x\n")
    assert export.stale(root) == ["toy.py differs from its notebook"]
    check = subprocess.run([sys.executable, "-m", "course_tools.export", "--check"], capture_output=True, text=True,
                           env={**os.environ, "COURSE_ROOT": str(root)})
    assert check.returncode == 1 and "toy.py differs from its notebook: run `make export`" in check.stderr
    assert export.export(root) == ["toy.py"] and export.stale(root) == []


def test_a_module_whose_lesson_is_gone_is_deleted_and_hand_written_files_are_kept(tmp_path: Path):
    root = _toy_course(tmp_path, "def double(x):\n    return 2 * x\n")
    lessons = root / "helpers" / "src" / "helpers" / "lessons"
    (lessons / "__init__.py").write_text('"""written by hand"""\n')
    (root / "notebooks" / "01_toy.ipynb").rename(root / "notebooks" / "01_renamed.ipynb")
    assert export.stale(root) == ["renamed.py differs from its notebook", "toy.py has no notebook any more"]
    export.export(root)
    assert sorted(p.name for p in lessons.iterdir()) == ["__init__.py", "renamed.py"]


def test_ruff_fails_on_a_name_no_saved_cell_defines(tmp_path: Path):
    """The lint for saved cells that lean on an unsaved one: ruff's F821 over the generated module (as `make lint`
    runs it, with the repository's ruff.toml)."""
    root = _toy_course(tmp_path, "def count(text):\n    return len(tokenizer(text))\n")
    shutil.copy(ROOT / "ruff.toml", root / "ruff.toml")
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "helpers"], capture_output=True, text=True, cwd=root)
    assert lint.returncode == 1 and "F821 Undefined name `tokenizer`" in lint.stdout, lint.stdout + lint.stderr
    _write_toy(root, "def count(text, tokenizer):\n    return len(tokenizer(text))\n")
    export.export(root)
    clean = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "helpers"], capture_output=True,
                           text=True, cwd=root)
    assert clean.returncode == 0, clean.stdout

