"""Lint: ruff (pinned, ruff.toml) and notebook cleanliness, the same in `make lint`, pre-commit and `make test`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from course_tools import paths
from course_tools.notebooks import code, md, write

ROOT = paths.root()
VENV_BIN = ROOT / ".venv" / "bin"
NOTEBOOKS = paths.lessons()


def ruff(*paths: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "python"), "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           *map(str, paths)], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("path", ["helpers", "tests", *NOTEBOOKS],
                         ids=lambda p: p if isinstance(p, str) else p.stem)
def test_ruff(path):
    result = ruff(path)
    assert result.returncode == 0, f"ruff check {path}:\n{result.stdout}{result.stderr}"


def hooks() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def test_make_lint_and_pre_commit_run_the_same_checks():
    dry = subprocess.run(["make", "-n", "-s", "-C", str(ROOT), "-o", ".venv/.course-setup", "lint"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    entries = {hook_id: hook["entry"] for hook_id, hook in hooks().items()}
    assert set(entries) == {"ruff", "notebooks-clean"}
    for hook_id, entry in entries.items():
        assert any(line.startswith(entry + " ") for line in dry), f"`make lint` does not run {entry!r} ({hook_id})"
    assert "ruff check helpers tests notebooks" in "\n".join(dry)
    assert hooks()["ruff"]["files"] == "^(helpers|tests|notebooks)/"
    assert all(h["language"] == "system" for h in hooks().values()), "hooks use the venv's pinned tools"


def test_the_lesson_pattern_is_helpers_paths():
    """pre-commit takes a regular expression: it is course_tools.paths.LESSON_REGEX, and it picks the same files as
    LESSON_GLOB; `make lint` asks course_tools.paths for the lessons instead of spelling the pattern."""
    import re

    assert hooks()["notebooks-clean"]["files"] == paths.LESSON_REGEX
    names = ["notebooks/00_setup.ipynb", "notebooks/11_x_y.ipynb", "notebooks/1_short.ipynb", "notebooks/ab_x.ipynb",
             "notebooks/00_x.ipynb.bak", "notebooks/sub/00_x.ipynb", "workspace/00_x.ipynb"]
    by_regex = [n for n in names if re.search(paths.LESSON_REGEX, n)]
    by_glob = [n for n in names if Path(n).parent == Path("notebooks") and Path(n).match(paths.LESSON_GLOB)]
    assert by_regex == by_glob == ["notebooks/00_setup.ipynb", "notebooks/11_x_y.ipynb"]
    dry = subprocess.run(["make", "-n", "-s", "-C", str(ROOT), "-o", ".venv/.course-setup", "lint"],
                         capture_output=True, text=True, check=True).stdout
    assert "-m course_tools.paths lessons" in dry and paths.LESSON_GLOB not in dry
    listed = subprocess.run([sys.executable, "-m", "course_tools.paths", "lessons"], capture_output=True, text=True,
                            cwd=ROOT, check=True).stdout.split()
    assert listed == [str(p.relative_to(ROOT)) for p in paths.lessons()]


def test_ruff_is_the_pinned_one():
    pinned = next(line.split("==")[1] for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if line.startswith("ruff=="))
    version = subprocess.run([str(VENV_BIN / "python"), "-m", "ruff", "--version"], capture_output=True, text=True)
    assert version.stdout.split() == ["ruff", pinned]


def test_pre_commit_hooks_catch_lint_and_dirty_notebooks(tmp_path: Path):
    """pre-commit, for real, in a throwaway git repository with this repository's config and venv."""
    repo = tmp_path / "repo"
    for folder in ("helpers", "tests", "notebooks"):
        (repo / folder).mkdir(parents=True)
    for name in ("ruff.toml", ".pre-commit-config.yaml"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (repo / "helpers" / "tidy.py").write_text("import os\n")  # F401
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# 01 · Dirty"), code("x = 1")]
    nb.cells[1].execution_count = 1
    nb.metadata = {"widgets": {"application/vnd.jupyter.widget-state+json": {}}, "kernelspec": {"name": "python3"}}
    nbformat.write(nb, repo / "notebooks" / "01_dirty.ipynb")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_GLOBAL": os.devnull}

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)

    run("git", "init", "-q")
    run("git", "add", "-A")
    first = run(str(VENV_BIN / "pre-commit"), "run", "--all-files")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "F401" in first.stdout and "stored widget state" in first.stdout
    (repo / "helpers" / "tidy.py").write_text("import os\n\nprint(os.sep)\n")
    write(repo / "notebooks" / "01_dirty.ipynb", [md("# 01 · Clean"), code("x = 1")])
    clean = nbformat.read(repo / "notebooks" / "01_dirty.ipynb", as_version=4)
    clean.cells[1].execution_count = 1
    nbformat.write(clean, repo / "notebooks" / "01_dirty.ipynb")
    run("git", "add", "-A")
    second = run(str(VENV_BIN / "pre-commit"), "run", "--all-files")
    assert second.returncode == 0, second.stdout + second.stderr
