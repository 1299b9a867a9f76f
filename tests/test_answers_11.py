"""Notebook 11's generation checks (steps 5 and 6) against plausible wrong answers and right alternatives.

The wrong filters and loops are the ones notebooks 08 and 09 save as negative controls (the seed's zero-fill top-k,
top-p before temperature, no per-row stopping, ...), plus other typical slips; each must get its own hint. The right
alternatives (the lessons' own functions, transformers' processors, a loop without the cache, generate's own padding
formula) must each pass.
"""

from __future__ import annotations

import functools
from functools import partial

import torch

from answers import answer_tests, by_name, named
from helpers.checks import lesson11
from helpers.checks.core import kit_model, kit_tokenizer
from helpers.lessons.generate import (filter_logits, filter_logits_top_p_first, filter_logits_zero_fill,
                                      library_filters)
from helpers.lessons.generation_by_hand import sample, sample_pad_with_eos, sample_stop_on_any

MESSAGES = [{"role": "system", "content": "Be brief."},  # notebook 11's SYSTEM and QUESTION
            {"role": "user", "content": "Write one sentence about the sea."}]
INF = float("-inf")


def _model():
    return kit_model("generator", "AutoModelForCausalLM")


@functools.lru_cache(maxsize=1)
def _prompt_ids():
    return kit_tokenizer("generator").apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt",
                                                          return_dict=True)["input_ids"]


@functools.lru_cache(maxsize=1)
def _prompt_logits():
    with torch.no_grad():
        return _model()(_prompt_ids()).logits[0]


# ---------------------------------------------------------------- step 5: the filters


def filter_big_negative(logits, temperature=1.0, top_k=0, top_p=1.0):
    return filter_logits(logits, temperature, top_k, top_p).nan_to_num(neginf=-1e9)


def filter_no_return(logits, temperature=1.0, top_k=0, top_p=1.0):
    filter_logits(logits, temperature, top_k, top_p)


def filter_top_k_zero_breaks(logits, temperature=1.0, top_k=0, top_p=1.0):  # no guard for top_k=0
    logits = logits / temperature
    kth = torch.topk(logits, top_k).values[..., -1:]
    return filter_logits(logits.masked_fill(logits < kth, INF), top_p=top_p)


def filter_no_temperature(logits, temperature=1.0, top_k=0, top_p=1.0):
    return filter_logits(logits, 1.0, top_k, top_p)


WRONG_FILTERS = named([
    (filter_logits_zero_fill, "hold 0 instead of -inf"),
    (filter_logits_top_p_first, "divide by the temperature after"),
    (filter_big_negative, "large finite number"),
    (filter_no_return, "returned None"),
    (filter_top_k_zero_breaks, "top_k=0 means top-k is switched off"),
    (filter_no_temperature, "divided by the temperature"),
])


def filter_with_library(logits, temperature=1.0, top_k=0, top_p=1.0):  # transformers' own processors
    return library_filters(temperature, top_k, top_p)(None, logits.clone())


def filter_always_divides(logits, temperature=1.0, top_k=0, top_p=1.0):  # divides by 1.0 too
    return filter_logits(logits / temperature, 1.0, top_k, top_p)


test_filter_wrong, test_filter_right = answer_tests(
    lesson11.check_filter, WRONG_FILTERS, by_name([filter_logits, filter_with_library, filter_always_divides]),
    lambda answer: (answer, _prompt_logits()))


# ---------------------------------------------------------------- step 6: the loop


def loop_no_eos(model, ids, n, t, k, p, eos, pad):  # no EOS or padding handling at all
    return sample(model, ids, n, t, k, p)


def loop_no_final_stop(model, ids, n, t, k, p, eos, pad):  # pads finished rows but never stops early
    out = sample(model, ids, n, t, k, p, eos, pad)
    missing = ids.shape[1] + n - out.shape[1]
    return torch.cat([out, torch.full((out.shape[0], missing), pad)], dim=-1) if missing else out


def loop_reseeds(model, ids, n, t, k, p, eos, pad):
    torch.manual_seed(0)
    return sample(model, ids, n, t, k, p, eos, pad)


def loop_new_tokens_only(model, ids, n, t, k, p, eos, pad):
    return sample(model, ids, n, t, k, p, eos, pad)[:, ids.shape[1]:]


def loop_no_return(model, ids, n, t, k, p, eos, pad):
    sample(model, ids, n, t, k, p, eos, pad)


WRONG_LOOPS = {
    "no EOS": (loop_no_eos, "goes on sampling"),
    "zero-fill": (partial(sample, filters=filter_logits_zero_fill), "zero-fill"),
    "top-p first": (partial(sample, filters=filter_logits_top_p_first), "divide by the temperature after"),
    "stop on any": (sample_stop_on_any, "the whole batch stopped"),
    "pad with EOS": (sample_pad_with_eos, "generate gives them the pad token"),
    "no final stop": (loop_no_final_stop, "7 more: stop as soon as every row"),  # the last case of LOOP_CASES
    "reseeds": (loop_reseeds, "Do not reseed"),
    "new tokens only": (loop_new_tokens_only, "return the prompt followed by the new tokens"),
    "no return": (loop_no_return, "returned None"),
}


@torch.no_grad()
def loop_generate_style(model, input_ids, max_new_tokens, temperature, top_k, top_p, eos_token_id, pad_token_id):
    """Without the cache, generate's own 0/1 flags and padding formula."""
    unfinished = torch.ones(input_ids.shape[0], dtype=torch.long)
    for _ in range(max_new_tokens):
        logits = model(input_ids).logits[:, -1].float()
        probs = torch.softmax(filter_logits(logits, temperature, top_k, top_p), dim=-1)
        tokens = torch.multinomial(probs, num_samples=1).squeeze(1)
        tokens = tokens * unfinished + pad_token_id * (1 - unfinished)
        input_ids = torch.cat([input_ids, tokens[:, None]], dim=-1)
        unfinished = unfinished & (tokens != eos_token_id).long()
        if unfinished.max() == 0:
            break
    return input_ids


RIGHT_LOOPS = {
    "sample": sample,  # notebook 09's loop, with the cache
    "sample without cache": partial(sample, use_cache=False),
    "generate-style flags": loop_generate_style,
}
test_generation_wrong, test_generation_right = answer_tests(
    lesson11.check_generation, WRONG_LOOPS, RIGHT_LOOPS, lambda answer: (answer, _model(), _prompt_ids()))


def test_the_stopping_case_separates(kit):
    """The check's batch case really has rows that end early and a row that does not, with pad != EOS."""
    seed, t, k, p, n, which, n_new, pad = lesson11.LOOP_CASES[1]
    eos = kit_tokenizer("generator").eos_token_id
    batch = lesson11._prompt(which, _prompt_ids()).repeat(n, 1)
    torch.manual_seed(seed)
    out = _model().generate(batch, do_sample=True, temperature=t, top_k=k, top_p=p, max_new_tokens=n_new,
                            eos_token_id=eos, pad_token_id=pad)
    said_eos = (out[:, batch.shape[1]:] == eos).any(dim=-1)
    assert pad != eos and said_eos.any() and not said_eos.all()


def test_the_early_end_case_separates(kit):
    """The check's last case: every row says EOS, each at its own step, well before max_new_tokens, pad != EOS."""
    seed, t, k, p, n, which, n_new, pad = lesson11.LOOP_CASES[-1]
    eos = kit_tokenizer("generator").eos_token_id
    batch = lesson11._prompt(which, _prompt_ids()).repeat(n, 1)
    torch.manual_seed(seed)
    new = _model().generate(batch, do_sample=True, temperature=t, top_k=k, top_p=p, max_new_tokens=n_new,
                            eos_token_id=eos, pad_token_id=pad)[:, batch.shape[1]:]
    ends = [int((row == eos).nonzero()[0]) + 1 for row in new]  # raises if a row never says EOS
    assert pad != eos and len(set(ends)) == n and new.shape[1] == max(ends) <= n_new - 5, ends
