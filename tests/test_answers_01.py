"""Notebook 01's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import functools

import pytest

from helpers.checks import HINT, PASS, kit_pipeline, kit_tokenizer
from helpers.checks import lesson01 as checks

NEW_SENTENCE = "The plot was thin, but the acting was wonderful."  # the notebook's knobs
TASK = "text-generation"
QUESTION = "Where is Brooklyn?"


def _printed(capsys, check, *args) -> str:
    check(*args)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one line, never a traceback
    return out


def _classify(text, **kwargs):
    return kit_pipeline("sentiment-analysis", "sentiment")(text, **kwargs)


@functools.lru_cache(maxsize=1)
def _labels_answers():
    every = _classify(NEW_SENTENCE, top_k=None)
    wrong = {
        "1 label out of 2": (_classify(NEW_SENTENCE), every[0]["label"]),
        "a single dict": (_classify(NEW_SENTENCE)[0], every[0]["label"]),
        "did you classify another sentence": (_classify("I hated every minute.", top_k=None), every[0]["label"]),
        "top_label is a dict": (every, every[0]),
        "not the label with the highest score": (every, every[-1]["label"]),
        "call the classifier on your sentence": (None, None),
        "results for several sentences": (_classify([NEW_SENTENCE, "Bad."], top_k=None), every[0]["label"]),
        "should be a str": (every, 1),
    }
    right = {
        "top_k=None, first label": (every, every[0]["label"]),
        "a list of one sentence": (_classify([NEW_SENTENCE], top_k=None), every[0]["label"]),
        "top_k=2 (every label)": (_classify(NEW_SENTENCE, top_k=2), max(every, key=lambda d: d["score"])["label"]),
        "reversed list": (every[::-1], every[0]["label"]),
    }
    return wrong, right


WRONG_LABELS = ["1 label out of 2", "a single dict", "did you classify another sentence", "top_label is a dict",
                "not the label with the highest score", "call the classifier on your sentence",
                "results for several sentences", "should be a str"]
RIGHT_LABELS = ["top_k=None, first label", "a list of one sentence", "top_k=2 (every label)", "reversed list"]


@pytest.mark.parametrize("hint", WRONG_LABELS)
def test_wrong_labels_get_their_hint(kit, capsys, hint):
    all_scores, top_label = _labels_answers()[0][hint]
    out = _printed(capsys, checks.check_all_labels, NEW_SENTENCE, all_scores, top_label)
    assert out.startswith(HINT) and hint in out, out


@pytest.mark.parametrize("name", RIGHT_LABELS)
def test_right_labels_pass(kit, capsys, name):
    all_scores, top_label = _labels_answers()[1][name]
    out = _printed(capsys, checks.check_all_labels, NEW_SENTENCE, all_scores, top_label)
    assert out.startswith(PASS), out


def _default(task=TASK):
    from transformers.pipelines import check_task, get_default_model_and_revision

    _, targeted, options = check_task(task)
    return get_default_model_and_revision(targeted, options)


WRONG_DEFAULTS = {
    "still None": lambda: (TASK, None),
    "pin the revision too": lambda: (TASK, _default()[0]),
    "swapped": lambda: (TASK, _default()[::-1]),
    "is not the pinned revision": lambda: (TASK, (_default()[0], "main")),
    "is not the default model": lambda: (TASK, ("gpt2", _default()[1])),
    "a (model, revision) pair": lambda: (TASK, (*_default(), "pt")),
    "no default for 'question-answering'": lambda: ("question-answering", ("x", "y")),
}
RIGHT_DEFAULTS = {
    "tuple": lambda: (TASK, _default()),
    "list": lambda: (TASK, list(_default())),
    "an alias of the task": lambda: ("sentiment-analysis", _default("text-classification")),
}


@pytest.mark.parametrize("hint", WRONG_DEFAULTS)
def test_wrong_defaults_get_their_hint(capsys, hint):
    out = _printed(capsys, checks.check_default_model, *WRONG_DEFAULTS[hint]())
    assert out.startswith(HINT) and hint in out, out


@pytest.mark.parametrize("name", RIGHT_DEFAULTS)
def test_right_defaults_pass(capsys, name):
    out = _printed(capsys, checks.check_default_model, *RIGHT_DEFAULTS[name]())
    assert out.startswith(PASS), out


def _template(question=QUESTION, **kwargs):
    options = {"tokenize": False, "add_generation_prompt": True, **kwargs}
    return kit_tokenizer("generator").apply_chat_template([{"role": "user", "content": question}], **options)


WRONG_PROMPTS = {
    "still None": lambda: None,
    "not text: pass tokenize=False": lambda: _template(tokenize=True),
    "add add_generation_prompt=True": lambda: _template(add_generation_prompt=False),
    "the bare question": lambda: QUESTION,
    "does not contain EXERCISE_QUESTION": lambda: _template("Where is Paris?"),
    "not the template's output": lambda: f"User: {QUESTION}\nAssistant:",
}
RIGHT_PROMPTS = {
    "apply_chat_template": lambda: _template(),
    "messages built with dict()": lambda: kit_tokenizer("generator").apply_chat_template(
        [dict(role="user", content=QUESTION)], add_generation_prompt=True, tokenize=False),
}


@pytest.mark.parametrize("hint", WRONG_PROMPTS)
def test_wrong_prompts_get_their_hint(kit, capsys, hint):
    out = _printed(capsys, checks.check_chat_prompt, QUESTION, WRONG_PROMPTS[hint]())
    assert out.startswith(HINT) and hint in out, out


@pytest.mark.parametrize("name", RIGHT_PROMPTS)
def test_right_prompts_pass(kit, capsys, name):
    out = _printed(capsys, checks.check_chat_prompt, QUESTION, RIGHT_PROMPTS[name]())
    assert out.startswith(PASS), out
