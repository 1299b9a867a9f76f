"""Notebook 01's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import functools

import pytest

from answers import answer_tests, by_hint
from helpers.checks import kit_pipeline, kit_tokenizer
from helpers.checks import lesson01 as checks

NEW_SENTENCE = "The plot was thin, but the acting was wonderful."  # the notebook's knobs
TASK = "text-generation"
QUESTION = "Where is Brooklyn?"


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


def _label_arguments(case):  # (0 for wrong or 1 for right, name) -> the check's arguments, built once from the kit
    which, name = case
    return (NEW_SENTENCE, *_labels_answers()[which][name])


test_wrong_labels_get_their_hint, test_right_labels_pass = answer_tests(
    checks.check_all_labels, {hint: ((0, hint), hint) for hint in WRONG_LABELS},
    {name: (1, name) for name in RIGHT_LABELS}, _label_arguments)


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


test_wrong_defaults_get_their_hint, test_right_defaults_pass = answer_tests(
    checks.check_default_model, by_hint(WRONG_DEFAULTS), RIGHT_DEFAULTS, lambda make: make(), kit=False)


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


test_wrong_prompts_get_their_hint, test_right_prompts_pass = answer_tests(
    checks.check_chat_prompt, by_hint(WRONG_PROMPTS), RIGHT_PROMPTS, lambda make: (QUESTION, make()))


# ---------------------------------------------------------------- the shared machinery every lesson's checks use


def test_core_accepts_any_integer_where_an_int_is_asked():
    import numpy as np
    import torch

    from helpers.checks import Hint, as_int, expect_type

    for value in (7, np.int64(7), np.int32(7), torch.tensor(7)):
        assert expect_type(value, int, "n") == 7 and type(expect_type(value, int, "n")) is int
        assert as_int(value, "n") == 7
    for bad, words in ((True, "should be an int; got bool"), (7.0, "the float 7.0"), ("7", "got str"),
                       (None, "still None"), (7.5, "should be an int; got float"), (torch.tensor([1, 2]), "Tensor")):
        with pytest.raises(Hint, match=words):
            as_int(bad, "n")
    for whole in (7.0, np.float64(7.0), np.array(7), torch.tensor([7])):  # where a count may come as a float
        assert as_int(whole, "n", whole_floats=True) == 7
    with pytest.raises(Hint, match="should be an int; got float"):
        as_int(7.5, "n", whole_floats=True)


def test_core_hints_a_forgotten_return():
    from helpers.checks import Hint, call

    with pytest.raises(Hint, match=r"my_fn returned None: did you forget `return`\?"):
        call(lambda x: None, 1, what="my_fn")
    assert call(lambda x: None, 1, what="my_fn", allow_none=True) is None


def test_core_comparisons():
    import torch

    from helpers.checks import Hint, close, expect_close, expect_match, expect_neg_inf, reject_mistakes

    inf = float("inf")
    assert close(torch.tensor([1.0, -inf]), torch.tensor([1.0, -inf]))
    assert not close(torch.tensor([1.0, 0.0]), torch.tensor([1.0, -inf]))
    with pytest.raises(Hint, match="off by 0.5: try again"):
        expect_close(torch.tensor([1.5]), torch.tensor([1.0]), "x", hint="off by {diff:.1f}: try again")
    with pytest.raises(Hint, match="wrong infinities"):
        expect_close(torch.tensor([1.0, inf]), torch.tensor([1.0, -inf]), "x")
    expect_close(torch.tensor([1.0, -inf]), torch.tensor([1.0, -inf]), "x")
    right, wrong = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0])
    with pytest.raises(Hint, match="swapped"):
        reject_mistakes(wrong, [(wrong, "swapped")], right)
    reject_mistakes(right, [(right, "cannot tell on this input")], right)  # a mistake equal to the answer is skipped
    removed = torch.tensor([True, True, False])
    for fill, words in ((0.0, "hold 0 instead of -inf"), (-1e9, "large finite number"), (-5.0, r"found \[-5.0\]"),
                        (float("nan"), "contains nan"), (inf, "contains \\+inf")):
        with pytest.raises(Hint, match=words):
            expect_neg_inf(torch.tensor([fill, fill, 1.0]), removed, "filtered")
    expect_neg_inf(torch.tensor([-inf, -inf, 1.0]), removed, "filtered")
    mistakes = [(lambda: torch.tensor([2.0, 1.0]), "swapped"), (lambda: 1 / 0, "never computed")]
    with pytest.raises(Hint, match="swapped"):  # lazy mistakes: computed in order, only until one matches
        expect_match(wrong, right, "x", mistakes)
    with pytest.raises(Hint, match="off by up to 0.5"):
        expect_match(right + 0.5, right, "x", mistakes[:1], hint="off by up to {diff:.1f}")
    expect_match(right, right, "x", mistakes)
