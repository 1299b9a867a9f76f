"""Binder (repo2docker): environment.yml carries the pins, postBuild installs the helpers and builds the kit into
the image, start points the sessions at it. Run here with stand-ins for python and pip (no Binder needed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_tools import paths

ROOT = paths.root()


def test_environment_yml_python_and_cpu_torch():
    env = (ROOT / "environment.yml").read_text()
    python = re.search(r"^\s*-\s*python=(\S+)", env, re.M)
    assert python and python.group(1) == f"{sys.version_info.major}.{sys.version_info.minor}", \
        "environment.yml's Python should be the one the tests run on"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in env, "torch must come from the CPU index"
    pip_lines = re.findall(r"^\s{6}-\s*(\S+)", env, re.M)
    assert all("==" in line or line.startswith("--") for line in pip_lines), "every pip line is pinned"


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    """`python` that logs its arguments and COURSE_CACHE instead of running."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    stub = bin_dir / "python"
    stub.write_text(f'#!/usr/bin/env bash\necho "python $* | COURSE_CACHE=$COURSE_CACHE" >> {log}\n')
    stub.chmod(0o755)
    return tmp_path


def test_post_build_installs_helpers_builds_and_verifies_the_kit(stubs: Path):
    home = stubs / "home"
    (home / ".cache" / "transformers-course" / "downloads").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "COURSE_CACHE"}
    env.update(HOME=str(home), PATH=f"{stubs / 'bin'}:{os.environ['PATH']}")
    subprocess.run([str(ROOT / "postBuild")], cwd=ROOT, env=env, check=True, timeout=60)
    cache = home / ".cache" / "transformers-course"
    calls = (stubs / "calls.log").read_text().splitlines()
    assert calls == [f"python -m pip install --no-cache-dir --no-deps -e helpers -e tools | COURSE_CACHE={cache}",
                     f"python -m helpers.kit | COURSE_CACHE={cache}",
                     f"python -m helpers.kit --verify | COURSE_CACHE={cache}"]
    assert cache.is_dir() and not (cache / "downloads").exists(), "the downloads should not stay in the image"


def test_start_sets_the_kit_location_and_runs_the_command(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "COURSE_CACHE"}
    env["HOME"] = str(tmp_path)
    out = subprocess.run([str(ROOT / "start"), "printenv", "COURSE_CACHE"], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == str(tmp_path / ".cache" / "transformers-course")


def test_start_and_post_build_agree_on_the_kit_location():
    pattern = re.compile(r'export COURSE_CACHE="\$\{COURSE_CACHE:-([^}]+)\}"')
    assert pattern.findall((ROOT / "postBuild").read_text()) == pattern.findall((ROOT / "start").read_text())
