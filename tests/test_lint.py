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


@pytest.mark.parametrize("path", ["helpers", "tools", "tests", *NOTEBOOKS],
                         ids=lambda p: p if isinstance(p, str) else p.stem)
def test_ruff(path):
    result = ruff(path)
    assert result.returncode == 0, f"ruff check {path}:\n{result.stdout}{result.stderr}"


def hooks() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def test_pre_commit_hooks_use_the_venvs_tools():
    assert set(hooks()) == {"ruff", "notebooks-clean", "lessons-exported"}
    assert all(h["language"] == "system" and h["entry"].startswith(".venv/bin/python -m ") for h in hooks().values())


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
    listed = subprocess.run([sys.executable, "-m", "course_tools.paths", "lessons"], capture_output=True, text=True,
                            cwd=ROOT, check=True).stdout.split()
    assert listed == [str(p.relative_to(ROOT)) for p in paths.lessons()]


def test_ruff_is_the_pinned_one():
    from test_pins import pins

    pinned = pins(ROOT / "requirements-dev.txt")["ruff"]
    version = subprocess.run([str(VENV_BIN / "python"), "-m", "ruff", "--version"], capture_output=True, text=True)
    assert version.stdout.split() == ["ruff", pinned]


@pytest.mark.integration
def test_pre_commit_and_make_lint_catch_the_same_problems(tmp_path: Path):
    """pre-commit and `make lint`, for real, in one throwaway git repository with this repository's config, Makefile
    and venv: a lint error, a dirty notebook and a lesson module that is not its notebook's #@save cells fail both;
    once all three are fixed, both pass."""
    from course_tools import export

    repo = tmp_path / "repo"
    for folder in ("helpers/src/helpers/lessons", "tools", "tests", "notebooks"):
        (repo / folder).mkdir(parents=True)
    for name in ("ruff.toml", ".pre-commit-config.yaml", "Makefile"):
        shutil.copy(ROOT / name, repo / name)
    (repo / "helpers" / "pyproject.toml").write_text("")
    (repo / ".venv").symlink_to(VENV_BIN.parent)
    (repo / "helpers" / "tidy.py").write_text("import os\n")  # F401
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# 01 · Dirty"), code("#@save\ndef f():\n    return 1")]
    nb.cells[1].execution_count = 1
    nb.metadata = {"widgets": {"application/vnd.jupyter.widget-state+json": {}}, "kernelspec": {"name": "python3"}}
    nbformat.write(nb, repo / "notebooks" / "01_dirty.ipynb")  # its module, helpers/.../lessons/dirty.py, not written
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_GLOBAL": os.devnull,
           "COURSE_ROOT": str(repo)}
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    stamps = [f"-o.venv/.course-setup{suffix}" for suffix in ("", "-dev")]

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)

    def both() -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
        run("git", "add", "-A")
        return run(str(VENV_BIN / "pre-commit"), "run", "--all-files"), run("make", *stamps, "lint")

    run("git", "init", "-q")
    hook, make = both()
    assert hook.returncode == 1 and make.returncode != 0, hook.stdout + make.stdout + make.stderr
    for found in ("F401", "stored widget state"):
        assert found in hook.stdout and found in make.stdout + make.stderr, (found, hook.stdout, make.stdout)
    assert "dirty.py differs from its notebook" in hook.stdout and "dirty.py differs" in make.stderr
    (repo / "helpers" / "tidy.py").write_text("import os\n\nprint(os.sep)\n")
    write(repo / "notebooks" / "01_dirty.ipynb", [md("# 01 · Clean"), code("#@save\ndef f():\n    return 1")])
    clean = nbformat.read(repo / "notebooks" / "01_dirty.ipynb", as_version=4)
    clean.cells[1].execution_count = 1
    nbformat.write(clean, repo / "notebooks" / "01_dirty.ipynb")
    export.export(repo)
    hook, make = both()
    assert hook.returncode == 0, hook.stdout + hook.stderr
    assert make.returncode == 0, make.stdout + make.stderr
