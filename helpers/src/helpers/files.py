"""Files the course writes and checks: one atomic write (no reader, and no interrupted run, ever sees half of a
file) and one sha256 of a file.

The new content goes to a temporary file in the target's own folder (same filesystem) and is renamed over the
target in one ``os.replace``; if anything fails first, the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """A temporary path beside ``target``: write it inside the ``with`` block; on leaving the block it replaces
    ``target`` in one rename (or, on an exception, is deleted and ``target`` stays as it was)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(target: Path | str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")


def sha256(path: Path | str) -> str:
    """The sha256 of a file's bytes, read 1 MiB at a time (a kit's weights do not fit in memory twice)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def copy_atomic(src: Path | str, target: Path | str) -> None:
    """Copy ``src`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        shutil.copyfile(src, tmp)
