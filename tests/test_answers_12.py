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
