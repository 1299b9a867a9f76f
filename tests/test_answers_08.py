"""Notebook 08's exercise checks against plausible wrong answers (each gets its own hint) and right ones (each passes).

The checks are called directly, as the notebook calls them; they print one line (✅ or 💡), read here with capsys.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.checks import HINT, PASS, lesson08

QUESTION = "What colour is grass? One word."  # the notebook's SHORT_QUESTION and N_NEW
N_NEW = 12
FOOD_PROMPT = "My favourite food is"


def _line(capsys, check, *args) -> str:
    check(*args)
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, f"a check prints one line, got {out!r}"
    return out


def _prompt_length() -> int:
    return lesson08._chat_inputs(QUESTION)["input_ids"].shape[1]


@pytest.mark.parametrize("kwargs, hint", [
    (None, "still None"),
    ({"do_sample": True, "max_new_tokens": N_NEW, "min_new_tokens": N_NEW}, "do_sample=True samples"),
    ({"max_new_tokens": N_NEW}, "stopped after"),  # the model would rather stop: EOS comes first
    ({"do_sample": False, "max_length": N_NEW, "min_new_tokens": N_NEW}, "max_length counts the prompt"),
    ({"max_new_tokens": N_NEW, "min_new_tokens": N_NEW, "temperature": 0.7}, "only matter when sampling"),
    ({"max_new_tokens": N_NEW - 1, "min_new_tokens": N_NEW - 1}, f"the exercise asks for {N_NEW}"),
    ({"max_new_tokens": N_NEW, "min_new_tokens": N_NEW, "num_return_sequences": 3}, "must stay 1"),
    ({"max_new_tokens": N_NEW, "min_new_tokens": N_NEW, "num_beams": 3}, "not the greedy ones"),
    ({"min_new_tokens": N_NEW}, "max_new_tokens"),
    ({"input_ids": [1, 2], "max_new_tokens": N_NEW}, "leave out ['input_ids']"),
    ([("max_new_tokens", N_NEW)], "should be a dict"),
], ids=lambda v: str(v)[:40])
def test_greedy_kwargs_wrong(kit, capsys, kwargs, hint):
    out = _line(capsys, lesson08.check_greedy_kwargs, kwargs, QUESTION, N_NEW)
    assert out.startswith(HINT) and hint in out, out


@pytest.mark.parametrize("kwargs", [
    {"do_sample": False, "max_new_tokens": N_NEW, "min_new_tokens": N_NEW},  # the reference solution
    {"max_new_tokens": N_NEW, "min_new_tokens": N_NEW},  # do_sample=False is the default
    {"do_sample": False, "max_new_tokens": N_NEW, "eos_token_id": None},  # EOS not a stop at all (notebook 09 does it)
    {"max_new_tokens": np.int64(N_NEW), "min_new_tokens": N_NEW},  # a numpy integer
    "min_length",  # the prompt's length + N_NEW: counts the prompt, like max_length
], ids=lambda v: str(v)[:40])
def test_greedy_kwargs_right(kit, capsys, kwargs):
    if kwargs == "min_length":
        kwargs = {"max_new_tokens": N_NEW, "min_length": _prompt_length() + N_NEW}
    out = _line(capsys, lesson08.check_greedy_kwargs, kwargs, QUESTION, N_NEW)
    assert out.startswith(PASS), out


def _truth() -> int:
    return lesson08._kept(FOOD_PROMPT, top_p=0.9)


@pytest.mark.parametrize("answer, hint", [
    (None, "still None"),
    ("n", "should be an int"),
    (lambda n: n - 1, "one short"),  # the token that crosses 0.9 left out
    (lambda n: lesson08._kept(FOOD_PROMPT, temperature=0.7, top_p=0.9), "temperature 0.7"),
    (lambda n: lesson08._kept(FOOD_PROMPT, top_k=50, top_p=0.9), "top-k is not part"),
    (lambda n: n + 7, "is not it. Sort the probabilities"),
    (lambda n: n + 0.5, "should be an int"),
], ids=["None", "str", "one short", "T=0.7", "top-k", "other", "half"])
def test_top_p_count_wrong(kit, capsys, answer, hint):
    n = _truth()
    value = answer(n) if callable(answer) else answer
    assert value != n
    out = _line(capsys, lesson08.check_top_p_count, value, FOOD_PROMPT, 0.9)
    assert out.startswith(HINT) and hint in out, out


@pytest.mark.parametrize("convert", [int, np.int64, torch.tensor, float, lambda n: np.array(n)],
                         ids=["int", "numpy.int64", "tensor", "float", "numpy 0-d"])
def test_top_p_count_right(kit, capsys, convert):
    out = _line(capsys, lesson08.check_top_p_count, convert(_truth()), FOOD_PROMPT, 0.9)
    assert out.startswith(PASS), out
