"""Notebook 10's exercise checks against plausible answers: each wrong one gets its own hint, each right one passes.

The checks read the few tensors they need from the kit generator's file and compare with transformers' own code
(Llama's norm, rotation and repeat_kv, the GGUF loader's row permutation, DynamicCache); tests/test_exercises.py
round-trips the notebook's starter and solution cells, this file the answers a learner is likely to write.
"""

from __future__ import annotations

import pytest
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
    "mean over the whole tensor": (lambda x, w, e: x * torch.rsqrt(x.pow(2).mean() + e) * w, "whole tensor"),
    "no keepdim": (lambda x, w, e: x * torch.rsqrt(x.pow(2).mean(-1) + e) * w, "keepdim=True"),
    "eps added to the result": (lambda x, w, e: x / _ms(x).sqrt() * w + e, "eps is added to the result"),
    "n - 1": (lambda x, w, e: x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) / (x.shape[-1] - 1) + e) * w, "n - 1"),
    "Gemma's 1 + weight": (lambda x, w, e: x * torch.rsqrt(_ms(x) + e) * (1 + w), "Gemma"),
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


def _interleaved(x, cos, sin):  # a faithful neighbour-pair RoPE: the other layout, right in itself
    c, s = cos[..., :32].repeat_interleave(2, -1), sin[..., :32].repeat_interleave(2, -1)
    pairs = x.unflatten(-1, (-1, 2))
    return x * c + torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2) * s


def _full_width_in_halves(x, cos, sin):  # the halves formula written out with the full-width cos and sin
    first, second = _halves(x)
    return torch.cat([first * cos - second * sin, second * cos + first * sin], dim=-1)


ROPE_WRONG = {
    "neighbouring pairs": (_neighbours, "neighbouring features"),
    "faithful interleaved layout": (_interleaved, "interleaved layout"),
    "full-width cos with the halves": (_full_width_in_halves, "met the full-width cos"),
    "sign flipped": (lambda x, c, s: x * c + torch.cat([_halves(x)[1], -_halves(x)[0]], -1) * s, "wrong way"),
    "cos and sin swapped": (lambda x, c, s: x * s + torch.cat([-_halves(x)[1], _halves(x)[0]], -1) * c, "swapped"),
    "no rotation": (lambda x, c, s: x, "the result is x itself"),
    "only the rotated half": (lambda x, c, s: torch.cat([-_halves(x)[1], _halves(x)[0]], -1), "only the rotated half"),
    "halves not swapped": (lambda x, c, s: x * c + torch.cat([-_halves(x)[0], _halves(x)[1]], -1) * s,
                           "is not a rotation"),
    "cos only": (lambda x, c, s: x * c, "off by up to"),
    "cos on both parts": (lambda x, c, s: x * c + torch.cat([-_halves(x)[1], _halves(x)[0]], -1) * c,
                          "multiplied by sin, not cos"),
    "sin only": (lambda x, c, s: x * s, "the x * cos part is missing"),
    "cos transposed": (lambda x, c, s: x * c.T + torch.cat([-_halves(x)[1], _halves(x)[0]], -1) * s.T,
                       "did not broadcast"),
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
    "each half with the first half of cos": lambda x, c, s: torch.cat([
        _halves(x)[0] * c[..., :32] - _halves(x)[1] * s[..., :32],
        _halves(x)[1] * c[..., :32] + _halves(x)[0] * s[..., :32]], dim=-1),
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
    "expand on the heads axis itself": (lambda x, n: x.expand(-1, x.shape[1] * n, -1, -1), "expand can only stretch"),
    "cat of the whole tensor": (lambda x, n: torch.cat([x] * n, dim=1), "tiles the heads"),
}

REPEAT_RIGHT = {
    "repeat_interleave": lambda x, n: x.repeat_interleave(n, dim=1),
    "expand + reshape": lambda x, n: x[:, :, None].expand(-1, -1, n, -1, -1).reshape(
        x.shape[0], x.shape[1] * n, x.shape[2], x.shape[3]),
    "cat of repeated heads": lambda x, n: torch.cat([x[:, i:i + 1] for i in range(x.shape[1]) for _ in range(n)], 1),
    "index_select": lambda x, n: x.index_select(1, torch.arange(x.shape[1] * n) // n),
    "expand first, transpose, reshape": lambda x, n: x[:, None].expand(-1, n, -1, -1, -1).transpose(1, 2).reshape(
        x.shape[0], -1, x.shape[2], x.shape[3]),
}


test_repeat_kv_wrong_answers_get_their_hint, test_repeat_kv_right_answers_pass = answer_tests(
    lesson10.check_repeat_kv, REPEAT_WRONG, REPEAT_RIGHT)


# ---------------------------------------------------------------- exercise 4: the interleaved layout


def _inter_partner(x):
    pairs = x.unflatten(-1, (-1, 2))
    return torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)


def _twice(c):  # theta_0, theta_0, theta_1, theta_1, ...
    return c[..., :32].repeat_interleave(2, dim=-1)


INTERLEAVED_WRONG = {
    "the halves layout": (lambda x, c, s: x * c + torch.cat([-_halves(x)[1], _halves(x)[0]], -1) * s,
                          "section 4's halves layout"),
    "neighbours with the halves' angles": (lambda x, c, s: x * c + _inter_partner(x) * s, "repeat each angle twice"),
    "angles tiled, not repeated in place": (lambda x, c, s: x * c[..., :32].repeat(1, 2) + _inter_partner(x)
                                            * s[..., :32].repeat(1, 2), "repeat each angle twice in place"),
    "every other angle": (lambda x, c, s: x * c[..., ::2].repeat_interleave(2, -1) + _inter_partner(x)
                          * s[..., ::2].repeat_interleave(2, -1), "picks columns 0, 2, 4"),
    "sign flipped": (lambda x, c, s: x * _twice(c) - _inter_partner(x) * _twice(s), "the wrong way"),
    "cos and sin swapped": (lambda x, c, s: x * _twice(s) + _inter_partner(x) * _twice(c), "swapped"),
    "no rotation": (lambda x, c, s: x, "the result is x itself"),
    "full-width cos with the pairs": (lambda x, c, s: (x.unflatten(-1, (-1, 2)) * c[..., None]).flatten(-2),
                                      "met the full-width cos"),
}


def _via_halves(x, cos, sin):  # renumber to the halves layout, rotate as section 4, renumber back
    to_halves = torch.arange(64).view(32, 2).T.flatten()  # halves feature j is neighbour feature to_halves[j]
    first, second = x[..., to_halves].chunk(2, dim=-1)
    rotated = x[..., to_halves] * cos + torch.cat([-second, first], dim=-1) * sin
    return rotated[..., torch.argsort(to_halves)]


def _complex(x, cos, sin):  # Meta's way: each neighbour pair as one complex number, times e^(i angle)
    z = torch.view_as_complex(x.unflatten(-1, (-1, 2)).contiguous())
    return torch.view_as_real(z * torch.complex(cos[..., :32], sin[..., :32])).flatten(-2)


def _written_out(x, cos, sin):
    a, b = x[..., 0::2], x[..., 1::2]
    c, s = cos[..., :32], sin[..., :32]
    return torch.stack([a * c - b * s, b * c + a * s], dim=-1).flatten(-2)


INTERLEAVED_RIGHT = {
    "repeat_interleave": lambda x, c, s: x * _twice(c) + _inter_partner(x) * _twice(s),
    "via the halves": _via_halves,
    "complex numbers": _complex,
    "even and odd features written out": _written_out,
}


test_interleaved_wrong_answers_get_their_hint, test_interleaved_right_answers_pass = answer_tests(
    lesson10.check_rope_interleaved, INTERLEAVED_WRONG, INTERLEAVED_RIGHT)


# ---------------------------------------------------------------- exercise 5: the KV cache's bytes per token


def _config():
    import json
    from pathlib import Path

    from helpers.models import checkpoint

    return json.loads((Path(checkpoint("generator")) / "config.json").read_text())


def _kv(c, b, heads="num_key_value_heads", kv=2, layers=True):
    return (c["num_hidden_layers"] if layers else 1) * kv * c[heads] * c["head_dim"] * b


KV_WRONG = {
    "query heads": (lambda c, b: _kv(c, b, heads="num_attention_heads"), "KEY/VALUE heads"),
    "hidden size": (lambda c, b: c["num_hidden_layers"] * 2 * c["hidden_size"] * b, "KEY/VALUE heads"),
    "keys only": (lambda c, b: _kv(c, b, kv=1), "a key AND a value"),
    "one layer": (lambda c, b: _kv(c, b, layers=False), "one layer's cache"),
    "bits": (lambda c, b: _kv(c, b) * 8, "8 times too many"),
    "always float32": (lambda c, b: _kv(c, 4), "instead of a fixed 4"),
    "queries cached too": (lambda c, b: _kv(c, b, kv=3), "queries are not cached"),
    "numbers, not bytes": (lambda c, b: _kv(c, 1), "counts numbers, not bytes"),
    "the number printed in section 9": (lambda c, b: 46080, "again: the answer depends on the config"),
    "a string": (lambda c, b: "46,080 bytes", "should be an int"),
}


def _measured(c, b):  # build one position's key and value per layer and count their bytes
    dtype = {4: torch.float32, 2: torch.bfloat16}[b]
    one = torch.zeros(c["num_key_value_heads"], c["head_dim"], dtype=dtype)
    return c["num_hidden_layers"] * 2 * one.nbytes


KV_RIGHT = {
    "the formula": lambda c, b: _kv(c, b),
    "head_dim from hidden_size / heads": lambda c, b: (c["num_hidden_layers"] * 2 * c["num_key_value_heads"]
                                                       * c["hidden_size"] // c["num_attention_heads"] * b),
    "measured on zeros": _measured,
    "a float": lambda c, b: float(_kv(c, b)),
    "a tensor": lambda c, b: torch.tensor(_kv(c, b)),
}


test_kv_bytes_wrong_answers_get_their_hint, test_kv_bytes_right_answers_pass = answer_tests(
    lesson10.check_kv_bytes_per_token, KV_WRONG, KV_RIGHT, lambda answer: (answer, _config()))


@pytest.mark.usefixtures("kit")
def test_the_kv_check_wants_the_config(capsys):
    from answers import printed

    out = printed(capsys, lesson10.check_kv_bytes_per_token, KV_RIGHT["the formula"], None)
    assert "pass the generator's config" in out, out


def test_gguf_rows_are_the_inverse_of_the_loader():
    """to_gguf_rows undoes transformers' GGUF loader on a small matrix with 3 heads (the check asserts it on the
    real weights too)."""
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    w = torch.arange(3 * 8 * 5, dtype=torch.float32).view(24, 5)
    back = LlamaTensorProcessor(config={})._reverse_permute_weights(lesson10.to_gguf_rows(w, 3).numpy(), 3, 3)
    assert torch.equal(torch.from_numpy(back), w)
    assert lesson10.to_gguf_rows(w, 3)[:4, 0].tolist() == [0.0, 20.0, 5.0, 25.0]  # head 0: rows 0, 4, 1, 5
