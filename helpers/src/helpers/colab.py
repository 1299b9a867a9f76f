"""Colab set-up: what a notebook's first code cell calls on Colab; anywhere else it does nothing.

The cell (written by ``python -m helpers.launch``, see :func:`helpers.launch.colab_cell`) is three lines::

    if type(get_ipython()).__module__.startswith("google.colab"):  # Colab only: ...
        %pip install -q "git+https://github.com/<owner>/<name>@main#subdirectory=helpers"
        import helpers.colab; helpers.colab.bootstrap("sentiment")

:func:`bootstrap` then fetches the course (its notebooks are where ``helpers.lessons`` reads the lessons' code),
installs :data:`PINS` (keeping Colab's own torch), and builds only the kit entries named and what they are built
from (``sentiment`` is fine-tuned from ``encoder``), under one progress bar.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# What Colab must install on top of what it ships: the versions of requirements.txt (tests/test_launch.py keeps the
# two equal). Colab's own torch is kept: the install pins it to the version already there, so pip never replaces it.
PINS = ("transformers==5.24.0", "tokenizers==0.23.3", "safetensors==0.8.0", "accelerate==1.15.0", "gguf==0.19.0")
COURSE = Path("/content/course")  # where the course is fetched on Colab


def on_colab() -> bool:
    return "google.colab" in sys.modules


def steps(needs: tuple[str, ...] | list[str], course: Path | None = None) -> dict[str, list[str]]:
    """The commands :func:`bootstrap` runs, in order: fetch the course (unless fetched earlier in this session),
    install the pins, build each kit entry of ``needs`` (dependencies first)."""
    from importlib.metadata import version

    from .kit import with_dependencies
    from .launch import BRANCH, repo_url

    course, python = course or COURSE, sys.executable
    out: dict[str, list[str]] = {}
    if not course.is_dir():
        out["fetch the course"] = ["git", "clone", "-q", "--depth", "1", "-b", BRANCH, repo_url(), str(course)]
    out["install the pinned libraries"] = [python, "-m", "pip", "install", "-q", f"torch=={version('torch')}", *PINS]
    for entry in with_dependencies(list(needs)):
        out[f"build {entry} (model kit)"] = [python, "-m", "helpers.kit", entry]
    return out


def bootstrap(*needs: str) -> None:
    """On Colab: fetch the course, install the pinned libraries and build the kit entries ``needs``, with a progress
    bar; a failed step raises one sentence ending with the tail of its output. Anywhere else: nothing."""
    if not on_colab():
        return
    from tqdm.auto import tqdm

    todo = steps(needs)
    for step in (bar := tqdm(todo, unit="step")):
        bar.set_description(step)
        run = subprocess.run(todo[step], capture_output=True, text=True)
        if run.returncode:
            raise RuntimeError(f"{step} failed: {(run.stderr or run.stdout)[-1500:]}")
    os.environ["COURSE_ROOT"] = str(COURSE)  # helpers.paths.root(): the lessons' #@save code is read from there
