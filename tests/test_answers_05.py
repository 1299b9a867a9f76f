"""Notebook 05's exercise checks against plausible answers: each wrong one gets its own hint, each right one passes.

The checks compute their references from the kit encoder's real weights; tests/test_exercises.py round-trips the
notebook's starter and solution cells, this file the answers a learner is likely to write. The last tests prove the
claims the hints make (a -1e9 fill gives exactly 0 after softmax; nan in a masked row spreads through weights @ v).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from answers import answer_tests, by_name
from helpers.checks import lesson05

NEG = torch.finfo(torch.float32).min


# ---------------------------------------------------------------- exercise 1: causal and padded attention

def _causal(m):  # (batch, 1, query, key): key j real and j <= query i
    s = m.shape[1]
    return torch.ones(s, s, dtype=torch.bool).tril() & (m[:, None, None, :] == 1)


def _scaled(q, k):
    return q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])


def _attend(q, k, v, allowed, fill=NEG, scale=True, dim=-1):
    scores = _scaled(q, k) if scale else q @ k.transpose(-1, -2)
    return torch.softmax(scores.masked_fill(~allowed, fill), dim=dim) @ v


def _ones(s, diagonal=0, upper=False):
    square = torch.ones(s, s, dtype=torch.bool)
    return square.triu(diagonal) if upper else square.tril(diagonal)


CAUSAL_WRONG = {
    "padding only": (lambda q, k, v, m: _attend(q, k, v, (m[:, None, None, :] == 1)), "also attends to the keys after"),
    "causal only": (lambda q, k, v, m: _attend(q, k, v, _ones(m.shape[1])), "queries attend to padded keys"),
    "triu": (lambda q, k, v, m: _attend(q, k, v, _ones(m.shape[1], upper=True) & (m[:, None, None, :] == 1)),
             "that is torch.triu"),
    "strict tril, finfo.min": (lambda q, k, v, m: _attend(q, k, v, _ones(m.shape[1], -1) & (m[:, None, None, :] == 1)),
                               "may attend to itself"),
    "strict tril, -inf": (lambda q, k, v, m: _attend(q, k, v, _ones(m.shape[1], -1) & (m[:, None, None, :] == 1),
                                                     fill=float("-inf")), "a real token's output is nan"),
    "| instead of &": (lambda q, k, v, m: _attend(q, k, v, _ones(m.shape[1]) | (m[:, None, None, :] == 1)),
                       "combine the two masks with &"),
    "lengths (right padding assumed)": (lambda q, k, v, m: _attend(q, k, v, _ones(m.shape[1]) & (
        torch.arange(m.shape[1]) < m.sum(1, keepdim=True))[:, None, None, :]), "not from the lengths"),
    "-inf fill": (lambda q, k, v, m: _attend(q, k, v, _causal(m), fill=float("-inf")), "0 * nan = nan"),
    "mask inverted": (lambda q, k, v, m: _attend(q, k, v, _ones(m.shape[1]) & (m[:, None, None, :] == 0),
                                                 fill=float("-inf")), "a real token's output is nan"),
    "no scale": (lambda q, k, v, m: _attend(q, k, v, _causal(m), scale=False), "forgot the scale"),
    "mask with 0": (lambda q, k, v, m: _attend(q, k, v, _causal(m), fill=0.0), "score of 0, which is an ordinary"),
    "mask multiplied in": (lambda q, k, v, m: torch.softmax(_scaled(q, k) * _causal(m), -1) @ v,
                           "score of 0, which is an ordinary"),
    "softmax over queries": (lambda q, k, v, m: _attend(q, k, v, _causal(m), dim=-2), "softmax runs over the keys"),
    "weights returned": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(~_causal(m), NEG), -1),
                         "return their weighted sum"),
    "tuple returned": (lambda q, k, v, m: (_attend(q, k, v, _causal(m)), None), "not a tuple"),
    "q @ k.T on 4-D tensors": (lambda q, k, v, m: torch.softmax((q @ k.T / 8).masked_fill(~_causal(m), NEG), -1) @ v,
                               "k.T reverses all four"),
    "k.transpose(1, 2)": (lambda q, k, v, m: torch.softmax((q @ k.transpose(1, 2)).masked_fill(~_causal(m), NEG), -1)
                          @ v, "Swap the last two axes only"),
    "v @ weights": (lambda q, k, v, m: v @ torch.softmax(_scaled(q, k).masked_fill(~_causal(m), NEG), -1),
                    "not v @ weights"),
    "weights @ v.T": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(~_causal(m), NEG), -1)
                      @ v.transpose(-1, -2), "with no transpose"),
    "padding mask without new axes": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(
        ~_ones(m.shape[1]), NEG).masked_fill(m == 0, NEG), -1) @ v, "does not line up with the scores"),
    "(batch, query, key) mask, no heads axis": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(
        ~(_ones(m.shape[1]) & (m[:, None, :] == 1)), NEG), -1) @ v, "does not line up with the scores"),
    "integer mask in masked_fill": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(
        1 - m[:, None, None, :], NEG), -1) @ v, "masked_fill needs a True/False mask"),
    "float tril & bool": (lambda q, k, v, m: torch.softmax(_scaled(q, k).masked_fill(
        ~(torch.ones(m.shape[1], m.shape[1]).tril() & m.bool()[:, None, None, :]), NEG), -1) @ v,
        "& combines True/False tensors"),
    "not written": (lambda q, k, v, m: (_ for _ in ()).throw(NotImplementedError), "not written yet"),
}


def causal_finfo_min(q, k, v, m):
    return _attend(q, k, v, _causal(m))


def causal_minus_1e9(q, k, v, m):  # a large finite fill: exactly the same numbers as finfo.min (test below)
    return _attend(q, k, v, _causal(m), fill=-1e9)


def causal_additive(q, k, v, m):
    return torch.softmax(_scaled(q, k) + (~_causal(m)).float() * NEG, -1) @ v


def causal_sdpa(q, k, v, m):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=_causal(m))


def causal_minus_inf_then_zero_rows(q, k, v, m):  # -inf, and the rows with no allowed key set to 0 (as sdpa does)
    return torch.nan_to_num(_attend(q, k, v, _causal(m), fill=float("-inf")), nan=0.0)


def causal_einsum_where(q, k, v, m):
    scores = torch.einsum("bhqd,bhkd->bhqk", q, k) * q.shape[-1] ** -0.5
    allowed = torch.tril(torch.ones(m.shape[1], m.shape[1])).bool()[None, None] & m.bool()[:, None, None, :]
    return torch.einsum("bhqk,bhkd->bhqd", torch.where(allowed, scores, NEG).softmax(-1), v)


def causal_triu_complement(q, k, v, m):  # the future as triu(1), then the padding on the keys
    s = m.shape[1]
    future = torch.ones(s, s, dtype=torch.bool).triu(1)
    return torch.softmax(_scaled(q, k).masked_fill(future, NEG).masked_fill(m[:, None, None, :] == 0, NEG), -1) @ v


CAUSAL_RIGHT = by_name([causal_finfo_min, causal_minus_1e9, causal_additive, causal_sdpa,
                        causal_minus_inf_then_zero_rows, causal_einsum_where, causal_triu_complement])

test_causal_attention_wrong_answers_get_their_hint, test_causal_attention_right_answers_pass = answer_tests(
    lesson05.check_causal_attention, CAUSAL_WRONG, CAUSAL_RIGHT)


# ---------------------------------------------------------------- exercise 2: the numbers in one layer

def _sizes(c):
    return c["hidden_size"], c["intermediate_size"]


def count_by_parts(c):
    h, i = _sizes(c)
    return 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * (2 * h)


def count_as_float(c):
    h, i = _sizes(c)
    return float(4 * h * h + 2 * h * i + 9 * h + i)


def count_numpy(c):
    import numpy as np

    h, i = _sizes(c)
    shapes = [(h, h), (h,)] * 4 + [(h,), (h,)] + [(i, h), (i,), (h, i), (h,)] + [(h,), (h,)]
    return np.int64(sum(int(np.prod(s)) for s in shapes))


def count_modules(c):
    h, i = _sizes(c)
    linear = [torch.nn.Linear(h, h, device="meta") for _ in range(4)] + [
        torch.nn.Linear(h, i, device="meta"), torch.nn.Linear(i, h, device="meta")]
    norms = [torch.nn.LayerNorm(h, device="meta") for _ in range(2)]
    return sum(p.numel() for m in linear + norms for p in m.parameters())


def count_tensor(c):
    return torch.tensor(count_by_parts(c))


def _h(c):
    return c["hidden_size"]


def _i(c):
    return c["intermediate_size"]


COUNT_WRONG = {
    "weight matrices only": (lambda c: 4 * _h(c) ** 2 + 2 * _h(c) * _i(c), "the weight matrices only"),
    "no biases": (lambda c: 4 * _h(c) ** 2 + 2 * _h(c) * _i(c) + 4 * _h(c), "biases are missing"),
    "no LayerNorms": (lambda c: count_by_parts(c) - 4 * _h(c), "the two LayerNorms are missing"),
    "one LayerNorm": (lambda c: count_by_parts(c) - 2 * _h(c), "one LayerNorm short"),
    "no output projection": (lambda c: count_by_parts(c) - _h(c) ** 2 - _h(c), "four hidden x hidden projections"),
    "intermediate = 4 x hidden": (lambda c: count_by_parts(dict(c, intermediate_size=4 * _h(c))),
                                  "intermediate_size = 4 x hidden_size"),
    "matrices per head": (lambda c: count_by_parts(c) + (c["num_attention_heads"] - 1) * 4 * (_h(c) ** 2 + _h(c)),
                          "do not have matrices of their own"),
    "the whole body": (lambda c: c["num_hidden_layers"] * count_by_parts(c), "all num_hidden_layers layers"),
    "a bias too many": (lambda c: count_by_parts(c) + _i(c), "off by +"),
    "a string": (lambda c: f"{count_by_parts(c):,}", "should be an int"),
    "not returned": (lambda c: None, "did you forget `return`"),
    "reads a missing key": (lambda c: c["ffn_dim"], "raised KeyError"),
}

COUNT_RIGHT = by_name([count_by_parts, count_as_float, count_numpy, count_modules, count_tensor])

test_layer_parameters_wrong_answers_get_their_hint, test_layer_parameters_right_answers_pass = answer_tests(
    lesson05.check_layer_parameters, COUNT_WRONG, COUNT_RIGHT)


# ---------------------------------------------------------------- exercise 3: LayerNorm

def _mean(x):
    return x.mean(-1, keepdim=True)


def _var(x):
    return x.var(-1, keepdim=True, unbiased=False)


LAYER_NORM_WRONG = {
    "torch.var (unbiased)": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(x.var(-1, keepdim=True) + e) * w + b,
                             "divide by n - 1 by default"),
    "torch.std (unbiased)": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(x.std(-1, keepdim=True) ** 2 + e) * w + b,
                             "divide by n - 1 by default"),
    "no weight and bias": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(_var(x) + e), "multiply by weight and add"),
    "eps outside the root": (lambda x, w, b, e: (x - _mean(x)) / (x.std(-1, keepdim=True, unbiased=False) + e) * w + b,
                             "eps goes inside the square root"),
    "no eps": (lambda x, w, b, e: (x - _mean(x)) / x.std(-1, keepdim=True, unbiased=False) * w + b, "eps is missing"),
    "over the sequence": (lambda x, w, b, e: (x - x.mean(1, keepdim=True)) / torch.sqrt(
        x.var(1, keepdim=True, unbiased=False) + e) * w + b, "over the last axis"),
    "mean not subtracted": (lambda x, w, b, e: x / torch.sqrt(_var(x) + e) * w + b, "subtract the mean"),
    "variance, not its root": (lambda x, w, b, e: (x - _mean(x)) / (_var(x) + e) * w + b, "not by the variance"),
    "weight and bias swapped": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(_var(x) + e) * b + w,
                                "not * bias + weight"),
    "mean without keepdim": (lambda x, w, b, e: (x - x.mean(-1)) / torch.sqrt(_var(x) + e) * w + b,
                             "keepdim=True"),
    "var without keepdim": (lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(x.var(-1, unbiased=False) + e) * w + b,
                            "keepdim=True"),
}


def _module_layer_norm(x, w, b, eps):
    norm = torch.nn.LayerNorm(x.shape[-1], eps=eps)
    with torch.no_grad():
        norm.weight.copy_(w)
        norm.bias.copy_(b)
        return norm(x)


def _in_place(x, w, b, eps):  # changes its own copy of x: the check passes clones
    return x.sub_(_mean(x)).div_(torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps)).mul_(w).add_(b)


LAYER_NORM_RIGHT = {
    "F.layer_norm": lambda x, w, b, e: F.layer_norm(x, (x.shape[-1],), w, b, e),
    "var unbiased=False": lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(_var(x) + e) * w + b,
    "var_mean correction=0": lambda x, w, b, e: (lambda v, m: (x - m) * torch.rsqrt(v + e) * w + b)(
        *torch.var_mean(x, dim=-1, keepdim=True, correction=0)),
    "mean of squares": lambda x, w, b, e: (x - _mean(x)) / torch.sqrt(((x - _mean(x)) ** 2).mean(-1, keepdim=True) + e)
    * w + b,
    "nn.LayerNorm module": _module_layer_norm,
    "in place": _in_place,
}

test_layer_norm_wrong_answers_get_their_hint, test_layer_norm_right_answers_pass = answer_tests(
    lesson05.check_layer_norm, LAYER_NORM_WRONG, LAYER_NORM_RIGHT)


# ---------------------------------------------------------------- the claims the hints make, proved


@pytest.mark.usefixtures("kit")
def test_a_minus_1e9_fill_gives_exactly_0_after_softmax():
    """In float32, exp(-1e9 - max) underflows to exactly 0: the -1e9 fill gives the very numbers of finfo.min and
    -inf (so the attention check accepts it), and core's hint for a large finite fill must not say "almost 0"."""
    import inspect

    from helpers.checks import core

    for side in ("right", "left"):
        (q, k, _), m = lesson05._layer0(side)["qkv"], lesson05._layer0(side)["mask"]
        scores = _scaled(q, k)
        by_fill = {fill: torch.softmax(scores.masked_fill(~_causal(m), fill), -1) for fill in (-1e9, NEG, -1e4)}
        assert torch.equal(by_fill[-1e9], by_fill[NEG]) and torch.equal(by_fill[-1e4], by_fill[NEG])
        assert (by_fill[-1e9][~_causal(m).expand_as(scores) & (m[:, None, :, None] == 1)] == 0).all()
    assert torch.softmax(torch.tensor([5.0, -1e9]), -1)[1].item() == 0.0
    assert torch.exp(torch.tensor(-104.0)).item() == 0.0 < torch.exp(torch.tensor(-103.0)).item()  # the hint's bound
    source = inspect.getsource(core.expect_neg_inf)
    assert "almost 0" not in source and "exactly 0" in source


def test_nan_in_a_masked_row_spreads_through_weights_at_v():
    """The left-padding hint's claim: a key with weight exactly 0 still turns every output nan if its value is nan."""
    weights = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    values = torch.tensor([[1.0, 2.0], [3.0, 4.0], [float("nan"), float("nan")]])
    assert torch.isnan(weights @ values).all()
    assert torch.isnan(torch.softmax(torch.full((3,), float("-inf")), -1)).all()  # a row with no allowed key
    assert torch.isfinite(torch.softmax(torch.full((3,), NEG), -1)).all()  # finfo.min: a finite (uniform) row


@pytest.mark.usefixtures("kit")
def test_a_mistake_is_injected_without_a_parameter():
    """Issue 23: the lesson's functions take no test hooks; a negative control swaps a module-level name for the
    length of a ``with`` block (as notebook 05 does in its own namespace), and the right one is back after it."""
    from unittest import mock

    import helpers.lessons.encoder_by_hand as lesson

    weights, config = lesson05._weights()
    data = lesson05._layer0()
    mask, x = data["mask"], data["x"]

    def no_scale(q, k, attention_mask):
        return (q @ k.transpose(-1, -2)).masked_fill(attention_mask[:, None, None, :] == 0, NEG)

    with torch.no_grad():
        right, _ = lesson.encoder_layer(x, mask, weights, config, "encoder.layer.0.")
        with mock.patch.object(lesson, "attention_scores", no_scale):
            wrong, _ = lesson.encoder_layer(x, mask, weights, config, "encoder.layer.0.")
        again, _ = lesson.encoder_layer(x, mask, weights, config, "encoder.layer.0.")
    assert (wrong - right).abs().max() > 0.1 and torch.equal(again, right)
