"""Notebook 10's exercise checks against plausible answers: each wrong one gets its own hint, each right one passes.

The checks read the few tensors they need from the kit generator's file and compare with transformers' Llama code;
tests/test_exercises.py round-trips the notebook's starter and solution cells, this file the answers a learner is
likely to write.
"""

from __future__ import annotations

import torch

from answers import answer_tests
from helpers.checks import lesson10


def _ms(x):
    return x.pow(2).mean(-1, keepdim=True)


RMS_WRONG = {
    "LayerNorm instead": (lambda x, w, e: (x - x.mean(-1, keepdim=True)) / torch.sqrt(
        x.var(-1, keepdim=True, unbiased=False) + e) * w, "it is LayerNorm"),
    "std instead of RMS": (lambda x, w, e: x / torch.sqrt(x.std(-1, keepdim=True) ** 2 + e) * w, "x.std()"),
    "sum of squares (norm)": (lambda x, w, e: x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) + e) * w, "SUM of squares"),
    "no weight": (lambda x, w, e: x * torch.rsqrt(_ms(x) + e), "multiply by weight"),
    "eps outside the root": (lambda x, w, e: x / (torch.sqrt(_ms(x)) + e) * w, "eps goes inside the square root"),
    "no eps": (lambda x, w, e: x / torch.sqrt(_ms(x)) * w, "eps is missing"),
    "over the sequence": (lambda x, w, e: x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + e) * w, "last axis"),
}

RMS_RIGHT = {
    "rsqrt": lambda x, w, e: x * torch.rsqrt(_ms(x) + e) * w,
    "divide by sqrt": lambda x, w, e: w * (x / torch.sqrt(_ms(x) + e)),
    "norm / sqrt(n)": lambda x, w, e: x / torch.sqrt(x.norm(dim=-1, keepdim=True) ** 2 / x.shape[-1] + e) * w,
    "torch rms_norm": lambda x, w, e: torch.nn.functional.rms_norm(x, (x.shape[-1],), w, e),
    "float64 inside": lambda x, w, e: (x.double() * torch.rsqrt(x.double().pow(2).mean(-1, keepdim=True) + e)).float()
    * w,
}


test_rms_norm_wrong_answers_get_their_hint, test_rms_norm_right_answers_pass = answer_tests(
    lesson10.check_rms_norm, RMS_WRONG, RMS_RIGHT)


def _halves(x):
    return x.chunk(2, dim=-1)


def _neighbours(x, cos, sin):
    pairs = x.unflatten(-1, (-1, 2))
    return x * cos + torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2) * sin


ROPE_WRONG = {
    "neighbouring pairs": (_neighbours, "neighbouring features"),
    "sign flipped": (lambda x, c, s: x * c + torch.cat([_halves(x)[1], -_halves(x)[0]], -1) * s, "wrong way"),
    "cos and sin swapped": (lambda x, c, s: x * s + torch.cat([-_halves(x)[1], _halves(x)[0]], -1) * c, "swapped"),
    "no rotation": (lambda x, c, s: x, "the result is x itself"),
    "only the rotated half": (lambda x, c, s: torch.cat([-_halves(x)[1], _halves(x)[0]], -1), "only the rotated half"),
    "halves not swapped": (lambda x, c, s: x * c + torch.cat([-_halves(x)[0], _halves(x)[1]], -1) * s,
                           "is not a rotation"),
    "cos only": (lambda x, c, s: x * c, "off by up to"),
}


def _complex_rope(x, cos, sin):
    first, second = _halves(x)
    z = torch.complex(first, second) * torch.complex(cos[..., :32], sin[..., :32])  # e^(i angle) per pair
    return torch.cat([z.real, z.imag], dim=-1)


ROPE_RIGHT = {
    "cat of halves": lambda x, c, s: x * c + torch.cat([-_halves(x)[1], _halves(x)[0]], -1) * s,
    "per half, written out": lambda x, c, s: torch.cat([
        _halves(x)[0] * c[..., :32] - _halves(x)[1] * s[..., :32],
        _halves(x)[1] * c[..., 32:] + _halves(x)[0] * s[..., 32:]], dim=-1),
    "complex numbers": _complex_rope,
}


test_rope_wrong_answers_get_their_hint, test_rope_right_answers_pass = answer_tests(
    lesson10.check_apply_rope, ROPE_WRONG, ROPE_RIGHT)


REPEAT_WRONG = {
    "repeat tiles the heads": (lambda x, n: x.repeat(1, n, 1, 1), "tiles the heads"),
    "along the sequence": (lambda x, n: x.repeat_interleave(n, dim=2), "sequence axis"),
    "expand without reshape": (lambda x, n: x[:, :, None].expand(-1, -1, n, -1, -1), "5 axes"),
    "expand on the wrong axis": (lambda x, n: x[:, None].expand(-1, n, -1, -1, -1).reshape(
        x.shape[0], -1, x.shape[2], x.shape[3]), "tiles the heads"),
    "heads reversed": (lambda x, n: x.repeat_interleave(n, dim=1).flip(1), "not in place"),
}

REPEAT_RIGHT = {
    "repeat_interleave": lambda x, n: x.repeat_interleave(n, dim=1),
    "expand + reshape": lambda x, n: x[:, :, None].expand(-1, -1, n, -1, -1).reshape(
        x.shape[0], x.shape[1] * n, x.shape[2], x.shape[3]),
    "cat of repeated heads": lambda x, n: torch.cat([x[:, i:i + 1] for i in range(x.shape[1]) for _ in range(n)], 1),
    "index_select": lambda x, n: x.index_select(1, torch.arange(x.shape[1] * n) // n),
}


test_repeat_kv_wrong_answers_get_their_hint, test_repeat_kv_right_answers_pass = answer_tests(
    lesson10.check_repeat_kv, REPEAT_WRONG, REPEAT_RIGHT)
