"""Notebook 08's exercise checks against plausible wrong answers (each gets its own hint) and right ones (each passes).

The checks are called directly, as the notebook calls them; they print one line (✅ or 💡), read here with capsys.
"""

from __future__ import annotations

import numpy as np
import torch

from answers import answer_tests
from helpers.checks import lesson08

QUESTION = "What colour is grass? One word."  # the notebook's SHORT_QUESTION and N_NEW
N_NEW = 12
FOOD_PROMPT = "My favourite food is"


def _prompt_length() -> int:
    return lesson08._chat_inputs(QUESTION)["input_ids"].shape[1]


WRONG_GREEDY = {hint: (kwargs, hint) for kwargs, hint in [
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
]}
RIGHT_GREEDY = {
    "the reference solution": {"do_sample": False, "max_new_tokens": N_NEW, "min_new_tokens": N_NEW},
    "do_sample=False is the default": {"max_new_tokens": N_NEW, "min_new_tokens": N_NEW},
    "EOS not a stop at all (notebook 09 does it)": {"do_sample": False, "max_new_tokens": N_NEW, "eos_token_id": None},
    "a numpy integer": {"max_new_tokens": np.int64(N_NEW), "min_new_tokens": N_NEW},
    "min_length, counting the prompt like max_length": "min_length",
}


def _greedy_arguments(kwargs):
    if kwargs == "min_length":  # the prompt's length + N_NEW
        kwargs = {"max_new_tokens": N_NEW, "min_length": _prompt_length() + N_NEW}
    return kwargs, QUESTION, N_NEW


test_greedy_kwargs_wrong, test_greedy_kwargs_right = answer_tests(
    lesson08.check_greedy_kwargs, WRONG_GREEDY, RIGHT_GREEDY, _greedy_arguments)


def _truth() -> int:
    return lesson08._kept(FOOD_PROMPT, top_p=0.9)


WRONG_TOP_P = {
    "None": (None, "still None"),
    "str": ("n", "should be an int"),
    "one short": (lambda n: n - 1, "one short"),  # the token that crosses 0.9 left out
    "T=0.7": (lambda n: lesson08._kept(FOOD_PROMPT, temperature=0.7, top_p=0.9), "temperature 0.7"),
    "top-k": (lambda n: lesson08._kept(FOOD_PROMPT, top_k=50, top_p=0.9), "top-k is not part"),
    "other": (lambda n: n + 7, "is not it. Sort the probabilities"),
    "half": (lambda n: n + 0.5, "should be an int"),
}
RIGHT_TOP_P = {"int": int, "numpy.int64": np.int64, "tensor": torch.tensor, "float": float,
               "numpy 0-d": lambda n: np.array(n)}
test_top_p_count_wrong, test_top_p_count_right = answer_tests(
    lesson08.check_top_p_count, WRONG_TOP_P, RIGHT_TOP_P,
    lambda answer: (answer(_truth()) if callable(answer) else answer, FOOD_PROMPT, 0.9))
