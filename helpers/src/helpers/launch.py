"""Launch badges (Colab, Binder) and the Colab-only set-up cell, generated from one repository URL.

Change ``REPO`` here (and only here) when the course moves; ``python -m helpers.launch`` rewrites every notebook's
launch row and Colab cell, and a test (tests/test_notebooks.py) fails while any notebook is out of date.

The Colab cell builds only the kit entries its notebook uses (:func:`kit_needs` reads the notebook's code and the
helpers modules it imports), plus what those are built from: ``sentiment`` is fine-tuned from ``encoder``.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

REPO = "transformers-under-the-hood/course"  # GitHub owner/name: the one place the repository URL lives
BRANCH = "main"

# What Colab must install on top of what it ships, at the versions of ../requirements.txt. Colab's own torch is kept
# (the cell pins it to the version already installed, so pip can never replace it).
COLAB_PACKAGES = ("transformers", "tokenizers", "safetensors", "accelerate", "gguf")

LAUNCH_TAG = "launch-row"
COLAB_TAG = "colab-setup"

ROOT = Path(__file__).resolve().parents[3]  # the repository (helpers is installed editable)
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


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


def colab_pins(requirements: Path | None = None) -> list[str]:
    """``name==version`` for :data:`COLAB_PACKAGES`, read from requirements.txt (the one list of pins)."""
    text = (requirements or ROOT / "requirements.txt").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M))
    missing = [name for name in COLAB_PACKAGES if name not in pins]
    if missing:
        raise ValueError(f"requirements.txt does not pin {missing}")
    return [f"{name}=={pins[name]}" for name in COLAB_PACKAGES]


def with_dependencies(names: Iterable[str]) -> list[str]:
    """The kit entries to build for ``names``, dependencies first, in the kit's own order."""
    from . import kit
    from .models import MODELS

    wanted = kit.with_dependencies(list(names))
    return [name for name in MODELS if name in wanted]  # MODELS lists every entry after what it is built from


COLAB_CELL = """\
# Colab only (does nothing elsewhere): fetch the course, install its helpers and pinned libraries
{uses}
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess
    from importlib.metadata import version

    from tqdm.auto import tqdm

    course, python = "/content/course", sys.executable
    repo = "{url}"
    steps = {{
        "fetch the course": ["git", "clone", "-q", "--depth", "1", "-b", "{branch}", repo, course],
        "install the helpers and pinned libraries": [
            python, "-m", "pip", "install", "-q", "-e", f"{{course}}/helpers", f"torch=={{version('torch')}}",
            {pins}],
{builds}    }}
    if os.path.isdir(course):
        del steps["fetch the course"]  # fetched earlier in this Colab session
    for step in (bar := tqdm(steps, unit="step")):
        bar.set_description(step)
        run = subprocess.run(steps[step], capture_output=True, text=True)
        if run.returncode:
            raise RuntimeError(f"{{step}} failed: {{(run.stderr or run.stdout)[-1500:]}}")
    sys.path.insert(0, f"{{course}}/helpers/src")"""


def colab_cell(needs: Iterable[str] | None = None) -> str:
    """The first code cell: on Colab only, fetch the course, install the helpers and the pinned libraries (pinning
    torch to the version Colab has, so it is never replaced) and build the kit entries ``needs`` (default: all),
    dependencies first, with a progress bar. Elsewhere it does nothing and prints nothing."""
    from .models import MODELS

    entries = with_dependencies(MODELS if needs is None else needs)
    builds = "".join(f'        "build {e} (model kit)": [python, "-m", "helpers.kit", "{e}"],\n' for e in entries)
    uses = f"(keeping Colab's own torch) and build the models this notebook uses: {', '.join(entries) or 'none'}."
    uses = "\n".join(textwrap.wrap(uses, width=118, initial_indent="# ", subsequent_indent="# "))  # ruff: 120
    return COLAB_CELL.format(uses=uses, branch=BRANCH, url=repo_url(),
                             pins=", ".join(f'"{p}"' for p in colab_pins()), builds=builds)


# ---------------------------------------------------------------- which kit entries a notebook uses

CHECKPOINT_CALL = re.compile(r"""\bcheckpoint\(\s*(['"])([\w.\-]+)\1\s*\)""")
ANY_CHECKPOINT_CALL = re.compile(r"\bcheckpoint\(")
WHOLE_KIT = re.compile(r"\bmanifest(_table)?\(")  # a notebook that shows the whole kit needs the whole kit
HELPERS_IMPORT = re.compile(r"^\s*(?:from\s+(helpers(?:\.[\w.]+)?)\s+import\s+([\w\s,()*]+)|import\s+(helpers[\w.]*))",
                            re.M)


def _module_file(module: str) -> Path | None:
    """``helpers.x.y`` -> its source file inside this package, if it is one."""
    base = Path(__file__).resolve().parent
    parts = module.split(".")[1:]
    for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
        if parts and candidate.is_file():
            return candidate
    return None


def _literal_checkpoints(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "checkpoint" and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def _module_imports(path: Path, tree: ast.AST) -> list[str]:
    """helpers modules imported by the module at ``path`` (absolute or relative imports)."""
    package = ["helpers"] + list(path.relative_to(Path(__file__).resolve().parent).parent.parts)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + (node.module.split(".") if node.module else []))
            out.append(mod)
            out += [f"{mod}.{alias.name}" for alias in node.names]  # `from .checks import lesson07`
        elif isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
    return [m for m in out if m == "helpers" or m.startswith("helpers.")]


def _modules_used(imports: list[str]) -> set[Path]:
    """The source files of the helpers modules in ``imports`` and of every helpers module those import."""
    seen: set[Path] = set()
    todo = [f for f in map(_module_file, imports) if f]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = ast.parse(path.read_text())
        todo += [f for f in map(_module_file, _module_imports(path, tree)) if f and f not in seen]
    return seen


def kit_needs(nb: Any) -> list[str]:
    """The kit entries a notebook uses (dependencies included): names passed to ``checkpoint("...")`` in its code
    cells, in its reference solutions and in the helpers modules it imports. A notebook that shows the whole kit
    (``manifest()``) or calls ``checkpoint`` with a computed name gets every entry."""
    from .models import MODELS
    from .notebooks import SOLUTION_RE

    code = [c.source for c in nb.cells if c.cell_type == "code" and COLAB_TAG not in c.metadata.get("tags", [])]
    code += [m for c in nb.cells if c.cell_type == "markdown" for m in SOLUTION_RE.findall(c.source)]
    text = "\n".join(code)
    if WHOLE_KIT.search(text) or len(ANY_CHECKPOINT_CALL.findall(text)) > len(CHECKPOINT_CALL.findall(text)):
        return with_dependencies(MODELS)
    names = {m.group(2) for m in CHECKPOINT_CALL.finditer(text)}
    imports = []
    for m in HELPERS_IMPORT.finditer(text):
        if m.group(3):
            imports.append(m.group(3))
        else:
            imports.append(m.group(1))
            imports += [f"{m.group(1)}.{n.strip()}" for n in re.split(r"[\s,()]+", m.group(2)) if n.strip()]
    for path in _modules_used(imports):
        names |= _literal_checkpoints(ast.parse(path.read_text()))
    return with_dependencies(n for n in names if n in MODELS)


def expected_cells(path: Path) -> tuple[str, str]:
    """What the launch row and the Colab cell of the notebook at ``path`` should say."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return badges(Path(path).name), colab_cell(kit_needs(nb))


def refresh(paths: Iterable[Path] | None = None) -> list[str]:
    """Rewrite the launch row and Colab cell of each notebook from ``REPO``; returns the names changed.

    Only those two cells change (their sources, and the Colab cell is collapsed in JupyterLab); outputs and execution
    counts are kept: off Colab the set-up cell prints nothing, so a refreshed notebook need not be executed again.
    """
    import nbformat

    changed = []
    for path in paths or sorted((ROOT / "notebooks").glob(NOTEBOOK_GLOB)):
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
