"""Notebook 05's exercise checks against plausible answers: each wrong one gets its own hint, each right one passes.

The checks compute their references from the kit encoder's real weights; tests/test_exercises.py round-trips the
notebook's starter and solution cells, this file the answers a learner is likely to write.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers import answer_tests
from helpers.checks import lesson05

NEG = torch.finfo(torch.float32).min


# ---------------------------------------------------------------- exercise 1: masked attention

def _keys(mask):
    return mask[:, None, None, :] == 0


def _scaled(q, k):
    return q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])


ATTENTION_WRONG = {
    "no scale": (lambda q, k, v, m: torch.softmax((q @ k.transpose(-1, -2)).masked_fill(_keys(m), NEG), -1) @ v,
                 "forgot the scale"),
    "scale by d": (lambda q, k, v, m: torch.softmax((q @ k.transpose(-1, -2) / q.shape[-1]).masked_fill(_keys(m), NEG),
                                                    -1) @ v, "divided the scores by d"),
    "mask with 0": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(_keys(m), 0.0), -1) @ v,
                    "score of 0, which is an ordinary score"),
    "mask multiplied in": (lambda q, k, v, m: torch.softmax(_scaled(q, k) * m[:, None, None, :], -1) @ v,
                           "score of 0, which is an ordinary score"),
    "no mask": (lambda q, k, v, m: torch.softmax(_scaled(q, k), -1) @ v, "mask is not applied"),
    "mask after softmax": (lambda q, k, v, m: (torch.softmax(_scaled(q, k), -1) * m[:, None, None, :]) @ v,
                           "no longer sum to 1"),
    "mask on queries": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(m[:, None, :, None] == 0, NEG),
                                                         -1) @ v, "masked the padded queries"),
    "softmax over queries": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(_keys(m), NEG), -2) @ v,
                             "softmax runs over the keys"),
    "probabilities returned": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(_keys(m), NEG), -1),
                               "return their weighted sum of the values"),
    "tuple returned": (lambda q, k, v, m: (torch.softmax(_scaled(q, k).masked_fill(_keys(m), NEG), -1) @ v, None),
                       "not a tuple"),
}

ATTENTION_RIGHT = {
    "-inf fill": lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(_keys(m), float("-inf")), -1) @ v,
    "additive finfo.min": lambda q, k, v, m: torch.softmax(_scaled(q, k) + (1.0 - m[:, None, None, :].float()) * NEG,
                                                           -1) @ v,
    "additive -1e9": lambda q, k, v, m: torch.softmax(_scaled(q, k) - 1e9 * (m[:, None, None, :] == 0), -1) @ v,
    "multiply by d ** -0.5": lambda q, k, v, m: torch.softmax(
        (q * q.shape[-1] ** -0.5 @ k.transpose(-1, -2)).masked_fill(_keys(m), NEG), -1) @ v,
    "torch sdpa": lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m.bool()[:, None, None, :]),
    "einsum": lambda q, k, v, m: torch.einsum("bhqk,bhkd->bhqd", torch.softmax(
        torch.einsum("bhqd,bhkd->bhqk", q, k).div(math.sqrt(q.shape[-1])).masked_fill(_keys(m), NEG), -1), v),
}


test_attention_wrong_answers_get_their_hint, test_attention_right_answers_pass = answer_tests(
    lesson05.check_attention, ATTENTION_WRONG, ATTENTION_RIGHT)


# ---------------------------------------------------------------- exercise 2: LayerNorm

def _mean(x):
    return x.mean(-1, keepdim=True)


LAYER_NORM_WRONG = {
    "torch.var (unbiased)": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(x.var(-1, keepdim=True) + e) * w + b,
                             "divide by n - 1 by default"),
    "torch.std (unbiased)": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(x.std(-1, keepdim=True) ** 2 + e) * w + b,
                             "divide by n - 1 by default"),
    "no weight and bias": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + e),
                           "multiply by weight and add bias"),
    "eps outside the root": (lambda x, w, b, e: (x - _mean(x)) / (x.std(-1, keepdim=True, unbiased=False) + e) * w + b,
                             "eps goes inside the square root"),
    "no eps": (lambda x, w, b, e: (x - _mean(x)) / x.std(-1, keepdim=True, unbiased=False) * w + b, "eps is missing"),
    "over the sequence": (lambda x, w, b, e: (x - x.mean(1, keepdim=True)) / torch.sqrt(
        x.var(1, keepdim=True, unbiased=False) + e) * w + b, "over the last axis"),
    "mean not subtracted": (lambda x, w, b, e: x / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + e) * w + b,
                            "subtract the mean"),
}

def _module_layer_norm(x, w, b, eps):
    norm = torch.nn.LayerNorm(x.shape[-1], eps=eps)
    with torch.no_grad():
        norm.weight.copy_(w)
        norm.bias.copy_(b)
        return norm(x)


LAYER_NORM_RIGHT = {
    "F.layer_norm": lambda x, w, b, e: F.layer_norm(x, (x.shape[-1],), w, b, e),
    "var unbiased=False": lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + e)
    * w + b,
    "var_mean correction=0": lambda x, w, b, e: (lambda v, m: (x - m) * torch.rsqrt(v + e) * w + b)(
        *torch.var_mean(x, dim=-1, keepdim=True, correction=0)),
    "mean of squares": lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(((x - _mean(x)) ** 2).mean(-1, keepdim=True) + e)
    * w + b,
    "nn.LayerNorm module": lambda x, w, b, e: _module_layer_norm(x, w, b, e),
}


test_layer_norm_wrong_answers_get_their_hint, test_layer_norm_right_answers_pass = answer_tests(
    lesson05.check_layer_norm, LAYER_NORM_WRONG, LAYER_NORM_RIGHT)


# ---------------------------------------------------------------- exercise 3: split heads

SPLIT_WRONG = {
    "reshape straight to (b, h, s, d)": (lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), "wrong order"),
    "no transpose": (lambda x, h: x.view(x.shape[0], x.shape[1], h, -1), "transpose(1, 2)"),
    "features dealt out one by one": (lambda x, h: x.view(x.shape[0], x.shape[1], -1, h).permute(0, 3, 1, 2),
                                      "one contiguous block"),
    "heads and sequence swapped wrongly": (lambda x, h: x.view(x.shape[0], x.shape[1], h, -1).permute(0, 2, 1, 3)
                                           .flip(2), "not where they belong"),
}

SPLIT_RIGHT = {
    "view + transpose": lambda x, h: x.view(x.shape[0], x.shape[1], h, -1).transpose(1, 2),
    "reshape + permute": lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h).permute(0, 2, 1, 3),
    "unflatten": lambda x, h: x.unflatten(-1, (h, -1)).transpose(1, 2),
    "stack of slices": lambda x, h: torch.stack(x.chunk(h, dim=-1), dim=1),
}


test_split_heads_wrong_answers_get_their_hint, test_split_heads_right_answers_pass = answer_tests(
    lesson05.check_split_heads, SPLIT_WRONG, SPLIT_RIGHT)
