"""Launch row and Colab set-up cell (course_tools.launch, helpers.colab): generated from REPO, three lines,
Colab-only, installs the helpers once (no second copy of the course), the pins, and builds only what the notebook
uses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from course_tools import launch, paths
from course_tools.launch import badges, colab_cell, kit_needs
from course_tools.notebooks import code, exercise_cells, md
from helpers import colab
from helpers.models import MODELS

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
    assert f"https://mybinder.org/v2/gh/{launch.REPO}/{launch.BRANCH}?labpath=notebooks%2F04_model_body_and_shapes" \
           ".ipynb" in row
    assert row.startswith("[![Open In Colab]") and "[![Binder]" in row


def test_the_repository_url_lives_in_one_place():
    """No other file of the course's packages spells the repository out: everything is generated from launch.REPO."""
    files = [*(paths.root() / "helpers").rglob("*.py"), *(paths.root() / "tools").rglob("*.py")]
    assert paths.root() / "tools" / "src" / "course_tools" / "launch.py" in files
    assert [p for p in files if launch.REPO in p.read_text()] == [Path(launch.__file__)]


@pytest.mark.parametrize("sources,solution,expected", [
    (['model = AutoModel.from_pretrained(checkpoint("encoder"))'], None, ["encoder"]),
    (["clf = pipeline('sentiment-analysis', model=checkpoint('sentiment'))"], None, ["encoder", "sentiment"]),
    (["x = 1"], 'tok = AutoTokenizer.from_pretrained(checkpoint("gpt2-tokenizer"))', ["gpt2-tokenizer"]),
    (["from helpers.checks import lesson00"], None, ["gpt2-tokenizer"]),            # its checks load the tokenizer
    (["from helpers.corpus import movie_reviews"], None, ["movie-reviews"]),        # a corpus is a kit entry too
    (["folder = checkpoint_folder('generator')"], None, ["generator"]),             # the files, not the model
    (["from helpers.models import checkpoint", "checkpoint('gpt-5')"], None, []),   # not a kit entry
    (["name = 'generator'", "checkpoint(name)"], None, ALL),                        # computed: build everything
    (["from helpers.models import manifest_table", "manifest_table()"], None, ALL),  # shows the whole kit
    (["print('no models')"], None, []),
])
def test_kit_needs(sources, solution, expected):
    assert kit_needs(notebook(*sources, solution=solution)) == expected


@pytest.mark.parametrize("needs", [None, ["sentiment"], []])
def test_the_cell_is_three_lines_with_no_version_number(needs):
    cell = colab_cell(needs)
    assert len(cell.splitlines()) <= 3
    assert not re.search(r"\d+\.\d+", cell), "no version number in a notebook: the pins live in helpers.colab"
    assert max(map(len, cell.splitlines())) <= 120, "ruff's line length"


def test_the_cell_names_only_what_is_not_implied():
    assert 'bootstrap("sentiment")' in colab_cell(["encoder", "sentiment"])  # bootstrap adds the encoder itself
    assert "bootstrap()" in colab_cell([])


# The cell as a kernel runs it: IPython turns `%pip` into a call of run_line_magic, which this shell records instead
# of running pip; subprocess.run is recorded too. SHELL_MODULE decides whether the shell looks like Colab's.
RUN_CELL = """
import json, subprocess, sys, types
from IPython.core.interactiveshell import InteractiveShell
import helpers.colab

magics, calls = [], []
class Shell(InteractiveShell):
    def run_line_magic(self, name, line, _stack_depth=1):
        magics.append([name, line])
Shell.__module__ = SHELL_MODULE
if SHELL_MODULE.startswith("google.colab"):
    sys.modules["google"], sys.modules["google.colab"] = types.ModuleType("google"), types.ModuleType("google.colab")
subprocess.run = lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0, "", "")
result = Shell.instance().run_cell(CELL)
print(json.dumps({"ok": result.success, "error": repr(result.error_in_exec), "magics": magics, "calls": calls}))
"""


def run_cell(cell: str, shell_module: str) -> tuple[dict, str]:
    script = f"CELL = {cell!r}\nSHELL_MODULE = {shell_module!r}\n{RUN_CELL}"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd="/")
    assert run.returncode == 0, run.stderr
    *printed, last = run.stdout.strip().splitlines()
    return json.loads(last), "\n".join(printed) + run.stderr


def test_the_cell_does_nothing_off_colab():
    result, output = run_cell(colab_cell(["encoder"]), "ipykernel.zmqshell")
    assert result["ok"], result["error"]
    assert result["magics"] == [] and result["calls"] == []
    assert output.strip() == "", "prints nothing"


def test_the_cell_on_colab_installs_the_helpers_once_the_pins_keeps_torch_and_builds_only_what_is_needed():
    result, output = run_cell(colab_cell(["sentiment"]), "google.colab._shell")
    assert result["ok"], result["error"]
    [(magic, line)] = result["magics"]
    assert magic == "pip" and f"git+{launch.repo_url()}@{launch.BRANCH}#subdirectory=helpers" in line
    pip, *builds = result["calls"]
    assert not any("git" in part for call in result["calls"] for part in call), "the course is not cloned again"
    assert pip[1:4] == ["-m", "pip", "install"]
    assert f"torch=={version('torch')}" in pip, "torch must be pinned to the version already installed"
    assert set(colab.PINS) <= set(pip)
    assert [b[-1] for b in builds] == ["encoder", "sentiment"], "dependencies first, nothing else"
    assert all(b[1:3] == ["-m", "helpers.kit"] for b in builds)
    assert "build sentiment (model kit)" in output and "3/3" in output, "a progress bar, step by step"


@pytest.mark.integration
def test_the_installed_helpers_need_no_checkout(tmp_path):
    """What the %pip line installs is all a notebook imports: a wheel of helpers/ alone (no notebooks beside it)
    serves the lessons' code, and the kit build bootstrap runs."""
    import shutil

    source = tmp_path / "helpers"  # a copy: the build writes its own folders into the tree it builds
    shutil.copytree(paths.root() / "helpers", source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "dist"), str(source)], capture_output=True, text=True)
    assert wheel.returncode == 0, wheel.stderr
    (built,) = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(built)],
                   check=True, capture_output=True)
    code = ("import helpers.lessons.generate as g, helpers.kit, helpers.colab; print(g.__file__); "
            "print(helpers.colab.steps(['sentiment'])['build sentiment (model kit)'][1:])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = out.stdout.splitlines()
    assert first.startswith(str(site)) and second == "['-m', 'helpers.kit', 'sentiment']"


def test_a_failed_step_says_which_in_one_sentence(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", sys.modules.get("google.colab") or type(sys)("google.colab"))
    monkeypatch.setattr(colab.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution"))
    with pytest.raises(RuntimeError, match="^install the pinned libraries failed: ERROR: No matching distribution"):
        colab.bootstrap("encoder")


def test_bootstrap_off_colab_does_nothing(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(colab.subprocess, "run", lambda *a, **k: pytest.fail("ran a command off Colab"))
    assert colab.bootstrap("encoder") is None


def test_every_kit_entry_can_be_named_in_the_cell():
    assert set(re.findall(r'"([\w-]+)"', colab_cell().splitlines()[-1])) | {"encoder"} == set(MODELS)
