"""Notebook 09's exercise checks against plausible wrong answers (each gets its own hint) and right ones (each passes).

The filter checks take the generator's real logits at every position of the notebook's LEAK_TEXT, as the notebook
passes them (``text_logits``).
"""

from __future__ import annotations

import functools

import torch
from transformers.generation.logits_process import MinPLogitsWarper, TopKLogitsWarper

from answers import answer_tests, by_name, named, printed
from helpers.checks import HINT, lesson09
from helpers.checks.core import kit_model, kit_tokenizer

LEAK_TEXT = "The capital of France is Paris. It is known for the Eiffel Tower, good food and long walks by the river."
INF = float("-inf")


@functools.lru_cache(maxsize=1)
def _text_logits():
    tokenizer, model = kit_tokenizer("generator"), kit_model("generator", "AutoModelForCausalLM")
    with torch.no_grad():
        return model(tokenizer(LEAK_TEXT, return_tensors="pt").input_ids).logits[0]


def _with_logits(answer):  # the filter checks' arguments, as the notebook passes them
    return answer, _text_logits()


# ---------------------------------------------------------------- exercise 1: top-k


def topk_zero_fill(logits, k):  # the seed's
    values, idx = logits.topk(k, dim=-1)
    return torch.zeros_like(logits).scatter_(-1, idx, values)


def topk_big_negative(logits, k):
    values, idx = logits.topk(k, dim=-1)
    return torch.full_like(logits, -1e9).scatter_(-1, idx, values)


def topk_no_return(logits, k):
    values, idx = logits.topk(k, dim=-1)
    torch.full_like(logits, INF).scatter_(-1, idx, values)


def topk_strict_threshold(logits, k):  # removes the k-th itself
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits <= kth, INF)


def topk_probabilities(logits, k):  # returns softmax of the kept logits
    values, idx = logits.topk(k, dim=-1)
    return torch.softmax(torch.full_like(logits, INF).scatter_(-1, idx, values), dim=-1)


def topk_plus_inf(logits, k):
    values, idx = logits.topk(k, dim=-1)
    return torch.full_like(logits, float("inf")).scatter_(-1, idx, values)


def topk_whole_batch(logits, k):  # one threshold for the whole batch instead of one per row
    return logits.masked_fill(logits < logits.flatten().topk(k).values[-1], INF)




def topk_rows_dim0(logits, k):  # topk down the columns: only 8 rows there
    values, idx = logits.topk(k, dim=0)
    return torch.full_like(logits, INF).scatter_(0, idx, values)


def topk_no_keepdim(logits, k):  # the k-th largest without its last axis
    return logits.masked_fill(logits < logits.topk(k, dim=-1).values[..., -1], INF)


def topk_k_minus_one(logits, k):
    values, idx = logits.topk(k - 1 if k > 1 else 1, dim=-1)
    return torch.full_like(logits, INF).scatter_(-1, idx, values)


def topk_best_as_threshold(logits, k):  # values[..., :1] is the best, not the k-th
    return logits.masked_fill(logits < logits.topk(k, dim=-1).values[..., :1], INF)


def topk_smallest(logits, k):  # largest=False: the k least likely
    values, idx = logits.topk(k, dim=-1, largest=False)
    return torch.full_like(logits, INF).scatter_(-1, idx, values)


def topk_scatter(logits, k):  # the reference solution
    values, idx = logits.topk(k, dim=-1)
    return torch.full_like(logits, INF).scatter_(-1, idx, values)


def topk_threshold(logits, k):  # transformers' way: below the k-th largest
    return logits.masked_fill(logits < logits.topk(k, dim=-1).values[..., -1:], INF)


def topk_where(logits, k):
    return torch.where(logits >= logits.topk(k, dim=-1).values[..., -1:], logits, torch.tensor(INF))


def topk_bool_mask(logits, k):
    drop = torch.ones_like(logits, dtype=torch.bool).scatter_(-1, logits.topk(k, dim=-1).indices, False)
    return logits.masked_fill(drop, INF)


def topk_library(logits, k):  # transformers' own processor
    return TopKLogitsWarper(top_k=k)(None, logits)


WRONG_TOP_K_FILTER = named([
    (topk_zero_fill, "hold 0 instead of -inf"),
    (topk_big_negative, "large finite number"),
    (topk_no_return, "returned None"),
    (topk_strict_threshold, "keeps 49 tokens; top-50 keeps 50"),
    (topk_probabilities, "looks like probabilities"),
    (topk_plus_inf, "+inf"),
    (topk_whole_batch, "Work along the last dimension"),
    (topk_rows_dim0, "topk(k, dim=-1)"),
    (topk_no_keepdim, "keepdim=True"),
    (topk_k_minus_one, "The k-th largest logit itself must stay"),
    (topk_best_as_threshold, "not values[..., :1]"),
    (topk_smallest, "keep the highest logits"),
    (None, "should be a function"),
])
test_top_k_filter_wrong, test_top_k_filter_right = answer_tests(
    lesson09.check_top_k_filter, WRONG_TOP_K_FILTER,
    by_name([topk_scatter, topk_threshold, topk_where, topk_bool_mask, topk_library]), _with_logits)


def test_top_k_filter_asks_for_the_logits(kit, capsys):
    out = printed(capsys, lesson09.check_top_k_filter, topk_scatter)
    assert out.startswith(HINT) and "pass the real logits" in out


# ---------------------------------------------------------------- exercise 2: min-p


def minp(logits, min_p):  # the reference solution
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), INF)


def minp_log_space(logits, min_p):
    logp = torch.log_softmax(logits, dim=-1)
    return logits.masked_fill(logp < logp.amax(dim=-1, keepdim=True) + torch.log(torch.tensor(min_p)), INF)


def minp_where(logits, min_p):
    probs = torch.softmax(logits, dim=-1)
    return torch.where(probs >= min_p * probs.max(dim=-1, keepdim=True).values, logits, torch.tensor(INF))


def minp_library(logits, min_p):  # transformers' own processor
    return MinPLogitsWarper(min_p=min_p)(None, logits)


def minp_ratio(logits, min_p):  # each probability relative to the row's top one
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs / probs.amax(dim=-1, keepdim=True) < min_p, INF)


def minp_logit_gap(logits, min_p):  # log p - log p_max = logit - top logit: no softmax needed
    return logits.masked_fill(logits - logits.amax(dim=-1, keepdim=True) < torch.log(torch.tensor(min_p)), INF)




def minp_absolute(logits, min_p):  # threshold min_p itself, not min_p x the top probability
    return logits.masked_fill(torch.softmax(logits, dim=-1) < min_p, INF)


def minp_on_logits(logits, min_p):  # compares logits, not probabilities
    return logits.masked_fill(logits < min_p * logits.amax(dim=-1, keepdim=True), INF)


def minp_zero_fill(logits, min_p):
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), 0.0)


def minp_big_negative(logits, min_p):
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), -1e9)


def minp_inverted(logits, min_p):  # removes the likely tokens and keeps the tail
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs >= min_p * probs.amax(dim=-1, keepdim=True), INF)


def minp_no_return(logits, min_p):
    probs = torch.softmax(logits, dim=-1)
    logits.masked_fill_(probs < min_p * probs.amax(dim=-1, keepdim=True), INF)


def minp_below_or_equal(logits, min_p):  # `<=`: removes a token tied with the threshold (the top one at min_p = 1)
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs <= min_p * probs.amax(dim=-1, keepdim=True), INF)


def minp_temperature_again(logits, min_p):  # divides by the temperature although the logits already are
    probs = torch.softmax(logits / 0.7, dim=-1)
    return logits.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), INF)


def minp_before_temperature(logits, min_p):  # undoes the temperature: min-p on the untempered probabilities
    probs = torch.softmax(logits * 0.7, dim=-1)
    return logits.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), INF)


def minp_columns(logits, min_p):  # softmax and max over dim=0, the positions
    probs = torch.softmax(logits, dim=0)
    return logits.masked_fill(probs < min_p * probs.amax(dim=0, keepdim=True), INF)


def minp_no_keepdim(logits, min_p):
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs < min_p * probs.amax(dim=-1), INF)


def minp_log_probs(logits, min_p):  # returns log-probabilities instead of the logits
    logp = torch.log_softmax(logits, dim=-1)
    return logp.masked_fill(logp < logp.amax(dim=-1, keepdim=True) + torch.log(torch.tensor(min_p)), INF)


def minp_probabilities(logits, min_p):  # returns the renormalised probabilities
    probs = torch.softmax(logits, dim=-1)
    kept = probs.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), 0.0)
    return kept / kept.sum(dim=-1, keepdim=True)


def minp_global_max(logits, min_p):  # the top probability of the whole batch, not of each row
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs < min_p * probs.max(), INF)


WRONG_MIN_P_FILTER = named([
    (minp_absolute, "TOP token's probability"),
    (minp_on_logits, "compared with probabilities"),
    (minp_zero_fill, "hold 0 instead of -inf"),
    (minp_big_negative, "large finite number"),
    (minp_inverted, "removes the most likely token"),
    (minp_no_return, "returned None"),
    (minp_global_max, "TOP token's probability of the row"),
    (minp_below_or_equal, "EQUALS the threshold (`<=`)"),
    (minp_temperature_again, "already divided by the temperature"),
    (minp_before_temperature, "already divided by the temperature"),
    (minp_columns, "last dimension (dim=-1)"),
    (minp_no_keepdim, "keepdim=True"),
    (minp_log_probs, "returns log-probabilities"),
    (minp_probabilities, "looks like probabilities"),
])
test_min_p_filter_wrong, test_min_p_filter_right = answer_tests(
    lesson09.check_min_p_filter, WRONG_MIN_P_FILTER,
    by_name([minp, minp_log_space, minp_where, minp_library, minp_ratio, minp_logit_gap]), _with_logits)


# ---------------------------------------------------------------- exercise 3: stopping a batch


def update_seed(next_tokens, finished, stop_ids, pad_id):  # the starter: the seed's test
    if next_tokens == stop_ids[0]:
        finished = torch.ones_like(finished)
    return next_tokens, finished


def update_no_pad(next_tokens, finished, stop_ids, pad_id):
    return next_tokens, finished | torch.isin(next_tokens, torch.tensor(stop_ids))


def update_first_stop_only(next_tokens, finished, stop_ids, pad_id):
    tokens = torch.where(finished, pad_id, next_tokens)
    return tokens, finished | (tokens == stop_ids[0])


def update_forgets(next_tokens, finished, stop_ids, pad_id):  # finished only while the row repeats a stop token
    tokens = torch.where(finished, pad_id, next_tokens)
    return tokens, torch.isin(tokens, torch.tensor(stop_ids))


def update_pads_with_stop(next_tokens, finished, stop_ids, pad_id):
    tokens = torch.where(finished, stop_ids[0], next_tokens)
    return tokens, finished | torch.isin(tokens, torch.tensor(stop_ids))


def update_no_return(next_tokens, finished, stop_ids, pad_id):
    finished |= torch.isin(next_tokens, torch.tensor(stop_ids))


def update_list(next_tokens, finished, stop_ids, pad_id):
    tokens = torch.where(finished, pad_id, next_tokens)
    return [tokens, finished | torch.isin(tokens, torch.tensor(stop_ids))]


def update_int_flags(next_tokens, finished, stop_ids, pad_id):  # HF-style 0/1 flags, returned as ints
    tokens = torch.where(finished, pad_id, next_tokens)
    return tokens, (finished | torch.isin(tokens, torch.tensor(stop_ids))).long()




def update_where(next_tokens, finished, stop_ids, pad_id):  # the reference solution
    tokens = torch.where(finished, pad_id, next_tokens)
    return tokens, finished | torch.isin(tokens, torch.tensor(stop_ids))


def update_masked_fill(next_tokens, finished, stop_ids, pad_id):
    tokens = next_tokens.masked_fill(finished, pad_id)
    hit = torch.zeros_like(finished)
    for stop in stop_ids:
        hit |= tokens == stop
    return tokens, finished | hit


def update_arithmetic(next_tokens, finished, stop_ids, pad_id):  # generate's own formula
    unfinished = (~finished).long()
    tokens = next_tokens * unfinished + pad_id * (1 - unfinished)
    return tokens, torch.logical_or(finished, torch.isin(tokens, torch.tensor(stop_ids)))


WRONG_UPDATE_FINISHED = named([
    (update_seed, "ONE truth value of a whole batch"),
    (update_no_pad, "gets the pad token"),
    (update_first_stop_only, "Any id in stop_ids stops a row"),
    (update_forgets, "once finished, always finished"),
    (update_pads_with_stop, "gets the pad token"),
    (update_no_return, "returned None"),
    (update_list, "should return two things"),
    (update_int_flags, "should be a bool tensor"),
])
test_update_finished_wrong, test_update_finished_right = answer_tests(
    lesson09.check_update_finished, WRONG_UPDATE_FINISHED,
    by_name([update_where, update_masked_fill, update_arithmetic]))
