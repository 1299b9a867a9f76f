"""Where the course's files are: the repository root, the lessons folder, the lesson file pattern, the lessons.

The one place that knows the layout; the tooling, the tests, the Makefile (``python -m course_tools.paths lessons``)
and pre-commit ask it instead of spelling the pattern out again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LESSON_GLOB = "[0-9][0-9]_*.ipynb"  # NN_topic.ipynb: the number orders the course
LESSON_REGEX = r"^notebooks/[0-9][0-9]_[^/]*\.ipynb$"  # the same, for tools that take a regular expression


def _looks_like_root(path: Path) -> bool:
    return (path / "notebooks").is_dir() and (path / "helpers" / "pyproject.toml").is_file()


def root() -> Path:
    """The course repository: ``COURSE_ROOT`` if set, else the checkout this package was installed from (editable),
    else the nearest folder above the working directory that holds ``notebooks/`` and ``helpers/``."""
    env = os.environ.get("COURSE_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parents[3]  # helpers/src/helpers/paths.py -> the repository
    if _looks_like_root(here):
        return here
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        if _looks_like_root(candidate):
            return candidate
    return here


def notebooks_dir() -> Path:
    """The course's own notebooks (never a learner's workspace copies)."""
    return root() / "notebooks"


def lessons(folder: Path | str | None = None) -> list[Path]:
    """The lesson notebooks of ``folder`` (default: the course's), in course order."""
    return sorted(Path(folder or notebooks_dir()).glob(LESSON_GLOB))


def lesson(topic_or_number: str | int, folder: Path | str | None = None) -> Path:
    """One lesson by its topic (``"generation_by_hand"``), its number (``9``, ``"09"``) or its stem."""
    key = str(topic_or_number)
    for path in lessons(folder):
        number, _, topic = path.stem.partition("_")
        if key in (path.stem, topic) or (key.isdigit() and int(key) == int(number)):
            return path
    raise LookupError(f"no lesson {key!r} in {folder or notebooks_dir()}")


def main(argv: list[str]) -> int:
    """``python -m course_tools.paths lessons [FOLDER]``: the lessons, one path a line (for the Makefile);
    ``python -m course_tools.paths regex``: :data:`LESSON_REGEX` (what .pre-commit-config.yaml must say)."""
    if argv[:1] == ["lessons"] and len(argv) <= 2:
        cwd = Path.cwd()
        print("\n".join(str(p.relative_to(cwd)) if p.is_relative_to(cwd) else str(p) for p in lessons(*argv[1:])))
        return 0
    if argv == ["regex"]:
        print(LESSON_REGEX)
        return 0
    print("usage: python -m course_tools.paths lessons [FOLDER] | regex", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
