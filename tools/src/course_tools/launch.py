"""Launch badges (Colab, Binder) and the Colab-only set-up cell, generated from one repository URL.

Change ``REPO`` here (and only here) when the course moves; ``python -m course_tools.launch`` rewrites every notebook's
launch row and Colab cell, and a test (tests/test_notebooks.py) fails while any notebook is out of date.

The Colab cell is three lines: on Colab only, it installs the helpers package and calls
:func:`helpers.colab.bootstrap` with the kit entries its notebook uses (:func:`kit_needs` reads the notebook's code
and the helpers modules it imports); bootstrap adds what those are built from (``sentiment`` is fine-tuned from
``encoder``) and installs the pins. No version number is written into a notebook.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

import helpers
from helpers.models import MODELS, with_dependencies

from . import imports, paths

REPO = "transformers-under-the-hood/course"  # GitHub owner/name: the one place the repository URL lives
BRANCH = "main"

LAUNCH_TAG = "launch-row"
COLAB_TAG = "colab-setup"


def repo_url() -> str:
    return f"https://github.com/{REPO}"


def badges(notebook: str) -> str:
    """Markdown for the launch row of ``notebooks/<notebook>``."""
    colab = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{notebook}"
    binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?labpath={quote('notebooks/' + notebook, safe='')}"
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})"
    )


# Three lines: on Colab only, install the helpers package from the repository, then let helpers.colab.bootstrap
# install the pinned libraries and build the kit entries (with what they are built from). In JupyterLab, Binder and
# CI the condition is false and nothing runs (a Colab kernel's shell is google.colab._shell.Shell). No version
# number is written here: the pins live in helpers.colab.PINS.
COLAB_CELL = """\
if type(get_ipython()).__module__.startswith("google.colab"):  # Colab only: course, pinned libraries, models
    %pip install -q "git+{url}@{branch}#subdirectory=helpers"
    import helpers.colab; helpers.colab.bootstrap({entries})"""


def colab_cell(needs: Iterable[str] | None = None) -> str:
    """The first code cell: on Colab only, install the helpers and call :func:`helpers.colab.bootstrap` with the kit
    entries ``needs`` (default: all; an entry another one is built from is left for bootstrap to add). Elsewhere it
    does nothing and prints nothing."""
    entries = with_dependencies(MODELS if needs is None else needs)
    implied = {d for e in entries for d in MODELS[e].depends_on}
    named = ", ".join(f'"{e}"' for e in entries if e not in implied)
    return COLAB_CELL.format(url=repo_url(), branch=BRANCH, entries=named)


# ---------------------------------------------------------------- which kit entries a notebook uses

# checkpoint("x") loads an entry; checkpoint_folder("x"[, weights=True]) gives its files (for the lessons that read
# them by hand); kit_folder("x") gives the kit's own files in either mode
CHECKPOINT_CALL = re.compile(
    r"""\b(?:checkpoint(?:_folder)?|kit_folder)\(\s*(['"])([\w.\-]+)\1\s*(?:,\s*weights\s*=\s*True\s*)?\)""")
ANY_CHECKPOINT_CALL = re.compile(r"\b(?:checkpoint(?:_folder)?|kit_folder)\(")
WHOLE_KIT = re.compile(r"\bmanifest(_table)?\(")  # a notebook that shows the whole kit needs the whole kit
HELPERS_IMPORT = re.compile(r"^\s*(?:from\s+(helpers(?:\.[\w.]+)?)\s+import\s+([\w\s,()*]+)|import\s+(helpers[\w.]*))",
                            re.M)


def _literal_checkpoints(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("checkpoint", "checkpoint_folder", "kit_folder") and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def kit_needs(nb: Any) -> list[str]:
    """The kit entries a notebook uses (dependencies included): names passed to ``checkpoint("...")`` in its code
    cells, in its reference solutions and in the helpers modules it imports. A notebook that shows the whole kit
    (``manifest()``) or calls ``checkpoint`` with a computed name gets every entry."""
    from .notebooks import SOLUTION_RE

    code = [c.source for c in nb.cells if c.cell_type == "code" and COLAB_TAG not in c.metadata.get("tags", [])]
    code += [m for c in nb.cells if c.cell_type == "markdown" for m in SOLUTION_RE.findall(c.source)]
    text = "\n".join(code)
    if WHOLE_KIT.search(text) or len(ANY_CHECKPOINT_CALL.findall(text)) > len(CHECKPOINT_CALL.findall(text)):
        return with_dependencies(MODELS)
    names = {m.group(2) for m in CHECKPOINT_CALL.finditer(text)}
    named = []
    for m in HELPERS_IMPORT.finditer(text):
        if m.group(3):
            named.append(m.group(3))
        else:
            named.append(m.group(1))
            named += [f"{m.group(1)}.{n.strip()}" for n in re.split(r"[\s,()]+", m.group(2)) if n.strip()]
    src = Path(helpers.__file__).resolve().parents[1]  # the folder holding the helpers package
    files = imports.modules(src)
    for module in imports.reachable(named, imports.graph(src)):
        names |= _literal_checkpoints(ast.parse(files[module].read_text(encoding="utf-8")))
    return with_dependencies(n for n in names if n in MODELS)


def expected_cells(path: Path) -> tuple[str, str]:
    """What the launch row and the Colab cell of the notebook at ``path`` should say."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return badges(Path(path).name), colab_cell(kit_needs(nb))


def refresh(notebooks: Iterable[Path] | None = None) -> list[str]:
    """Rewrite the launch row and Colab cell of each notebook from ``REPO``; returns the names changed.

    Only those two cells change (their sources, and the Colab cell is collapsed in JupyterLab); outputs and execution
    counts are kept: off Colab the set-up cell prints nothing, so a refreshed notebook need not be executed again.
    """
    import nbformat

    changed = []
    for path in notebooks or paths.lessons():
        nb = nbformat.read(path, as_version=4)
        before = [(c.source, c.metadata.get("jupyter")) for c in nb.cells]
        row, setup = badges(Path(path).name), colab_cell(kit_needs(nb))
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if LAUNCH_TAG in tags:
                cell.source = row
            elif COLAB_TAG in tags:
                cell.source = setup
                # Collapsed in JupyterLab, where it does nothing (Colab, where it works, shows it).
                cell.metadata["jupyter"] = {**cell.metadata.get("jupyter", {}), "source_hidden": True}
        if [(c.source, c.metadata.get("jupyter")) for c in nb.cells] != before:
            nbformat.write(nb, path)
            changed.append(Path(path).name)
    return changed


if __name__ == "__main__":
    changed = refresh()
    print("\n".join(f"rewrote the launch row / Colab cell of {name}" for name in changed)
          or "every notebook's launch row and Colab cell are current")
