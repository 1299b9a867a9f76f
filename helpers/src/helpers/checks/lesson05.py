"""Checks for notebook 05 (the encoder by hand): scaled dot-product attention with a padding mask, LayerNorm, and
splitting a projection into heads.

Every check computes its inputs from the kit encoder's real weights (read with ``safetensors``, run through the
lesson's own, proved, code from ``helpers.lessons.encoder_by_hand``) on a heavily padded batch, and its reference
with a library: torch's ``scaled_dot_product_attention`` and ``layer_norm``. A wrong answer is compared with the
typical mistakes, computed on the same inputs, so the hint can say which one it is.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

from .core import Hint, as_tensor, call, exercise, expect_match, expect_shape, hinted, kit_tokenizer

# Very different lengths: two of the three rows are padded, so a missing or wrong mask shows.
SENTENCES = ("I hate this so much!", "I've been waiting for a HuggingFace course my whole life.", "Yes.")
ATOL = 1e-5


@functools.lru_cache(maxsize=1)
def _weights() -> tuple[dict[str, Any], dict[str, Any]]:
    import json
    from pathlib import Path

    from safetensors.torch import load_file

    from ..models import checkpoint

    folder = Path(checkpoint("encoder"))
    return load_file(folder / "model.safetensors"), json.loads((folder / "config.json").read_text())


@functools.lru_cache(maxsize=1)
def _layer0() -> dict[str, Any]:
    """Real inputs of layer 0: the embedding sum before LayerNorm, the embeddings, q, k, v split into heads."""
    import torch

    from ..lessons.encoder_by_hand import embed, linear, split_heads

    weights, config = _weights()
    batch = kit_tokenizer("encoder")(list(SENTENCES), padding=True, return_tensors="pt")
    ids, types = batch["input_ids"], batch["token_type_ids"]
    with torch.no_grad():
        summed = (weights["embeddings.word_embeddings.weight"][ids]
                  + weights["embeddings.position_embeddings.weight"][torch.arange(ids.shape[1])]
                  + weights["embeddings.token_type_embeddings.weight"][types])
        x = embed(weights, config, ids, types)
        projected = {n: linear(x, weights, f"encoder.layer.0.attention.self.{n}") for n in ("query", "key", "value")}
    heads = config["num_attention_heads"]
    return {"mask": batch["attention_mask"], "summed": summed, "x": x, "projected": projected, "heads": heads,
            "qkv": tuple(split_heads(projected[n], heads) for n in ("query", "key", "value"))}




# ---------------------------------------------------------------- exercise 1: attention with a padding mask


def _attention_mistakes(q: Any, k: Any, v: Any, mask: Any) -> dict[str, Callable[[], Any]]:
    import torch

    d = q.shape[-1]
    raw = q @ k.transpose(-1, -2)
    pad_keys = mask[:, None, None, :] == 0
    pad_queries = mask[:, None, :, None] == 0
    neg = torch.finfo(q.dtype).min

    def out(scores: Any, dim: int = -1) -> Any:
        return torch.softmax(scores, dim=dim) @ v

    def after_softmax() -> Any:
        return (torch.softmax(raw / math.sqrt(d), dim=-1) * mask[:, None, None, :]) @ v

    return {
        "no scale": lambda: out(raw.masked_fill(pad_keys, neg)),
        "scale 1/d": lambda: out((raw / d).masked_fill(pad_keys, neg)),
        "mask with 0": lambda: out((raw / math.sqrt(d)).masked_fill(pad_keys, 0.0)),
        "no mask": lambda: out(raw / math.sqrt(d)),
        "mask after softmax": after_softmax,
        "mask on queries": lambda: out((raw / math.sqrt(d)).masked_fill(pad_queries, neg)),
        "softmax over queries": lambda: out((raw / math.sqrt(d)).masked_fill(pad_keys, neg), dim=-2),
        "probabilities": lambda: torch.softmax((raw / math.sqrt(d)).masked_fill(pad_keys, neg), dim=-1),
    }


ATTENTION_HINTS = {
    "no scale": "you forgot the scale: divide the scores q @ k.T by sqrt(d), d = q.shape[-1] = the head size "
                "(without it the scores grow with d and softmax saturates).",
    "scale 1/d": "you divided the scores by d; the scale is 1/sqrt(d) (math.sqrt(q.shape[-1])).",
    "mask with 0": "padded keys got a score of 0, which is an ordinary score: softmax gives it exp(0) = 1. Give "
                   "them a large negative instead (masked_fill with torch.finfo(scores.dtype).min or float('-inf')).",
    "no mask": "padded keys still get attention: the mask is not applied. Push their scores to a large negative "
               "before the softmax (attention_mask[:, None, None, :] == 0 marks them).",
    "mask after softmax": "zeroing padded keys after the softmax leaves rows that no longer sum to 1: mask the "
                          "scores before the softmax, with a large negative.",
    "mask on queries": "you masked the padded queries (rows); mask the padded keys, the last axis of the scores: "
                       "attention_mask[:, None, None, :], not [:, None, :, None].",
    "softmax over queries": "softmax runs over the keys (dim=-1): each query's weights must sum to 1.",
    "probabilities": "that is the attention probabilities; return their weighted sum of the values, probs @ v.",
}


@exercise
def check_attention(masked_attention: Any) -> str:
    """``masked_attention(q, k, v, attention_mask)`` -> (batch, heads, seq, head_dim), on layer 0's real q, k, v."""
    import torch

    (q, k, v), mask = _layer0()["qkv"], _layer0()["mask"]  # layer 0's real inputs, computed once
    result = call(masked_attention, q.clone(), k.clone(), v.clone(), mask.clone(),
                  what="masked_attention(q, k, v, attention_mask)")
    if isinstance(result, tuple):
        raise Hint("return one tensor, the attention output (probs @ v), not a tuple.")
    t = as_tensor(result, "the result of masked_attention")
    if not t.is_floating_point():
        raise Hint(f"the result should be a float tensor; got dtype {t.dtype}.")
    if torch.isnan(t).any():
        raise Hint("the result contains nan: a row whose every score is -inf gives nan; here every row has real "
                   "keys, so look for inf - inf or a division by zero.")
    keep = mask.bool()[:, None, None, :]
    reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    expect_match(t, reference, "the result", hinted(_attention_mistakes(q, k, v, mask), ATTENTION_HINTS), ATOL,
                 "the result is off by up to {diff:.3g} from torch's scaled_dot_product_attention: scores "
                 "q @ k.transpose(-1, -2) / sqrt(d), padded keys at a large negative, softmax over dim=-1, then @ v.")
    diff = (t.double() - reference.double()).abs().max().item()
    return (f"your attention matches torch's scaled_dot_product_attention on layer 0's real queries, keys and values "
            f"(max difference {diff:.1e}), padded keys ignored.")


# ---------------------------------------------------------------- exercise 2: LayerNorm


def _layer_norm_mistakes(x: Any, w: Any, b: Any, eps: float) -> dict[str, Callable[[], Any]]:
    import torch

    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=False)
    return {
        "unbiased": lambda: (x - mean) / torch.sqrt(x.var(-1, keepdim=True) + eps) * w + b,
        "no weight": lambda: (x - mean) / torch.sqrt(var + eps),
        "eps outside": lambda: (x - mean) / (torch.sqrt(var) + eps) * w + b,
        "no eps": lambda: (x - mean) / torch.sqrt(var) * w + b,
        "wrong axis": lambda: (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True, unbiased=False)
                                                                          + eps) * w + b,
        "no mean": lambda: x / torch.sqrt(var + eps) * w + b,
    }


LAYER_NORM_HINTS = {
    "unbiased": "torch.var and torch.std divide by n - 1 by default; LayerNorm divides by n: use "
                "x.var(dim=-1, unbiased=False), or the mean of (x - mean) ** 2.",
    "no weight": "normalised, but not scaled and shifted: multiply by weight and add bias at the end.",
    "eps outside": "eps goes inside the square root: (x - mean) / sqrt(var + eps), not / (std + eps) (the check's "
                   "second case uses a large eps, where that shows).",
    "no eps": "eps is missing: divide by sqrt(var + eps) (the check's second case uses a large eps, where it shows).",
    "wrong axis": "normalise each token's vector over its features: mean and variance over the last axis (dim=-1).",
    "no mean": "subtract the mean before dividing: (x - mean) / sqrt(var + eps).",
}


@exercise
def check_layer_norm(my_layer_norm: Any) -> str:
    """``my_layer_norm(x, weight, bias, eps)`` on the real summed embeddings and the embeddings' LayerNorm weights."""
    import torch

    data = _layer0()
    weights, config = _weights()
    x = data["summed"]
    w, b = weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"]
    big_eps = float(x.var(-1, unbiased=False).median())  # as large as a typical variance: where eps goes shows
    for eps, case in ((config["layer_norm_eps"], "the model's eps"), (big_eps, f"a large eps ({big_eps:.2g})")):
        result = call(my_layer_norm, x.clone(), w.clone(), b.clone(), eps, what="my_layer_norm(x, weight, bias, eps)")
        t = as_tensor(result, "the result of my_layer_norm")
        reference = torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)
        expect_match(t, reference, f"the result (with {case})", hinted(_layer_norm_mistakes(x, w, b, eps),
                     LAYER_NORM_HINTS), ATOL, f"with {case}, the result is off by up to {{diff:.3g}} from torch's "
                     "layer_norm: (x - mean) / sqrt(var + eps) * weight + bias, over the last axis, var dividing by n.")
    return ("your LayerNorm matches torch.nn.functional.layer_norm on the encoder's real embeddings, with the model's "
            "eps and with a large one.")


# ---------------------------------------------------------------- exercise 3: splitting into heads


SPLIT_HINTS = {
    "heads first": "x.view(batch, heads, seq, head_dim) cuts the memory in the wrong order and mixes tokens between "
                   "heads: first view(batch, seq, heads, head_dim), then transpose(1, 2).",
    "interleaved": "each head takes one contiguous block of head_dim features (head 0: features 0-31); "
                   "view(batch, seq, head_dim, heads) deals them out one by one instead. Use "
                   "view(batch, seq, heads, head_dim).",
}


@exercise
def check_split_heads(my_split_heads: Any) -> str:
    """``my_split_heads(x, n_heads)``: (batch, seq, hidden) -> (batch, heads, seq, head_dim), on the real queries."""
    data = _layer0()
    x, heads = data["projected"]["query"], data["heads"]
    batch, seq, hidden = x.shape
    d = hidden // heads
    result = call(my_split_heads, x.clone(), heads, what="my_split_heads(x, n_heads)")
    t = as_tensor(result, "the result of my_split_heads")
    if tuple(t.shape) == (batch, seq, heads, d):
        raise Hint(f"shape {tuple(t.shape)} is (batch, seq, heads, head_dim): transpose(1, 2) to put the heads "
                   "before the sequence, (batch, heads, seq, head_dim).")
    reference = x.view(batch, seq, heads, d).transpose(1, 2)
    expect_shape(t, reference.shape, "the result")
    mistakes = {"heads first": lambda: x.reshape(batch, heads, seq, d),
                "interleaved": lambda: x.view(batch, seq, d, heads).permute(0, 3, 1, 2)}
    expect_match(t, reference, "the result", hinted(mistakes, SPLIT_HINTS), 0.0, "the shape is right but the "
                 f"numbers are not where they belong: head h of token s should be x[:, s, h * {d}:(h + 1) * {d}].")
    return (f"your heads are the lesson's: head h of token s is features h*{d} to (h+1)*{d} of that token's "
            "query vector.")
