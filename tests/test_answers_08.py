"""Notebook 08's exercise checks against plausible wrong answers (each gets its own hint) and right ones (each passes).

The checks are called directly, as the notebook calls them; they print one line (✅ or 💡), read here with capsys.
"""

from __future__ import annotations

import functools

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
    "sampling from top_k=1 (notebook 09 calls it greedy)": {"do_sample": True, "top_k": 1, "max_new_tokens": N_NEW,
                                                             "min_new_tokens": N_NEW},
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


# ---------------------------------------------------------------- exercise 3: two chat questions in one batch

QUESTIONS = ("What colour is the sky? One word.", "Name three fruits.")  # the notebook's QUESTIONS and N_ANSWER
N_ANSWER = 10
CONVERSATIONS = [[{"role": "user", "content": q}] for q in QUESTIONS]


@functools.lru_cache(maxsize=None)
def _tokenizer(padding_side: str):
    """A tokenizer of our own (the check's shared one is never changed), padding on ``padding_side``."""
    from transformers import AutoTokenizer

    from helpers.models import checkpoint

    tokenizer = AutoTokenizer.from_pretrained(checkpoint("generator"))
    tokenizer.padding_side = padding_side
    return tokenizer


def _template(side="left", **kwargs):
    kwargs = {"add_generation_prompt": True, **kwargs}
    return _tokenizer(side).apply_chat_template(CONVERSATIONS, return_dict=True, return_tensors="pt",
                                                 padding=True, **kwargs)


def _texts_then_tokenizer(**kwargs):
    texts = _tokenizer("right").apply_chat_template(CONVERSATIONS, add_generation_prompt=True, tokenize=False)
    return _tokenizer("right")(texts, padding=True, return_tensors="pt", **kwargs)


BATCHES = {  # name -> a function of no arguments building the batch
    "template, tokenizer.padding_side left": _template,
    "template strings, then tokenizer(padding_side='left')": lambda: _texts_then_tokenizer(
        padding_side="left", add_special_tokens=False),
    "template strings, special tokens left at their default": lambda: _texts_then_tokenizer(padding_side="left"),
    "right padding (the tokenizer's default)": lambda: _template("right"),
    "padding_side='left' given to apply_chat_template, which ignores it": lambda: _template("right",
                                                                                           padding_side="left"),
    "no add_generation_prompt": lambda: _template(add_generation_prompt=False),
    "plain tokenizer call": lambda: _tokenizer("left")(list(QUESTIONS), padding=True, return_tensors="pt"),
    "only one question": lambda: _tokenizer("left").apply_chat_template(
        CONVERSATIONS[0], add_generation_prompt=True, return_dict=True, return_tensors="pt"),
}


@functools.lru_cache(maxsize=None)
def _batch(name):
    return BATCHES[name]()


def _generated(name, how="greedy"):
    """generate's output for the batch ``name``: greedy from **batch, or with one mistake in the call."""
    batch = _batch(name)
    ids, mask = (tuple(map(tuple, batch[key].tolist())) for key in ("input_ids", "attention_mask"))
    return _generate(ids, mask, how)


@functools.lru_cache(maxsize=None)
def _generate(ids, mask, how):
    """Cached by the batch's content: the right batches built in different ways are the same tensors, generated once."""
    model = lesson08._generator()[1]
    settings = {"greedy": dict(do_sample=False, max_new_tokens=N_ANSWER),
                "ids only": dict(do_sample=False, max_new_tokens=N_ANSWER),
                "sampled": dict(do_sample=True, temperature=1.5, top_k=0, max_new_tokens=N_ANSWER),
                "too few": dict(do_sample=False, max_new_tokens=N_ANSWER - 4),
                "top_k=1": dict(do_sample=True, top_k=1, max_new_tokens=N_ANSWER)}[how]
    torch.manual_seed(0)
    if how == "ids only":
        return model.generate(torch.tensor(ids), **settings, pad_token_id=2)
    return model.generate(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), **settings)


RIGHT_BATCH_NAME = "template, tokenizer.padding_side left"
WRONG_BATCH = {
    "None": ((None, None), "batch is still None"),
    "strings": (("texts", None), "batch holds text"),
    "ids only, no mask": (("ids", None), "no attention mask"),
    "no attention_mask key": (("no mask key", None), "no attention_mask"),
    "only one question": (("only one question", None), "only one question"),
    "right padding": (("right padding (the tokenizer's default)", None), "padded on the RIGHT"),
    "padding_side to apply_chat_template": (
        ("padding_side='left' given to apply_chat_template, which ignores it", None), "padded on the RIGHT"),
    "no add_generation_prompt": (("no add_generation_prompt", None), "add_generation_prompt=True"),
    "plain tokenizer call": (("plain tokenizer call", None), "skips the chat template"),
    "answers still None": ((RIGHT_BATCH_NAME, "none"), "answers is still None"),
    "generate without the mask": ((RIGHT_BATCH_NAME, "ids only"), "did not get its attention mask"),
    "sampled": ((RIGHT_BATCH_NAME, "sampled"), "not the greedy tokens"),
    "too few tokens": ((RIGHT_BATCH_NAME, "too few"), f"max_new_tokens={N_ANSWER}"),
    "only the new tokens": ((RIGHT_BATCH_NAME, "new only"), "prompt included"),
}
RIGHT_BATCH = {name: (name, "greedy") for name in list(BATCHES)[:3]}
RIGHT_BATCH["the whole generate output (return_dict_in_generate=True)"] = (RIGHT_BATCH_NAME, "dict")
RIGHT_BATCH["lists, not tensors"] = ("lists", "greedy")
RIGHT_BATCH["sampling from top_k=1 (greedy too)"] = (RIGHT_BATCH_NAME, "top_k=1")


def _batch_arguments(case):
    name, how = case
    if name == "texts":
        batch = _tokenizer("left").apply_chat_template(CONVERSATIONS, add_generation_prompt=True, tokenize=False)
    elif name == "ids":
        batch = _batch(RIGHT_BATCH_NAME)["input_ids"]
    elif name == "no mask key":
        batch = {"input_ids": _batch(RIGHT_BATCH_NAME)["input_ids"]}
    elif name == "lists":
        batch = {key: value.tolist() for key, value in _batch(RIGHT_BATCH_NAME).items()}
    else:
        batch = _batch(name) if name else None
    if how is None or how == "none":
        answers = None
    elif how == "new only":
        answers = _generated(name)[:, batch["input_ids"].shape[1]:]
    elif how == "dict":
        answers = type("Output", (), {"sequences": _generated(name)})()  # what return_dict_in_generate gives
    else:
        answers = _generated(RIGHT_BATCH_NAME if name == "lists" else name, how)
    return batch, answers, QUESTIONS, N_ANSWER


test_chat_batch_wrong, test_chat_batch_right = answer_tests(
    lesson08.check_chat_batch, WRONG_BATCH, RIGHT_BATCH, _batch_arguments)
