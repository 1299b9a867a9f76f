"""Launch badges (Colab, Binder) and the Colab-only set-up cell, generated from one repository URL.

Change ``REPO`` here (and only here) when the course moves; ``python -m helpers.launch`` rewrites every notebook's
launch row and Colab cell, and a test fails while any notebook is out of date.
"""

from __future__ import annotations

from urllib.parse import quote

REPO = "transformers-under-the-hood/course"  # GitHub owner/name: the one place the repository URL lives
BRANCH = "main"
PINS = "transformers==5.24.0 tokenizers==0.23.3 safetensors==0.8.0 accelerate==1.15.0 gguf==0.19.0"

LAUNCH_TAG = "launch-row"
COLAB_TAG = "colab-setup"


def badges(notebook: str) -> str:
    """Markdown for the launch row of ``notebooks/<notebook>``."""
    colab = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{notebook}"
    binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?labpath={quote('notebooks/' + notebook, safe='')}"
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})"
    )


def colab_cell() -> str:
    """The first code cell: on Colab only, fetch the course, install helpers (keeping Colab's torch), build the kit."""
    return (
        "# Colab only (does nothing elsewhere): fetch the course, install its helpers and pinned libraries\n"
        "# (Colab's own torch is kept) and build the offline model kit, with a progress bar.\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    !test -d /content/course || git clone -q --depth 1 https://github.com/{REPO} /content/course\n"
        f"    %pip install -q -e /content/course/helpers {PINS}\n"
        "    sys.path.insert(0, \"/content/course/helpers/src\")\n"
        "    !python -m helpers.kit"
    )


def refresh(paths: list | None = None) -> list[str]:
    """Rewrite the launch row and Colab cell of each notebook from ``REPO``; returns the names changed."""
    from pathlib import Path

    import nbformat

    root = Path(__file__).resolve().parents[3] / "notebooks"
    changed = []
    for path in paths or sorted(root.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        before = [c.source for c in nb.cells]
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if LAUNCH_TAG in tags:
                cell.source = badges(Path(path).name)
            elif COLAB_TAG in tags:
                cell.source = colab_cell()
        if [c.source for c in nb.cells] != before:
            nbformat.write(nb, path)
            changed.append(Path(path).name)
    return changed


if __name__ == "__main__":
    print("\n".join(refresh()) or "every notebook's launch row and Colab cell are current")
