"""The learner's workspace: their own copies of the notebooks, which nothing ever overwrites.

    python -m course_tools.workspace sync            # what `make workspace` (and `make lab`) runs
    python -m course_tools.workspace reset 3         # what `make reset NB=3` runs

``sync`` copies into ``workspace/`` every file of ``notebooks/`` the learner does not have yet (on the first launch
that is all of them; after a ``git pull``, the new lessons). A file the learner already has is never touched, even
if the course changed it since: ``sync`` says so, and ``reset`` fetches the new version on request.

``reset NB`` moves the learner's copy of notebook NB to ``workspace/backups/<name>.<date-time>.ipynb`` and puts a
pristine copy from ``notebooks/`` in its place. Backups live in a subfolder so that they never count as lessons
(notebook 00 lists the ``NN_*.ipynb`` files next to it).

Every copy is written to a temporary file and renamed into place, so an interrupted run never leaves half a notebook.
``workspace/.course-sync.json`` records the sha256 of the course file each copy was made from (to tell "the course
has a newer version" apart from "you edited it").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
from pathlib import Path

from . import paths
from helpers.errors import CourseError, run_cli
from helpers.files import atomic_path, copy_atomic, sha256, write_atomic

RECORD = ".course-sync.json"
BACKUPS = "backups"
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", BACKUPS}


def course_files(src: Path) -> list[Path]:
    """Files of the course folder to give the learner, relative to it (notebooks, and any data files beside them)."""
    out = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_file() and not any(p.startswith(".") or p in SKIP_DIRS for p in rel.parts):
            out.append(rel)
    return out


def _read_record(dst: Path) -> dict[str, dict[str, str]]:
    try:
        return json.loads((dst / RECORD).read_text())
    except (OSError, ValueError):
        return {}


def _write_record(dst: Path, record: dict[str, dict[str, str]]) -> None:
    write_atomic(dst / RECORD, json.dumps(record, indent=2, sort_keys=True))


def _stamp(path: Path, src_path: Path, record: dict[str, dict[str, str]]) -> None:
    record[path.as_posix()] = {"course_sha256": sha256(src_path),
                               "copied": dt.datetime.now().isoformat(timespec="seconds")}


def sync(src: Path, dst: Path) -> dict[str, list[str]]:
    """Copy the course files the learner does not have; never overwrite one they have.

    Returns ``{"added": [...], "kept": [...], "updated_upstream": [...]}`` (names relative to the folders);
    ``updated_upstream`` are learner copies whose course original changed since they were copied.
    """
    if not src.is_dir():
        raise CourseError(f"The course folder {src} does not exist: run this from the repository's root.")
    dst.mkdir(parents=True, exist_ok=True)
    record = _read_record(dst)
    result: dict[str, list[str]] = {"added": [], "kept": [], "updated_upstream": []}
    for rel in course_files(src):
        key = rel.as_posix()
        if (dst / rel).exists():
            result["kept"].append(key)
            copied_from = record.get(key, {}).get("course_sha256")
            if copied_from and copied_from != sha256(src / rel):
                result["updated_upstream"].append(key)
            continue
        copy_atomic(src / rel, dst / rel)
        _stamp(rel, src / rel, record)
        result["added"].append(key)
    _write_record(dst, record)
    return result


def find_notebook(folder: Path, nb: str) -> Path | None:
    """The notebook of ``folder`` that ``nb`` names: a number ("3", "03"), a stem ("04_model_body") or a file name."""
    nb = str(nb).strip()
    if nb.endswith(".ipynb"):
        nb = nb[: -len(".ipynb")]
    candidates = paths.lessons(folder)
    if nb.isdigit():
        matches = [p for p in candidates if p.name[:2] == f"{int(nb):02d}"]
    else:
        matches = [p for p in candidates if p.stem == nb]
    return matches[0] if len(matches) == 1 else None


def reset(src: Path, dst: Path, nb: str, now: dt.datetime | None = None) -> tuple[Path, Path | None]:
    """Back up the learner's copy of notebook ``nb`` (dated) and restore the pristine course copy.

    Returns (restored notebook, backup or None when the learner had no copy).
    """
    original = find_notebook(src, nb)
    if original is None:
        names = ", ".join(p.name for p in paths.lessons(src))
        raise CourseError(f"No course notebook matches {nb!r}: give its number, e.g. `make reset NB=3` ({names}).")
    dst.mkdir(parents=True, exist_ok=True)
    target = dst / original.name
    backup = None
    # Copy the pristine notebook first (to a temporary name), so that no failure can leave the learner with neither.
    with atomic_path(target) as tmp:
        shutil.copyfile(original, tmp)
        if target.exists():
            stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d_%H%M%S")
            (dst / BACKUPS).mkdir(exist_ok=True)
            backup = dst / BACKUPS / f"{original.stem}.{stamp}.ipynb"
            n = 2
            while backup.exists():
                backup = dst / BACKUPS / f"{original.stem}.{stamp}-{n}.ipynb"
                n += 1
            os.replace(target, backup)
    record = _read_record(dst)
    _stamp(Path(original.name), original, record)
    _write_record(dst, record)
    return target, backup


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.workspace", description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=Path("notebooks"), help="the course's notebooks (read only)")
    parser.add_argument("--workspace", type=Path, default=Path("workspace"), help="the learner's copies")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("sync", help="copy the notebooks the learner does not have yet; never overwrite one")
    rs = sub.add_parser("reset", help="back up the learner's copy of a notebook and restore the pristine one")
    rs.add_argument("nb", help="the notebook's number (e.g. 3 or 03) or name")
    args = parser.parse_args()
    if args.cmd == "sync":
        result = sync(args.course, args.workspace)
        added, kept = result["added"], result["kept"]
        print(f"workspace {args.workspace}/: {len(added)} new file(s) from {args.course}/, "
              f"{len(kept)} of yours kept as they are")
        for name in added:
            print(f"  + {name}")
        for name in result["updated_upstream"]:
            number = find_notebook(args.course, Path(name).stem) and name[:2]
            how = (f"`make reset NB={number}` gets it (yours is backed up first)" if number
                   else f"delete {args.workspace / name} and run `make workspace` to get it")
            print(f"  ! {name}: the course has a newer version; yours is kept as it is. {how}")
        return 0
    if not args.workspace.is_dir():
        sync(args.course, args.workspace)
    restored, backup = reset(args.course, args.workspace, args.nb)
    if backup is not None:
        print(f"your copy is kept as {backup}")
    print(f"{restored} is the course's pristine copy again. If it is open in JupyterLab, close its tab without "
          "saving (or File > Reload Notebook from Disk) so the old version is not saved over it.")
    return 0


if __name__ == "__main__":
    run_cli(main)
