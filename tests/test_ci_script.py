""".ci/run installs Debian's chromium, fonts, nodejs and npm only when missing, without asking anything, then runs
make test. Run here with stand-ins for apt-get, make and the rest (nothing is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from course_tools import paths

ROOT = paths.root()


def run_ci(tmp_path: Path, have_chromium: bool, have_emoji_font: bool, have_node: bool = True) -> list[str]:
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("dirname", "grep", "id", "cat", "wc"):  # the real ones
        (bin_dir / tool).symlink_to(shutil.which(tool))
    stubs = {"make": "", "apt-get": "", "fc-list": "echo 'Noto Color Emoji'" if have_emoji_font else "echo DejaVu"}
    if have_chromium:
        stubs["chromium"] = ""
    if have_node:
        stubs["node"] = stubs["npm"] = ""
    for name, body in stubs.items():
        (bin_dir / name).write_text(f'#!/bin/bash\necho "{name} $* [stdin: $(cat 2>/dev/null | wc -c)]" >> {log}\n'
                                    f"{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "CI": "true"}
    subprocess.run(["/bin/bash", str(repo / ".ci" / "run")], env=env, check=True, timeout=60,
                   stdin=subprocess.DEVNULL)
    return [line for line in log.read_text().splitlines() if not line.startswith("fc-list")]


@pytest.mark.skipif(os.geteuid() != 0, reason="the script calls apt-get directly only as root (CI's case)")
def test_ci_installs_chromium_when_missing_then_runs_make_test(tmp_path: Path):
    calls = run_ci(tmp_path, have_chromium=False, have_emoji_font=False)
    assert calls[0].startswith("apt-get update")
    assert calls[1].startswith("apt-get install -y") and "chromium" in calls[1] and "fonts-noto-color-emoji" in calls[1]
    assert "npm" not in calls[1], "npm is there: not installed again"
    assert all("[stdin: 0]" in call for call in calls), "nothing may wait for input"
    assert calls[2].startswith("make test")
    assert len(calls) == 3


@pytest.mark.skipif(os.geteuid() != 0, reason="the script calls apt-get directly only as root (CI's case)")
def test_ci_installs_node_and_npm_for_the_hub_test_when_missing(tmp_path: Path):
    calls = run_ci(tmp_path, have_chromium=True, have_emoji_font=True, have_node=False)
    assert calls[1].startswith("apt-get install -y") and calls[1].split(" [")[0].endswith("nodejs npm")
    assert calls[2].startswith("make test") and len(calls) == 3


def test_ci_is_quick_when_chromium_is_there(tmp_path: Path):
    calls = run_ci(tmp_path, have_chromium=True, have_emoji_font=True)
    assert [c.split(" [")[0] for c in calls] == ["make test"], "no apt call when everything is installed"

