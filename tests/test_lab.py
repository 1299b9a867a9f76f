"""``make lab`` as the README's first command runs it: the real Makefile target, as this machine's user (root in CI
and in most containers), with port 8888's stand-in already taken.

Runs ``make lab`` with the venv this test runs in (``VENV=``) and ``-o <stamp>``, so make never reinstalls that venv
(it may be shared; in CI ``make test`` has just set it up); the kit check (``make models``, a no-op when built) and
the workspace copy (into a temporary folder) run for real. The test holds the port it asks for, so Jupyter must move
to another; it reads the URL with the token that Jupyter prints, fetches the lab page over 127.0.0.1 with it, checks
that the server refuses a request without it, and stops the server by killing make's whole process group, whatever
happens.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=([0-9a-f]+)")
START_TIMEOUT_S = 180


def _held_port() -> socket.socket:
    """A listening socket on a free 127.0.0.1 port: 'the port is taken' for the duration of the test."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to make's process group (make, the shell, jupyter and its kernels), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


@pytest.mark.skipif(not (VENV / "bin" / "jupyter").exists(), reason="no jupyter in this venv")
def test_make_lab_serves_the_lab_with_a_token(kit, tmp_path):
    stamp = VENV / ".course-setup"
    held = _held_port()
    port = held.getsockname()[1]
    log = tmp_path / "make-lab.log"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "BROWSER": "true"}
    for name in ("DISPLAY", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # no display; not a sub-make of `make test`
        env.pop(name, None)
    cmd = ["make", "--no-print-directory", "-C", str(ROOT), "-o", str(stamp), f"VENV={VENV}",
           f"WORKSPACE={tmp_path / 'workspace'}", f"LAB_PORT={port}", "lab"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        match = None
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            match = URL.search(log.read_text(errors="replace"))
        text = log.read_text(errors="replace")
        assert match, f"make lab printed no URL with a token within {START_TIMEOUT_S} s:\n{text[-3000:]}"
        got_port, token = int(match.group(1)), match.group(2)
        assert got_port != port, "Jupyter claims the port this test holds"
        if os.getuid() == 0:
            assert "running as root" in text and "--allow-root" in text
        assert "pip install" not in text  # the venv was left alone
        assert (tmp_path / "workspace").is_dir() and list((tmp_path / "workspace").glob("[0-9][0-9]_*.ipynb"))

        for attempt in range(30):  # under load the printed URL can come a moment before the server answers
            try:
                status, body = _get(f"http://127.0.0.1:{got_port}/lab?token={token}")
                break
            except urllib.error.URLError as err:
                alive = proc.poll() is None
                if attempt == 29 or not alive:
                    raise AssertionError(f"no answer on port {got_port} ({err.reason}); make lab "
                                         f"{'still running' if alive else 'exited'}; its log:\n"
                                         f"{log.read_text(errors='replace')[-3000:]}") from None
                time.sleep(1)
        assert status == 200 and "JupyterLab" in body, f"lab page: HTTP {status}"
        status, _ = _get(f"http://127.0.0.1:{got_port}/api/contents")  # no token: refused
        assert status in (401, 403), f"the server answered HTTP {status} without the token"
    finally:
        _stop(proc)
        held.close()
    assert proc.poll() is not None, "the server is still running"
