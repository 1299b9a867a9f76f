"""Checks for notebook 10 (the decoder by hand): RMSNorm, rotating queries with RoPE, repeating key/value heads for
grouped-query attention.

Every check computes its inputs from the kit generator's real weights, reading only the few tensors it needs with
``safetensors.safe_open`` (never a second copy of the 540 MB model), and its reference with transformers' own Llama
code (``LlamaRMSNorm``, ``apply_rotary_pos_emb``, ``repeat_kv``). A wrong answer is compared with the typical
mistakes, computed on the same inputs, so the hint can say which one it is.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .core import Hint, as_tensor, call, exercise, expect_match, hinted, kit_tokenizer

PROMPT = "The capital of France is Paris, and the capital of Italy is Rome."
ATOL = 1e-5


@functools.lru_cache(maxsize=1)
def _inputs() -> dict[str, Any]:
    """Real layer-0 inputs: the prompt's embeddings, the norm weight, q (9 heads) and k (3 heads) after the norm."""
    import json
    from pathlib import Path

    import torch
    from safetensors import safe_open

    from ..lessons.decoder_by_hand import rms_norm, rope_cos_sin, rope_frequencies
    from ..models import checkpoint

    folder = Path(checkpoint("generator"))
    config = json.loads((folder / "config.json").read_text())
    ids = kit_tokenizer("generator")(PROMPT).input_ids
    with safe_open(folder / "model.safetensors", framework="pt") as f:
        table = f.get_slice("model.embed_tokens.weight")
        x = torch.cat([table[i:i + 1] for i in ids])[None].clone()  # (1, seq, hidden): only the prompt's rows
        p = "model.layers.0."
        norm = f.get_tensor(p + "input_layernorm.weight").clone()
        wq = f.get_tensor(p + "self_attn.q_proj.weight").clone()
        wk = f.get_tensor(p + "self_attn.k_proj.weight").clone()
    heads, kv_heads, d = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    with torch.no_grad():
        h = rms_norm(x, norm, config["rms_norm_eps"])
        q = (h @ wq.T).view(1, len(ids), heads, d).transpose(1, 2)
        k = (h @ wk.T).view(1, len(ids), kv_heads, d).transpose(1, 2)
    cos, sin = rope_cos_sin(torch.arange(len(ids)), rope_frequencies(config))
    return {"config": config, "x": x, "norm": norm, "q": q, "k": k, "cos": cos, "sin": sin}




# ---------------------------------------------------------------- exercise 1: RMSNorm


RMS_HINTS = {
    "layer norm": "that subtracts the mean: it is LayerNorm. RMSNorm divides x by its root mean square only, "
                  "x / sqrt(mean(x ** 2) + eps), no mean subtracted.",
    "std": "x.std() subtracts the mean (and divides by n - 1): RMSNorm uses the root mean square, "
           "sqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps).",
    "norm": "x.norm() is the root of the SUM of squares; RMSNorm uses their MEAN: "
            "x.pow(2).mean(dim=-1, keepdim=True).",
    "no weight": "normalised but not scaled: multiply by weight at the end.",
    "eps outside": "eps goes inside the square root: x / sqrt(mean(x ** 2) + eps) (the check's second case uses a "
                   "large eps, where that shows).",
    "no eps": "eps is missing: x / sqrt(mean(x ** 2) + eps) (the check's second case uses a large eps, where it "
              "shows).",
    "wrong axis": "normalise each token's vector over its features: the mean over the last axis (dim=-1), "
                  "keepdim=True.",
}


def _rms_mistakes(x: Any, w: Any, eps: float) -> dict[str, Callable[[], Any]]:
    import torch

    ms = x.pow(2).mean(-1, keepdim=True)
    return {
        "layer norm": lambda: (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, keepdim=True, unbiased=False)
                                                                          + eps) * w,
        "std": lambda: x / torch.sqrt(x.std(-1, keepdim=True) ** 2 + eps) * w,
        "norm": lambda: x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) + eps) * w,
        "no weight": lambda: x * torch.rsqrt(ms + eps),
        "eps outside": lambda: x / (torch.sqrt(ms) + eps) * w,
        "no eps": lambda: x / torch.sqrt(ms) * w,
        "wrong axis": lambda: x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + eps) * w,
    }


@exercise
def check_rms_norm(my_rms_norm: Any) -> str:
    """``my_rms_norm(x, weight, eps)`` on the real embeddings of a prompt and layer 0's input_layernorm weight."""
    import torch
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    data = _inputs()
    x, w = data["x"], data["norm"]
    big_eps = float(x.pow(2).mean(-1).median())  # as large as a typical mean square: where eps goes shows
    for eps, case in ((data["config"]["rms_norm_eps"], "the model's eps"), (big_eps, f"a large eps ({big_eps:.2g})")):
        reference_module = LlamaRMSNorm(x.shape[-1], eps=eps)
        with torch.no_grad():
            reference_module.weight.copy_(w)
            reference = reference_module(x)
        t = as_tensor(call(my_rms_norm, x.clone(), w.clone(), eps, what="my_rms_norm(x, weight, eps)"),
                      "the result of my_rms_norm")
        expect_match(t, reference, f"the result (with {case})", hinted(_rms_mistakes(x, w, eps), RMS_HINTS), ATOL,
                     f"with {case}, the result is off by up to {{diff:.3g}} from transformers' LlamaRMSNorm: "
                     "x / sqrt(mean(x ** 2 over the last axis) + eps) * weight.")
    return ("your RMSNorm matches transformers' LlamaRMSNorm on the generator's real embeddings, with the model's eps "
            "and with a large one.")


# ---------------------------------------------------------------- exercise 2: RoPE


ROPE_HINTS = {
    "neighbours": "you rotated neighbouring features (0, 1), (2, 3), ...: in the Hugging Face layout pair i is "
                  "feature i and feature i + head_dim/2 (the two halves). Split with x.chunk(2, dim=-1).",
    "sign flipped": "the rotation goes the wrong way: the rotated half is cat([-second, first]), not "
                    "cat([second, -first]).",
    "cos sin swapped": "cos and sin are swapped: x * cos + rotate_half(x) * sin.",
    "no rotation": "the result is x itself: multiply x by cos and add rotate_half(x) times sin.",
    "only rotate_half": "that is only the rotated half; the rotation is x * cos + rotate_half(x) * sin.",
    "halves not swapped": "(-first, second) is not a rotation: the rotated half is cat([-second, first]).",
}


def _rope_mistakes(x: Any, cos: Any, sin: Any) -> dict[str, Callable[[], Any]]:
    import torch

    first, second = x.chunk(2, dim=-1)
    half = torch.cat([-second, first], dim=-1)
    pairs = x.unflatten(-1, (-1, 2))
    neighbours = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)
    return {
        "neighbours": lambda: x * cos + neighbours * sin,
        "sign flipped": lambda: x * cos + torch.cat([second, -first], dim=-1) * sin,
        "cos sin swapped": lambda: x * sin + half * cos,
        "no rotation": lambda: x,
        "only rotate_half": lambda: half,
        "halves not swapped": lambda: x * cos + torch.cat([-first, second], dim=-1) * sin,
    }


@exercise
def check_apply_rope(my_apply_rope: Any) -> str:
    """``my_apply_rope(x, cos, sin)`` on layer 0's real queries (1, 9, seq, 64), cos and sin (seq, 64)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    data = _inputs()
    q, cos, sin = data["q"], data["cos"], data["sin"]
    reference, _ = apply_rotary_pos_emb(q, q, cos[None], sin[None])  # the library's own rotation
    t = as_tensor(call(my_apply_rope, q.clone(), cos.clone(), sin.clone(), what="my_apply_rope(x, cos, sin)"),
                  "the result of my_apply_rope")
    expect_match(t, reference, "the result", hinted(_rope_mistakes(q, cos, sin), ROPE_HINTS), ATOL,
                 "the result is off by up to {diff:.3g} from transformers' apply_rotary_pos_emb: "
                 "x * cos + rotate_half(x) * sin, rotate_half(x) = cat([-second half, first half]).")
    return "your rotation matches transformers' apply_rotary_pos_emb on layer 0's real queries."


# ---------------------------------------------------------------- exercise 3: repeat_kv


REPEAT_HINTS = {
    "tiled": "x.repeat(1, n_rep, 1, 1) tiles the heads as 0, 1, 2, 0, 1, 2, ...: then query heads 0-2 would use "
             "kv heads 0, 1, 2. Each kv head serves n_rep NEIGHBOURING query heads: 0, 0, 0, 1, 1, 1, ... "
             "(repeat_interleave).",
    "sequence": "you repeated along the sequence axis (dim=2); the heads are axis 1.",
}


@exercise
def check_repeat_kv(my_repeat_kv: Any) -> str:
    """``my_repeat_kv(x, n_rep)``: (batch, kv_heads, seq, d) -> (batch, kv_heads * n_rep, seq, d), real keys."""
    from transformers.models.llama.modeling_llama import repeat_kv

    k, config = _inputs()["k"], _inputs()["config"]  # the real keys of layer 0, computed once
    n_rep = config["num_attention_heads"] // config["num_key_value_heads"]
    reference = repeat_kv(k, n_rep)
    t = as_tensor(call(my_repeat_kv, k.clone(), n_rep, what="my_repeat_kv(x, n_rep)"), "the result of my_repeat_kv")
    if t.ndim == 5:
        raise Hint(f"the result has 5 axes {tuple(t.shape)}: after expanding, reshape to "
                   f"(batch, kv_heads * n_rep, seq, d) = {tuple(reference.shape)}.")
    mistakes = {"tiled": lambda: k.repeat(1, n_rep, 1, 1), "sequence": lambda: k.repeat_interleave(n_rep, dim=2)}
    expect_match(t, reference, "the result", hinted(mistakes, REPEAT_HINTS), 0.0,
                 "the shape is right but the heads are not in place: query head h uses kv head h // n_rep.")
    return (f"your repeat matches transformers' repeat_kv: {k.shape[1]} kv heads, each serving {n_rep} query heads "
            "in a row.")
