"""The lessons' knobs: every one is checked right after the parameters cell, and a bad value gets one sentence."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from course_tools import paths
from helpers.errors import CourseError
from helpers.knobs import KINDS, check_knobs

ROOT = paths.root()
NOTEBOOKS = paths.lessons()


def _parameters(nb) -> tuple[int, list[str]]:
    """Index of the parameters cell and the names it assigns (tuple targets included)."""
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    names = []
    for node in ast.parse(nb.cells[index].source).body:
        for target in node.targets:
            names += [e.id for e in (target.elts if isinstance(target, ast.Tuple) else [target])]
    return index, names


def _with_parameters() -> list[Path]:
    return [p for p in NOTEBOOKS if any("parameters" in c.metadata.get("tags", [])
                                        for c in nbformat.read(p, as_version=4).cells)]


@pytest.mark.parametrize("path", _with_parameters(), ids=lambda p: p.stem)
def test_the_cell_after_the_parameters_checks_every_knob(path: Path):
    nb = nbformat.read(path, as_version=4)
    index, names = _parameters(nb)
    assert names and all(name in KINDS for name in names), [n for n in names if n not in KINDS]
    call = next(node for node in ast.walk(ast.parse(nb.cells[index + 1].source))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check_knobs")
    assert [(k.arg, k.value.id) for k in call.keywords] == [(n, n) for n in names]


GOOD = {"text": "Hello", "texts": ["a", "b"], "translations": {"Bonjour": "Hello"}, "count": 3, "index": 0,
        "numbers": [1000.0, 1001], "temperature": 0.7, "temperatures": [0.5, 2], "probability": 1.0}
BAD = {"text": ["", "   ", 3, None], "texts": [[], "a sentence", ["ok", ""], [1]], "translations": [{}, {"": "x"}],
       "count": [0, -1, 2.5, "3", True], "index": [-1, 1.0, None], "numbers": [[], ["1"], 5],
       "temperature": [0, -0.5, "hot"], "temperatures": [[0.5, 0], []], "probability": [0, 1.5, "0.9"]}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_good_values_pass_and_bad_ones_get_one_sentence(kind: str):
    name = next(n for n, k in KINDS.items() if k == kind)
    check_knobs(**{name: GOOD[kind]})
    for bad in BAD[kind]:
        with pytest.raises(CourseError) as info:
            check_knobs(**{name: bad})
        message = str(info.value)
        assert message.startswith(f"{name} should be ") and "parameters cell" in message and "\n" not in message


def test_an_unknown_knob_is_a_course_bug():
    with pytest.raises(ValueError, match="not a known knob"):
        check_knobs(PROMT="typo")


@pytest.mark.notebooks
def test_an_empty_prompt_stops_the_notebook_with_one_line():
    """Notebook 06 with PROMPT = "" (as papermill would inject it): the check cell prints one line, no traceback."""
    from course_tools.notebooks import run

    nb = nbformat.read(next(p for p in NOTEBOOKS if p.name.startswith("06_")), as_version=4)
    index, _ = _parameters(nb)
    setup = [c for c in nb.cells[:index] if c.cell_type == "code" and "setup(" in c.source]
    injected = nbformat.v4.new_code_cell('PROMPT = ""')
    nb.cells = setup + [nb.cells[index], injected, nb.cells[index + 1]]
    run(nb, ROOT / "notebooks", timeout=120)
    outputs = nb.cells[-1].outputs
    assert [o["output_type"] for o in outputs] == ["stream"], outputs
    text = outputs[0]["text"]
    assert text.startswith("❌ PROMPT should be a non-empty string, not ''") and text.count("\n") == 1


def test_choices_known_only_with_the_model_or_the_text():
    from helpers.knobs import check_choice

    check_choice("LAYER", 5, range(6), "a layer of this model")
    check_choice("FOCUS_TOKEN", "it", ["[CLS]", "the", "cat", "it"], "a token of ATTENTION_SENTENCE")
    for name, value, choices, shown in [("LAYER", 6, range(6), "(0 to 5), not 6"),
                                        ("HEAD", True, range(12), "(0 to 11), not True"),
                                        ("FOCUS_TOKEN", "dog", ["the", "cat"], "('the', 'cat'), not 'dog'")]:
        with pytest.raises(CourseError) as info:
            check_choice(name, value, choices, "one of these")
        assert str(info.value).startswith(f"{name} should be one of these {shown}: change it in the parameters")
