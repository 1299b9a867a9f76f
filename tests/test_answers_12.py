"""Notebook 12's checks against plausible wrong answers and right alternatives.

The 4-bit quantiser gets the slips of a learner new to Q4_1: absmax instead of min/max, floor instead of round,
groups along the wrong axis, the scale divided by 16 (with and without the clamp to 0..15), d and m swapped, q left in
the groups' shape. The bytes-per-token formula gets: bits not divided by 8, the tied table counted twice, the untied
output layer forgotten, no table at all, key/value projections with the query's heads, two MLP matrices, no norms.
Each must get its own hint; the right alternatives (torch, numpy, unfold, the parameters of a meta-device model) pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from answers import answer_tests, by_name, named
from helpers.checks import lesson12
from helpers.models import checkpoint


# ---------------------------------------------------------------- exercise 1: 4 bits per group of 32


def _groups(w):
    return w.reshape(w.shape[0], -1, 32)


def reference(w):
    g = _groups(w)
    m = g.amin(dim=-1)
    d = (g.amax(dim=-1) - m) / 15
    q = torch.round((g - m[..., None]) / d[..., None]).clamp(0, 15)
    return q.reshape(w.shape), d, m


def numpy_version(w):
    g = np.asarray(w).reshape(w.shape[0], -1, 32)
    m, d = g.min(-1), (g.max(-1) - g.min(-1)) / 15
    q = np.clip(np.rint((g - m[..., None]) / d[..., None]), 0, 15).astype(np.uint8)
    return q.reshape(w.shape), d, m


def unfold_version(w):
    g = w.unfold(1, 32, 32)  # (rows, cols // 32, 32), the same groups
    m, top = g.min(dim=-1).values, g.max(dim=-1).values
    d = (top - m) / 15
    q = ((g - m.unsqueeze(-1)) / d.unsqueeze(-1)).round().clamp(0, 15).to(torch.uint8)
    return q.flatten(1), d, m


def absmax(w):
    g = _groups(w)
    a = g.abs().amax(-1)
    d, m = 2 * a / 15, -a
    return torch.round((g - m[..., None]) / d[..., None]).clamp(0, 15).reshape(w.shape), d, m


def floor(w):
    g = _groups(w)
    m = g.amin(-1)
    d = (g.amax(-1) - m) / 15
    return torch.floor((g - m[..., None]) / d[..., None]).clamp(0, 15).reshape(w.shape), d, m


def wrong_axis(w):
    q, d, m = reference(w.T.contiguous())  # groups of 32 rows in a column
    return q.T, d.T, m.T


def wrong_axis_same_shape(w):
    q, d, m = reference(w.T.contiguous())
    return q.T, d.reshape(w.shape[0], -1), m.reshape(w.shape[0], -1)


def by_16_no_clamp(w):
    g = _groups(w)
    m = g.amin(-1)
    d = (g.amax(-1) - m) / 16
    return torch.round((g - m[..., None]) / d[..., None]).reshape(w.shape), d, m


def by_16_clamped(w):
    q, d, m = by_16_no_clamp(w)
    return q.clamp(0, 15), d, m


def swapped(w):
    q, d, m = reference(w)
    return q, m, d


def groups_shape(w):
    q, d, m = reference(w)
    return _groups(q), d, m


def no_round(w):
    g = _groups(w)
    m = g.amin(-1)
    d = (g.amax(-1) - m) / 15
    return ((g - m[..., None]) / d[..., None]).reshape(w.shape), d, m


def two_things(w):
    return reference(w)[:2]


WRONG_Q4 = named([
    (absmax, "absmax"),
    (floor, "rounded down"),
    (wrong_axis, "wrong axis"),
    (wrong_axis_same_shape, "wrong axis"),
    (by_16_no_clamp, "Clamp q to 0..15"),
    (by_16_clamped, "15 STEPS"),
    (swapped, "swapped"),
    (groups_shape, "reshape it back"),
    (no_round, "whole numbers"),
    (two_things, "return three things"),
])
RIGHT_Q4 = by_name([reference, numpy_version, unfold_version])

test_wrong_quantize_q4, test_right_quantize_q4 = answer_tests(lesson12.check_quantize_q4, WRONG_Q4, RIGHT_Q4,
                                                              kit=False)


# ---------------------------------------------------------------- exercise 2: bytes per token


def _config():
    return json.loads((Path(checkpoint("generator")) / "config.json").read_text())


def bytes_right(config, bits):
    h, n = config["hidden_size"], config["num_hidden_layers"]
    q_out = config["num_attention_heads"] * config["head_dim"]
    kv_out = config["num_key_value_heads"] * config["head_dim"]
    per_layer = h * q_out + 2 * h * kv_out + q_out * h + 3 * h * config["intermediate_size"] + 2 * h
    tables = 1 if config["tie_word_embeddings"] else 2
    return (config["vocab_size"] * h * tables + n * per_layer + h) * bits / 8


def bytes_meta_model(config, bits):
    from transformers import LlamaConfig, LlamaForCausalLM

    with torch.device("meta"):
        model = LlamaForCausalLM(LlamaConfig(**config))
    return sum(p.numel() for p in model.parameters()) * bits // 8


def _variant(**changes):
    def answer(config, bits):
        c = dict(config)
        scale = changes.get("scale", 1)
        extra = 0
        if changes.get("tied_twice") and c["tie_word_embeddings"]:
            extra += c["vocab_size"] * c["hidden_size"] * bits / 8
        if changes.get("untied_once") and not c["tie_word_embeddings"]:
            extra -= c["vocab_size"] * c["hidden_size"] * bits / 8
        if changes.get("no_table"):
            extra -= c["vocab_size"] * c["hidden_size"] * bits / 8 * (1 if c["tie_word_embeddings"] else 2)
        if changes.get("kv_full"):
            c["num_key_value_heads"] = c["num_attention_heads"]
        if changes.get("two_mlp"):
            extra -= c["num_hidden_layers"] * c["hidden_size"] * c["intermediate_size"] * bits / 8
        if changes.get("no_norms"):
            extra -= (2 * c["num_hidden_layers"] + 1) * c["hidden_size"] * bits / 8
        return bytes_right(c, bits) * scale + extra
    return answer


WRONG_BYTES = {
    "bits": (_variant(scale=8), "divide by 8"),
    "tied twice": (_variant(tied_twice=True), "read it once"),
    "untied once": (_variant(untied_once=True), "count both"),
    "no table": (_variant(no_table=True), "embedding table"),
    "kv full": (_variant(kv_full=True), "num_key_value_heads"),
    "two mlp": (_variant(two_mlp=True), "THREE matrices"),
    "no norms": (_variant(no_norms=True), "the norms are weights"),
    "a constant": (lambda config, bits: 538_060_032, "LlamaForCausalLM has"),
    "a string": (lambda config, bits: "538 MB", "return a number"),
}
RIGHT_BYTES = {"formula": bytes_right, "meta model": bytes_meta_model,
               "int": lambda config, bits: int(round(bytes_right(config, bits)))}

test_wrong_bytes_per_token, test_right_bytes_per_token = answer_tests(
    lesson12.check_bytes_per_token, WRONG_BYTES, RIGHT_BYTES, arguments=lambda answer: (answer, _config()))


# ---------------------------------------------------------------- exercise 3: the 4-bit kernel's weights


def _spread(t):  # (cols // 32, rows) -> (rows, cols): one value per weight
    return t.float().T.repeat_interleave(32, dim=1)


def int4_reference(q, scale_zero):
    return (q.float() - 8) * _spread(scale_zero[..., 0]) + _spread(scale_zero[..., 1])


def int4_grouped(q, scale_zero):
    g = q.float().reshape(q.shape[0], -1, 32)  # (rows, cols // 32, 32)
    scale, zero = scale_zero.float().transpose(0, 1).unbind(-1)  # each (rows, cols // 32)
    return ((g - 8) * scale[..., None] + zero[..., None]).reshape(q.shape)


def int4_numpy(q, scale_zero):
    sz = scale_zero.float().numpy().transpose(1, 0, 2)  # (rows, cols // 32, 2)
    g = q.numpy().astype(np.int16).reshape(q.shape[0], -1, 32) - 8
    return (g * sz[..., :1] + sz[..., 1:]).reshape(q.shape)


def int4_in_bfloat16(q, scale_zero):  # the arithmetic in bfloat16, as the kernel's inputs are
    s, z = (scale_zero[..., i].T.repeat_interleave(32, dim=1) for i in (0, 1))
    return (q.to(torch.bfloat16) - 8) * s + z


def int4_no_minus_8(q, scale_zero):
    return q.float() * _spread(scale_zero[..., 0]) + _spread(scale_zero[..., 1])


def int4_uint8_wraps(q, scale_zero):
    return (q - 8) * _spread(scale_zero[..., 0]) + _spread(scale_zero[..., 1])


def int4_minus_8_after(q, scale_zero):
    return q.float() * _spread(scale_zero[..., 0]) - 8 + _spread(scale_zero[..., 1])


def int4_swapped(q, scale_zero):
    return (q.float() - 8) * _spread(scale_zero[..., 1]) + _spread(scale_zero[..., 0])


def int4_tiled(q, scale_zero):
    s, z = (scale_zero[..., i].float().T.repeat(1, 32) for i in (0, 1))
    return (q.float() - 8) * s + z


def int4_reshaped(q, scale_zero):
    s, z = (scale_zero[..., i].float().reshape(q.shape[0], -1).repeat_interleave(32, dim=1) for i in (0, 1))
    return (q.float() - 8) * s + z


def int4_not_transposed(q, scale_zero):
    s, z = (scale_zero[..., i].float().repeat_interleave(32, dim=1) for i in (0, 1))  # (cols // 32, rows * 32)
    return (q.float() - 8) * s + z


def int4_transposed_result(q, scale_zero):
    return int4_reference(q, scale_zero).T


def int4_groups_shape(q, scale_zero):
    return int4_grouped(q, scale_zero).reshape(q.shape[0], -1, 32)


WRONG_INT4 = named([
    (int4_no_minus_8, "subtracts 8"),  # also: zero taken for the minimum m of w = d * q + m
    (int4_uint8_wraps, "wraps around"),
    (int4_minus_8_after, "not from the product"),
    (int4_swapped, "swapped"),
    (int4_tiled, "repeat tiles"),
    (int4_reshaped, "reshape is not transpose"),
    (int4_not_transposed, "groups first"),
    (int4_transposed_result, "transposed"),
    (int4_groups_shape, "one weight per 4-bit number"),
])
RIGHT_INT4 = by_name([int4_reference, int4_grouped, int4_numpy, int4_in_bfloat16])

test_wrong_dequantize_int4, test_right_dequantize_int4 = answer_tests(lesson12.check_dequantize_int4, WRONG_INT4,
                                                                      RIGHT_INT4, kit=False)


def test_int4_case_is_the_lessons_layout():
    # the check's scale_zero is Int4Linear's: the kernel with it gives back quantize_q4's weights
    from helpers.lessons.fast_and_small import Int4Linear, dequantize_q4, quantize_q4

    w = lesson12._matrix()
    linear = Int4Linear(w)
    q, scale_zero = lesson12.int4_case()
    assert torch.equal(linear.scale_zero, scale_zero)
    kernel = lesson12._kernel_weights(q, scale_zero)
    assert (kernel - dequantize_q4(*quantize_q4(w))).abs().max() < 0.01 * w.abs().max()
