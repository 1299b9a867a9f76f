"""The learner's workspace: nothing a learner wrote is ever lost (course_tools.workspace, make workspace / reset)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools import paths
from helpers.errors import CourseError
from course_tools.notebooks import code, md, write
from course_tools.workspace import BACKUPS, find_notebook, reset, sync

ROOT = paths.root()
NOTEBOOKS = paths.lessons()


def course_lessons() -> list[Path]:
    return paths.lessons()


def lesson(path: Path, title: str, answer: str = "None") -> None:
    write(path, [md(f"# {title}"), code(f"answer = {answer}")])


def source(path: Path, cell: int = 1) -> str:
    return nbformat.read(path, as_version=4).cells[cell].source


def learner_edits(path: Path, new_code: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = new_code
    nbformat.write(nb, path)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    src = tmp_path / "notebooks"
    src.mkdir()
    lesson(src / "00_setup.ipynb", "00 · Setup")
    lesson(src / "01_pipelines.ipynb", "01 · Pipelines")
    (src / ".ipynb_checkpoints").mkdir()
    (src / ".ipynb_checkpoints" / "01_pipelines-checkpoint.ipynb").write_text("{}")
    return src


def test_first_launch_copies_every_notebook(course: Path, tmp_path: Path):
    ws = tmp_path / "workspace"
    result = sync(course, ws)
    assert result["added"] == ["00_setup.ipynb", "01_pipelines.ipynb"] and result["kept"] == []
    assert (ws / "01_pipelines.ipynb").read_bytes() == (course / "01_pipelines.ipynb").read_bytes()
    assert not (ws / ".ipynb_checkpoints").exists(), "Jupyter's checkpoints are not part of the course"


def test_edit_update_relaunch_edits_intact(course: Path, tmp_path: Path):
    ws = tmp_path / "workspace"
    sync(course, ws)                                                   # first `make lab`
    learner_edits(ws / "01_pipelines.ipynb", "answer = 42  # mine")  # the learner works
    (ws / "my_notes.ipynb").write_text("{}")                           # and makes a notebook of their own
    lesson(course / "01_pipelines.ipynb", "01 · Pipelines", "'course v2'")  # `git pull`: 01 changed upstream...
    lesson(course / "02_tokenizers.ipynb", "02 · Tokenizers")               # ...and 02 is new
    result = sync(course, ws)                                          # the next `make lab`
    assert result["added"] == ["02_tokenizers.ipynb"]
    assert result["updated_upstream"] == ["01_pipelines.ipynb"]
    assert source(ws / "01_pipelines.ipynb") == "answer = 42  # mine", "a learner's edit was overwritten"
    assert (ws / "my_notes.ipynb").read_text() == "{}"
    assert source(ws / "02_tokenizers.ipynb") == "answer = None"
    assert sync(course, ws)["added"] == [], "a second sync adds nothing"
    assert source(ws / "01_pipelines.ipynb") == "answer = 42  # mine"


def test_a_deleted_notebook_comes_back_pristine(course: Path, tmp_path: Path):
    ws = tmp_path / "workspace"
    sync(course, ws)
    (ws / "00_setup.ipynb").unlink()
    assert sync(course, ws)["added"] == ["00_setup.ipynb"]


def test_reset_keeps_a_dated_backup_and_restores_the_pristine_copy(course: Path, tmp_path: Path):
    ws = tmp_path / "workspace"
    sync(course, ws)
    learner_edits(ws / "01_pipelines.ipynb", "answer = 42  # mine")
    when = dt.datetime(2026, 3, 1, 9, 30, 5)
    restored, backup = reset(course, ws, "1", now=when)
    assert restored == ws / "01_pipelines.ipynb" and source(restored) == "answer = None"
    assert backup == ws / BACKUPS / "01_pipelines.2026-03-01_093005.ipynb"
    assert source(backup) == "answer = 42  # mine"
    learner_edits(restored, "answer = 43")                          # a second reset in the same second
    _, second = reset(course, ws, "01_pipelines", now=when)
    assert second == ws / BACKUPS / "01_pipelines.2026-03-01_093005-2.ipynb" and source(second) == "answer = 43"
    assert source(backup) == "answer = 42  # mine", "an older backup was overwritten"
    assert not list(ws.glob(".*.tmp")), "a temporary file was left behind"
    assert sync(course, ws)["updated_upstream"] == []


def test_reset_of_a_notebook_the_learner_does_not_have(course: Path, tmp_path: Path):
    restored, backup = reset(course, tmp_path / "workspace", "00")
    assert backup is None and source(restored) == "answer = None"


@pytest.mark.parametrize("name", ["7", "09_generation", "", "x"])
def test_reset_of_an_unknown_notebook_says_which_exist(course: Path, tmp_path: Path, name: str):
    with pytest.raises(CourseError, match="00_setup.ipynb, 01_pipelines.ipynb"):
        reset(course, tmp_path / "workspace", name)


def test_find_notebook_accepts_numbers_stems_and_file_names(course: Path):
    for nb in ("1", "01", "01_pipelines", "01_pipelines.ipynb", " 1 "):
        assert find_notebook(course, nb) == course / "01_pipelines.ipynb"


def test_make_workspace_and_make_reset(course: Path, tmp_path: Path):
    """The Makefile targets, run for real on a temporary course (setup is taken as done)."""
    ws = tmp_path / "workspace"
    make = ["make", "-s", "-C", str(ROOT), "-o", ".venv/.course-setup", f"COURSE_NOTEBOOKS={course}",
            f"WORKSPACE={ws}"]
    out = subprocess.run(make + ["workspace"], capture_output=True, text=True, check=True).stdout
    assert "2 new file(s)" in out and (ws / "00_setup.ipynb").exists()
    learner_edits(ws / "00_setup.ipynb", "answer = 'mine'")
    lesson(course / "00_setup.ipynb", "00 · Setup", "'v2'")
    out = subprocess.run(make + ["workspace"], capture_output=True, text=True, check=True).stdout
    assert "0 new file(s)" in out and "00_setup.ipynb: the course has a newer version" in out
    assert "make reset NB=00" in out
    out = subprocess.run(make + ["reset", "NB=0"], capture_output=True, text=True, check=True).stdout
    assert "pristine copy again" in out and source(ws / "00_setup.ipynb") == "answer = 'v2'"
    assert [source(p) for p in (ws / BACKUPS).iterdir()] == ["answer = 'mine'"]
    bad = subprocess.run(make + ["reset"], capture_output=True, text=True)
    assert bad.returncode != 0 and "NB=" in bad.stdout + bad.stderr


def test_notebook_00_lists_the_lessons_from_the_workspace(tmp_path: Path):
    """Notebook 00's cell that globs the lesson pattern (course_tools.paths.LESSON_GLOB) in its cwd lists the lessons
    when run in workspace/, and backups (in workspace/backups/) are not among them."""
    nb00 = next(p for p in course_lessons() if p.name.startswith("00_"))
    cell = next(c.source for c in nbformat.read(nb00, as_version=4).cells
                if c.cell_type == "code" and f'"{paths.LESSON_GLOB}"' in c.source)
    ws = tmp_path / "workspace"
    sync(ROOT / "notebooks", ws)
    reset(ROOT / "notebooks", ws, "00")  # leaves a backup of 00
    out = subprocess.run([sys.executable, "-c", cell], cwd=ws, capture_output=True, text=True, check=True).stdout
    listed = [line.split()[0] for line in out.splitlines()]
    assert listed == [p.name for p in paths.lessons(ws)] == [p.name for p in course_lessons()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_need_nothing_relative_to_notebooks_folder(path: Path):
    """Learners run copies in workspace/ (and papermill, Colab, Binder run them elsewhere): no code cell may reach
    for files by a path through the notebooks/ folder."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "colab-setup" not in cell.metadata.get("tags", []):
            assert "notebooks/" not in cell.source and "../" not in cell.source, f"cell {i} of {path.name}"


def test_sync_record_is_json_with_the_course_hashes(course: Path, tmp_path: Path):
    ws = tmp_path / "workspace"
    sync(course, ws)
    record = json.loads((ws / ".course-sync.json").read_text())
    assert set(record) == {"00_setup.ipynb", "01_pipelines.ipynb"}
    assert all(len(v["course_sha256"]) == 64 for v in record.values())
