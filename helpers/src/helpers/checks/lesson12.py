"""Checks for notebook 12 (fast and small): 4-bit quantisation per group of 32, and the bytes a decoding step reads.

``check_quantize_q4`` runs the learner's function on a seeded random matrix whose rows are not centred on 0 (so a
minimum and an absmax give different answers) and compares (q, d, m) with Q4_1's recipe, naming the usual slips.
``check_bytes_per_token`` compares the learner's formula with the parameter count of transformers'
``LlamaForCausalLM`` built (without memory, on the meta device) from the same config, tied and untied.
``check_dequantize_int4`` compares the learner's reading of PyTorch's 4-bit layout (4-bit numbers and a
``(cols // 32, rows, 2)`` bfloat16 tensor of scales and zero points) with the kernel's own weights, read back by
multiplying the identity matrix, and names the usual slips (no ``- 8``, tiled scales, no transpose, swapped halves).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from .core import Hint, call, call_traced, exercise

ROWS, COLS, GROUP = 64, 128, 32


def _matrix() -> Any:
    import torch

    g = torch.Generator().manual_seed(12)
    offsets = torch.rand(ROWS, 1, generator=g) * 0.1 - 0.02  # rows not centred on 0: min != -max
    return torch.randn(ROWS, COLS, generator=g) * 0.05 + offsets


def _groups(w: Any) -> Any:
    return w.reshape(w.shape[0], -1, GROUP)


def _reference(w: Any) -> tuple[Any, Any, Any]:
    import torch

    g = _groups(w)
    m = g.amin(-1)
    d = (g.amax(-1) - m) / 15
    q = torch.round((g - m[..., None]) / d[..., None]).clamp(0, 15)
    return q.reshape(w.shape), d, m


def _tensor(value: Any, what: str) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().double()
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise Hint(f"{what} should be a tensor (or an array); got {type(value).__name__}.") from None


def _close(a: Any, b: Any, rtol: float = 1e-3) -> bool:
    return tuple(a.shape) == tuple(b.shape) and bool(((a - b).abs() <= rtol * b.abs() + 1e-7).all())


@exercise
def check_quantize_q4(my_quantize_q4: Any) -> str:
    """``my_quantize_q4(w) -> (q, d, m)``: 4-bit numbers, a scale and a minimum per group of 32 neighbours in a row."""
    import torch

    w = _matrix()
    out = call(my_quantize_q4, w.clone(), what="my_quantize_q4(w)")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Hint("return three things, (q, d, m): the 4-bit numbers, the scales and the minimums.")
    q, d, m = (_tensor(x, n) for x, n in zip(out, ("q", "d", "m")))
    ref_q, ref_d, ref_m = (x.double() for x in _reference(w))
    groups = (ROWS, COLS // GROUP)
    if tuple(q.shape) == (ROWS, COLS // GROUP, GROUP):
        raise Hint(f"q has the groups' shape {tuple(q.shape)}: reshape it back to w's shape {(ROWS, COLS)}.")
    if tuple(q.shape) != (ROWS, COLS):
        raise Hint(f"q should have w's shape {(ROWS, COLS)}, one 4-bit number per weight; yours is {tuple(q.shape)}.")
    if d.shape != m.shape or d.numel() != ROWS * COLS // GROUP:
        raise Hint(f"d and m should have shape {groups}, one per group of 32; yours are {tuple(d.shape)} and "
                   f"{tuple(m.shape)}.")
    wt = w.T.contiguous()
    col_d = ((_groups(wt).amax(-1) - _groups(wt).amin(-1)) / 15).double()
    if tuple(d.shape) != groups or (not _close(d, ref_d) and _close(d.flatten().sort().values,
                                                                     col_d.flatten().sort().values)):
        raise Hint(f"your groups run along the wrong axis (d has shape {tuple(d.shape)}): a group is 32 NEIGHBOURS "
                   f"IN A ROW, w.reshape(rows, cols // 32, 32), so d and m have shape {groups}.")
    if _close(d, ref_m) and _close(m, ref_d):
        raise Hint("d and m are swapped: return (q, d, m), the scale before the minimum.")
    if not bool((q == q.round()).all()):
        raise Hint("some q are not whole numbers: round (w - m) / d to the nearest integer.")
    if q.min() < 0 or q.max() > 15:
        raise Hint(f"q goes from {int(q.min())} to {int(q.max())}: 4 bits hold 0..15 only. Clamp q to 0..15 (and "
                   "check the scale: (max - min) spread over 15 steps).")
    absmax = _groups(w).abs().amax(-1).double()
    if _close(m, -absmax) or _close(d, absmax / 7.5) or _close(d, absmax / 15):
        raise Hint("that is absmax (symmetric around 0): Q4_1 uses each group's minimum and maximum, m = min and "
                   "d = (max - min) / 15, so no level is wasted on a side of 0 the group does not reach.")
    if _close(d, ref_d * 15 / 16) or _close(d, ref_d * 15 / 14):
        raise Hint("the scale divides by the wrong count: 4 bits give 16 levels, 0..15, so 15 STEPS from min to max: "
                   "d = (max - min) / 15.")
    if not _close(m, ref_m):
        raise Hint("m should be each group's minimum (so that q = 0 is the smallest weight of the group).")
    if not _close(d, ref_d):
        raise Hint("d should be (max - min) / 15 over each group of 32.")
    _, d32, m32 = _reference(w)
    floor_q = torch.floor((_groups(w) - m32[..., None]) / d32[..., None]).reshape(ROWS, COLS).double()
    differ = (q != ref_q).float().mean().item()
    if differ > 0.01 and (q == floor_q).double().mean().item() > 0.95:
        raise Hint("q is rounded down (floor, or int() which truncates): round to the NEAREST level, or every "
                   "weight moves down by up to a whole step d instead of half of one.")
    error = ((_groups(q) * d[..., None] + m[..., None]).reshape(ROWS, COLS) - w.double()).abs()
    worst = (_groups(error) / ref_d[..., None]).max().item()
    if differ > 0.005 or worst > 0.51:
        raise Hint(f"q differs from round((w - m) / d) at {100 * differ:.1f} % of the weights; d * q + m is off by "
                   f"up to {worst:.2f} steps d (rounding to the nearest level makes it at most 0.5).")
    bits = (COLS * 4 + (COLS // GROUP) * 2 * 16) / COLS
    return (f"(q, d, m) follow Q4_1's recipe: every weight within half a step d of w ({worst:.2f} d at worst); with "
            f"float16 d and m and two numbers per byte, {bits:.0f} bits per weight.")


def _bytes(config: dict, bits: float) -> float:
    """Bytes of weights per token: the parameter count of transformers' own LlamaForCausalLM, times bits / 8."""
    return _parameters(json.dumps(config, sort_keys=True)) * bits / 8


@functools.lru_cache(maxsize=8)
def _parameters(config_json: str) -> int:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = json.loads(config_json)
    cfg = LlamaConfig(**{k: v for k, v in config.items() if not k.startswith("_")})
    with torch.device("meta"):  # shapes only, no memory
        model = LlamaForCausalLM(cfg)
    return sum(p.numel() for p in model.parameters())  # tied tensors are listed once


def _parts(config: dict) -> dict[str, int]:
    h, n = config["hidden_size"], config["num_hidden_layers"]
    q_out = config["num_attention_heads"] * config["head_dim"]
    kv_out = config["num_key_value_heads"] * config["head_dim"]
    return {"table": config["vocab_size"] * h, "kv": n * 2 * h * kv_out, "kv_full": n * 2 * h * q_out,
            "mlp": n * h * config["intermediate_size"], "norms": (2 * n + 1) * h}


BYTES_HINTS = {
    "bits": "divide by 8: bits_per_weight is in bits, the answer in bytes.",
    "tied twice": "the output layer IS the embedding table (tie_word_embeddings): read it once.",
    "untied once": "with tie_word_embeddings False the output layer is a second vocab x hidden matrix: count both.",
    "no table": "the embedding table (vocab_size x hidden_size) is missing: it is the output layer, read every token.",
    "kv full": "the key and value projections have num_key_value_heads * head_dim rows, not num_attention_heads': "
               "grouped-query attention.",
    "two mlp": "SwiGLU has THREE matrices per layer: gate, up (hidden -> intermediate) and down.",
    "no norms": "the norms are weights too: two per layer (before attention, before the feed-forward) and a final one.",
}


def _byte_mistakes(config: dict, bits: float) -> dict[str, float]:
    p, right = _parts(config), _bytes(config, bits)
    tied = config.get("tie_word_embeddings", True)
    return {
        "bits": right * 8,
        "tied twice": right + p["table"] * bits / 8 if tied else -1,
        "untied once": right - p["table"] * bits / 8 if not tied else -1,
        "no table": right - p["table"] * bits / 8 * (1 if tied else 2),
        "kv full": right + (p["kv_full"] - p["kv"]) * bits / 8,
        "two mlp": right - p["mlp"] * bits / 8,
        "no norms": right - p["norms"] * bits / 8,
    }


@exercise
def check_bytes_per_token(my_bytes_per_token: Any, config: Any) -> str:
    """``my_bytes_per_token(config, bits_per_weight)`` against LlamaForCausalLM's parameter count."""
    if not isinstance(config, dict) or "num_key_value_heads" not in config:
        raise Hint("pass the generator's config (the dict read from config.json in section 2) as the second argument.")
    untied = dict(config, tie_word_embeddings=False)
    cases = ((config, 32, "the generator in float32"), (config, 5, "the generator in 5 bits (Q4_1)"),
             (untied, 32, "the generator untied, float32"), (untied, 4.5, "the generator untied, 4.5 bits"))
    found = {}
    for case, bits, what in cases:
        mine = call(my_bytes_per_token, dict(case), bits, what="my_bytes_per_token(config, bits_per_weight)")
        if not isinstance(mine, (int, float)) and not hasattr(mine, "item"):
            raise Hint(f"return a number of bytes; got {type(mine).__name__}.")
        mine = float(mine)
        found[what] = want = _bytes(case, bits)
        if abs(mine - want) <= 1:
            continue
        for name, wrong in _byte_mistakes(case, bits).items():
            if abs(mine - wrong) <= 1:
                raise Hint(f"for {what} you say {mine:,.0f} bytes; {BYTES_HINTS[name]}")
        raise Hint(f"for {what} you say {mine:,.0f} bytes; LlamaForCausalLM has {want * 8 / bits:,.0f} weights, "
                   f"{want:,.0f} bytes at {bits:g} bits. Count every matrix and norm once.")
    fp32, q41 = found[cases[0][2]], found[cases[1][2]]
    return (f"your formula matches LlamaForCausalLM's parameter count in all {len(cases)} cases: {fp32 / 1e6:.0f} MB "
            f"per token in float32, {q41 / 1e6:.0f} MB in Q4_1's 5 bits ({fp32 / q41:.1f}x fewer bytes).")


def int4_case() -> tuple[Any, Any]:
    """The exercise's input: 4-bit numbers q (rows, cols) of the seeded matrix, and the kernel's scale_zero."""
    import torch

    q, d, m = _reference(_matrix())
    scale_zero = torch.stack([d, m + 8 * d], dim=-1).transpose(0, 1).contiguous().to(torch.bfloat16)
    return q.to(torch.uint8), scale_zero


def _kernel_weights(q: Any, scale_zero: Any) -> Any:
    """The weights PyTorch's 4-bit kernel multiplies by: x @ W.T with x the identity gives W.T back."""
    import torch

    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.to(torch.int32), 1)
    eye = torch.eye(q.shape[1], dtype=torch.bfloat16)
    return torch.ops.aten._weight_int4pack_mm_for_cpu(eye, packed, GROUP, scale_zero).float().T


def _layout_slip(op: str, shapes: list, error: Exception) -> str | None:
    groups = COLS // GROUP
    if any(len(s) == 2 and (s[0] == groups or s == (COLS, ROWS)) for s in shapes):
        return (f"a {groups}-row tensor met q {(ROWS, COLS)}: scale_zero is laid out (cols // 32, rows, 2), groups "
                "first. Transpose scale_zero[..., 0] and [..., 1] to (rows, cols // 32) before spreading them over q.")
    return None


@exercise
def check_dequantize_int4(my_dequantize_int4: Any) -> str:
    """``my_dequantize_int4(q, scale_zero) -> w``: the weights PyTorch's 4-bit kernel computes with."""
    q, scale_zero = int4_case()
    mine = call_traced(my_dequantize_int4, q.clone(), scale_zero.clone(), what="my_dequantize_int4(q, scale_zero)",
                       slip=_layout_slip)
    mine = _tensor(mine, "the weights").float()
    if tuple(mine.shape) != (ROWS, COLS):
        flipped = " (that is transposed)" if tuple(mine.shape) == (COLS, ROWS) else ""
        raise Hint(f"return one weight per 4-bit number, q's shape {(ROWS, COLS)}; yours is {tuple(mine.shape)}"
                   f"{flipped}.")
    kernel = _kernel_weights(q, scale_zero)
    tolerance = 0.01 * kernel.abs().max().item()  # the kernel's bfloat16 output, and bfloat16 arithmetic allowed
    if (mine - kernel).abs().max().item() <= tolerance:
        return (f"your weights are the kernel's own (read back by multiplying the identity), within {tolerance:.4f}: "
                "(q - 8) * scale + zero, one scale and zero per 32 neighbours in a row.")
    s, z, qf = scale_zero[..., 0].float(), scale_zero[..., 1].float(), q.float()
    spread = lambda t: t.T.repeat_interleave(GROUP, dim=1)  # noqa: E731  (rows, cols)
    slips = {
        "no -8": (qf * spread(s) + spread(z), "the kernel subtracts 8 from every q first: (q - 8) * scale + zero. "
                  "(The lesson's zero point m + 8 d is there to undo exactly that.)"),
        "uint8 wraps": ((q - 8).float() * spread(s) + spread(z), "q is uint8, where q - 8 wraps around below 0 "
                        "(3 - 8 = 251): turn q into a signed or float type first, q.float() - 8."),
        "-8 after": (qf * spread(s) - 8 + spread(z), "subtract 8 from q, not from the product: (q - 8) * scale."),
        "swapped": ((qf - 8) * spread(z) + spread(s), "scale and zero are swapped: [..., 0] is the scale, [..., 1] "
                    "the zero point."),
        "tiled": ((qf - 8) * s.T.repeat(1, GROUP) + z.T.repeat(1, GROUP), "repeat tiles the groups (g0, g1, ..., "
                  "g0, g1, ...): each scale covers 32 NEIGHBOURS, so use repeat_interleave, or reshape q into groups."),
        "reshaped": ((qf - 8) * s.reshape(ROWS, -1).repeat_interleave(GROUP, dim=1)
                     + z.reshape(ROWS, -1).repeat_interleave(GROUP, dim=1),
                     "reshape is not transpose: scale_zero is (cols // 32, rows, 2), groups first; reshaping it to "
                     "(rows, cols // 32) mixes rows and groups. Transpose it."),
    }
    for wrong, hint in slips.values():
        if (mine - wrong).abs().max().item() <= tolerance:
            raise Hint(hint)
    raise Hint(f"your weights differ from the kernel's by up to {(mine - kernel).abs().max().item():.3f} (largest "
               f"weight {kernel.abs().max().item():.3f}): each is (q - 8) * scale + zero of its group of 32.")
