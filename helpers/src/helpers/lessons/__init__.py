"""The code the lessons teach, imported from the lessons themselves (d2l's ``#@save``, without a second copy).

A code cell whose first line is ``#@save`` is part of its lesson's module: ``notebooks/08_generate.ipynb`` becomes
``helpers.lessons.generate``. Later lessons, the exercise checks and the benchmark write::

    from helpers.lessons.generate import filter_logits

and get the function exactly as the lesson wrote it: the module is built, at import time, from the ``#@save`` cells
of the course's own notebook (``helpers.paths.notebooks_dir()``, never a learner's workspace copy), so there is one
definition in the repository and nothing can drift. Tracebacks and ``inspect.getsource`` show the lesson's code,
labelled with the notebook and cell it came from. ``python -m helpers.lessons`` prints every module so built.

Rules for a ``#@save`` cell (``tests/test_lessons.py`` enforces them): only imports, ``def``, ``class`` and
assignments of constants, so importing a lesson module never loads a model or prints anything.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import linecache
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

from .. import paths

MARK = "#@save"
PREFIX = __name__ + "."


def saved_cells(notebook: Path) -> list[tuple[int, str]]:
    """``(cell index, source)`` of every ``#@save`` code cell of a notebook, in order."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    out = []
    for i, cell in enumerate(cells):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and src.lstrip().startswith(MARK):
            out.append((i, src))
    return out


def module_source(notebook: Path) -> str:
    """The module a lesson exports: a header, then each ``#@save`` cell under a comment naming its cell."""
    rel = f"notebooks/{Path(notebook).name}"
    parts = [f'"""Generated at import time from the #@save cells of {rel}: edit the notebook, not this."""\n']
    for index, src in saved_cells(notebook):
        parts.append(f"# ---- {rel}, cell {index}\n{src.rstrip()}\n")
    return "\n".join(parts)


def topics() -> list[str]:
    """Every lesson that exports code, by module name (its topic)."""
    return [p.stem.partition("_")[2] for p in paths.lessons() if saved_cells(p)]


class _Loader(importlib.abc.Loader):
    def __init__(self, notebook: Path) -> None:
        self.notebook = notebook

    def create_module(self, spec):  # default module creation
        return None

    def get_source(self, fullname: str) -> str:
        return module_source(self.notebook)

    def exec_module(self, module: ModuleType) -> None:
        # Each cell is compiled on its own, under a name that says where it lives (no real file, so linecache
        # serves the cell's lines to tracebacks and inspect.getsource instead of the notebook's JSON).
        module.__file__ = str(self.notebook)
        for index, src in saved_cells(self.notebook):
            filename = f"<notebooks/{self.notebook.name}, cell {index}>"
            linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
            exec(compile(src, filename, "exec"), module.__dict__)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None):
        if not fullname.startswith(PREFIX) or fullname.count(".") != PREFIX.count("."):
            return None
        topic = fullname[len(PREFIX):]
        try:
            notebook = paths.lesson(topic)
        except LookupError:
            raise ImportError(f"No lesson teaches {fullname!r}: the course's lessons with #@save cells are "
                              f"{', '.join(topics()) or 'none'} (in {paths.notebooks_dir()}).") from None
        return importlib.util.spec_from_loader(fullname, _Loader(notebook), origin=str(notebook))


if not any(isinstance(f, _Finder) for f in sys.meta_path):
    sys.meta_path.append(_Finder())
