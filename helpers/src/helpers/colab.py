"""Colab set-up: what a notebook's first code cell calls on Colab; anywhere else it does nothing.

The cell (written by ``python -m course_tools.launch``, see :func:`course_tools.launch.colab_cell`) is three lines::

    if type(get_ipython()).__module__.startswith("google.colab"):  # Colab only: ...
        %pip install -q "git+https://github.com/<owner>/<name>@main#subdirectory=helpers"
        import helpers.colab; helpers.colab.bootstrap("sentiment")

The ``%pip`` line installs this package once; it holds everything a notebook imports, the lessons' code included
(``helpers.lessons``: committed modules), so nothing clones the course. :func:`bootstrap` then installs :data:`PINS`
(keeping Colab's own torch) and builds only the kit entries named and what they are built from (``sentiment`` is
fine-tuned from ``encoder``), under one progress bar.
"""

from __future__ import annotations

import subprocess
import sys

# What Colab must install on top of what it ships: the versions of requirements.txt, the learner's (tests/test_pins.py
# keeps the two equal). Colab's own torch is kept: the install pins it to the version already there, so pip never
# replaces it.
PINS = ("transformers==5.24.0", "tokenizers==0.23.3", "safetensors==0.8.0", "accelerate==1.15.0", "gguf==0.19.0")


def on_colab() -> bool:
    return "google.colab" in sys.modules


def steps(needs: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """The commands :func:`bootstrap` runs, in order: install the pins, build each kit entry of ``needs``
    (dependencies first)."""
    from importlib.metadata import version

    from .models import with_dependencies

    python = sys.executable
    out: dict[str, list[str]] = {}
    out["install the pinned libraries"] = [python, "-m", "pip", "install", "-q", f"torch=={version('torch')}", *PINS]
    for entry in with_dependencies(list(needs)):
        out[f"build {entry} (model kit)"] = [python, "-m", "helpers.kit", entry]
    return out


def bootstrap(*needs: str) -> None:
    """On Colab: install the pinned libraries and build the kit entries ``needs``, with a progress bar; a failed step
    raises one sentence ending with the tail of its output. Anywhere else: nothing."""
    if not on_colab():
        return
    from tqdm.auto import tqdm

    todo = steps(needs)
    for step in (bar := tqdm(todo, unit="step")):
        bar.set_description(step)
        run = subprocess.run(todo[step], capture_output=True, text=True)
        if run.returncode:
            raise RuntimeError(f"{step} failed: {(run.stderr or run.stdout)[-1500:]}")
