"""Writing a file so that no reader, and no interrupted run, ever sees half of it: the course's one atomic write.

The new content goes to a temporary file in the target's own folder (same filesystem) and is renamed over the
target in one ``os.replace``; if anything fails first, the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

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


def copy_atomic(src: Path | str, target: Path | str) -> None:
    """Copy ``src`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        shutil.copyfile(src, tmp)
