"""Servers the tooling and the tests start and must stop: a free port, children that die with their parent, and
stopping whole process groups."""

from __future__ import annotations

import ctypes
import os
import signal
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """``preexec_fn`` of a server: it gets SIGTERM when the process that started it dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def kill_groups(pids: list[int], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group of each pid (the process alone where it has no group of its own)."""
    for pid in pids:
        try:
            os.killpg(os.getpgid(pid), sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
