"""Checks for notebook 08 (text generation with generate())."""

from __future__ import annotations

import warnings
from typing import Any

from .core import Hint, as_int, exercise, expect, expect_type, kit_model, kit_tokenizer

SAMPLING_ONLY = ("temperature", "top_k", "top_p", "min_p", "typical_p")
INPUTS = ("input_ids", "attention_mask", "inputs")


def _generator() -> tuple[Any, Any]:
    return kit_tokenizer("generator"), kit_model("generator", "AutoModelForCausalLM")


def _chat_inputs(question: str) -> Any:
    tokenizer, _ = _generator()
    return tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                         return_dict=True, return_tensors="pt")


@exercise
def check_greedy_kwargs(kwargs: Any, question: str, n_new: int) -> str:
    """``model.generate(**chat_inputs, **kwargs)`` must decode greedily and return exactly ``n_new`` new tokens."""
    import torch

    expect_type(kwargs, dict, "greedy_kwargs")
    given = [k for k in kwargs if k in INPUTS]
    expect(not given, f"leave out {given}: the check passes the chat inputs itself; greedy_kwargs holds only the "
                      "generation settings.")
    expect(kwargs.get("do_sample", False) is False,
           "do_sample=True samples; greedy decoding takes the most likely token every step (do_sample=False).")
    ignored = [k for k in SAMPLING_ONLY if k in kwargs]
    expect(not ignored, f"{ignored} only matter when sampling; greedy decoding ignores them (transformers warns "
                        "that they are not valid), so leave them out.")
    expect(kwargs.get("num_return_sequences", 1) == 1,
           "greedy decoding gives one answer per prompt: num_return_sequences must stay 1.")
    expect("max_length" not in kwargs, "max_length counts the prompt's tokens too; ask for new tokens with "
                                       "max_new_tokens.")
    expect("max_new_tokens" in kwargs, "say how many new tokens you want: max_new_tokens.")
    expect(kwargs["max_new_tokens"] == n_new, f"max_new_tokens is {kwargs['max_new_tokens']!r}; the exercise asks for "
                                              f"{n_new}.")
    tokenizer, model = _generator()
    inputs = _chat_inputs(question)
    start = inputs["input_ids"].shape[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = model.generate(**inputs, **kwargs)
        except Exception as exc:
            raise Hint(f"generate() refused these settings: {type(exc).__name__}: {str(exc)[:200]}") from None
    if caught:
        raise Hint(f"generate() warned: {str(caught[0].message)[:200]}")
    new = out.shape[1] - start
    if new < n_new:
        raise Hint(f"the model stopped after {new} new tokens: it produced its end-of-sequence token "
                   f"({tokenizer.eos_token!r}). A minimum length (min_new_tokens) forbids it until then; or "
                   "eos_token_id=None lets generation run past it.")
    expect(new == n_new, f"you got {new} new tokens; the exercise asks for exactly {n_new}.")
    greedy = dict(do_sample=False, max_new_tokens=n_new)
    with torch.no_grad():  # two right answers: EOS forbidden until the end, or EOS not a stop at all
        held_off = model.generate(**inputs, **greedy, min_new_tokens=n_new)
        run_past = model.generate(**inputs, **greedy, eos_token_id=None)
    if torch.equal(out, run_past) and not torch.equal(out, held_off):
        answer = tokenizer.decode(out[0, start:])
        return f"exactly {n_new} greedy new tokens, running past the end-of-sequence token: {answer!r}"
    expect(torch.equal(out, held_off), "you got the right number of tokens but not the greedy ones: with "
                                       "do_sample=False every step takes the most likely token.")
    answer = tokenizer.decode(out[0, start:])
    return f"exactly {n_new} greedy new tokens, with the end-of-sequence token held off: {answer!r}"


def _kept(prompt: str, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> int:
    import torch

    from ..lessons.generate import library_filters  # the lesson's chain of transformers' processors

    tokenizer, model = _generator()
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[:, -1, :]
    return int(torch.isfinite(library_filters(temperature, top_k, top_p)(inputs["input_ids"], logits)).sum())


@exercise
def check_top_p_count(answer: Any, prompt: str, top_p: float = 0.9) -> str:
    """How many tokens top-p keeps for the next token after ``prompt``, at temperature 1 and without top-k."""
    n = as_int(answer, "n_kept", whole_floats=True)
    truth = _kept(prompt, top_p=top_p)
    if n == truth:
        return (f"top-p={top_p:g} keeps {truth} tokens after {prompt!r}: the fewest most-likely tokens whose "
                f"probabilities add up to at least {top_p:g}.")
    if n == truth - 1:
        raise Hint(f"one short: the token that takes the running total past {top_p:g} is kept too (transformers "
                   "removes only the tail whose total is at most 1 - top_p).")
    if n == _kept(prompt, temperature=0.7, top_p=top_p):
        raise Hint("that is the count at temperature 0.7; this exercise uses temperature 1 (the raw logits).")
    if n == min(50, truth) or n == _kept(prompt, top_k=50, top_p=top_p):
        raise Hint("top-k is not part of this exercise: use the raw logits and top-p alone.")
    raise Hint(f"{n} is not it. Sort the probabilities from largest to smallest, take the cumulative sum, and count "
               f"the tokens up to and including the first one where it reaches {top_p:g}; or count the finite logits "
               "left by filter_logits(logits, 1.0, 0, top_p).")
