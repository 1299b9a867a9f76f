"""The instructor build (make course): papermill with parameters, every notebook executed in order, run-time/memory
table (the rendering is the website's: tests/test_site.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools import paths
from course_tools.course import parse_params, resolve_value
from course_tools.notebooks import code, md, write

ROOT = paths.root()


def run_course(*args: str, notebooks: Path, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "course_tools.course", "--notebooks", str(notebooks), "--out", str(out), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def mini_course(tmp_path_factory) -> Path:
    """Two tiny lessons (the second one first on disk, to check the order), one with parameters and a plot, one
    that reads a file beside it (the kernel's cwd must be the notebooks' folder)."""
    src = tmp_path_factory.mktemp("course") / "notebooks"
    src.mkdir()
    (src / "data.txt").write_text("beside the notebooks")
    write(src / "01_second.ipynb", [
        md("# 01 · Second lesson"),
        code("seed = 0\ntext = 'default'", tags=("parameters",)),
        code("print(f'seed={seed} text={text}')"),
        code("import matplotlib.pyplot as plt\n\nplt.plot([0, 1], [1, 0])\nplt.show()"),
    ])
    write(src / "00_first.ipynb", [
        md("# 00 · First lesson"),
        code("from course_tools.launch import colab_cell", tags=("colab-setup",)),
        code("from pathlib import Path\n\nprint(Path('data.txt').read_text())"),
    ])
    return src


@pytest.fixture(scope="module")
def built(mini_course: Path, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("build")
    return out, run_course("-p", "seed", "7", "-r", "text", "42", notebooks=mini_course, out=out)


@pytest.mark.notebooks  # runs kernels: not in `make test-fast`
def test_course_executes_every_notebook_with_its_parameters(built):
    out, proc = built
    assert proc.returncode == 0, proc.stderr
    second = nbformat.read(out / "executed" / "01_second.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in second.cells if c.cell_type == "code" for o in c.outputs)
    assert "seed=7 text=42" in printed, "parameters were not injected (-p typed, -r raw)"
    first = nbformat.read(out / "executed" / "00_first.ipynb", as_version=4)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in first.cells), \
        "a notebook without a parameters cell got parameters injected"
    assert "beside the notebooks" in json.dumps(first.cells[2].outputs), "the kernel did not run in the notebooks dir"


@pytest.mark.notebooks  # runs kernels: not in `make test-fast`
def test_course_writes_a_table_of_run_times_and_peak_memory(built):
    out, proc = built
    table = (out / "course-report.md").read_text()
    assert re.search(r"\| 00 \| 00_first.ipynb \| \d+\.\d s \| [\d,]+ MiB \| - \| ok \|", table), table
    assert re.search(r"\| 01 \| 01_second.ipynb \| \d+\.\d s \| [\d,]+ MiB \| seed=7, text='42' \| ok \|", table)
    assert "**total**" in table and "| 01 | 01_second.ipynb" in proc.stdout
    report = json.loads((out / "course-report.json").read_text())
    assert [r["name"] for r in report["notebooks"]] == ["00_first.ipynb", "01_second.ipynb"]
    assert all(r["peak_mib"] > 30 for r in report["notebooks"]), "peak memory should be the kernel's (tens of MiB)"


@pytest.mark.notebooks  # runs kernels: not in `make test-fast`
def test_a_parameter_no_notebook_declares_is_an_error(mini_course: Path, tmp_path: Path):
    proc = run_course("-p", "sed", "1", notebooks=mini_course, out=tmp_path)
    assert proc.returncode == 1 and "No notebook declares the parameter(s) sed" in proc.stderr
    assert "seed, text" in proc.stderr and not (tmp_path / "executed").exists()


@pytest.mark.notebooks  # runs kernels: not in `make test-fast`
def test_a_failing_notebook_is_rendered_and_fails_the_build(tmp_path: Path):
    src = tmp_path / "notebooks"
    src.mkdir()
    write(src / "00_broken.ipynb", [md("# 00 · Broken"), code("1 / 0")])
    proc = run_course(notebooks=src, out=tmp_path / "build")
    assert proc.returncode == 1 and "ZeroDivisionError" in proc.stdout
    executed = nbformat.read(tmp_path / "build" / "executed" / "00_broken.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["ename"] == "ZeroDivisionError", "the failing notebook is kept, error included"
    assert "failed in cell 1" in (tmp_path / "build" / "course-report.md").read_text()


@pytest.mark.parametrize("text,value", [("1", 1), ("0.5", 0.5), ("True", True), ("None", None), ("gpt-2", "gpt-2")])
def test_parameters_are_typed_like_papermill(text, value):
    assert resolve_value(text) == value and type(resolve_value(text)) is type(value)


def test_yaml_and_raw_parameters():
    assert parse_params([["seed", "1"]], [["text", "1"]], ["{top_k: 5, seed: 2}"]) == {"seed": 1, "text": "1",
                                                                                       "top_k": 5}
