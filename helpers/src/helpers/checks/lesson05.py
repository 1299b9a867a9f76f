"""Checks for notebook 05 (the encoder by hand): attention that is causal and padded, the number of numbers in one
encoder layer, and LayerNorm.

Every check computes its inputs from the kit encoder's real weights (read with ``safetensors``, run through the
lesson's own, proved code from ``helpers.lessons.encoder_by_hand``) and its reference with a library: torch's
``scaled_dot_product_attention`` and ``layer_norm``, transformers' ``BertLayer``. A wrong answer is compared with the
typical mistakes computed on the same inputs, so the hint can say which one it is. A shape slip inside the learner's
function (``q @ k.T`` on 4-D tensors, a mean without ``keepdim``) is named by the torch operation that failed and the
shapes it was given (:func:`helpers.checks.core.call_traced`), not shown as a raw ``RuntimeError``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

from .core import (Hint, as_int, as_tensor, call, call_traced, close, exercise, expect_close, expect_match,
                   expect_shape, hinted, keepdim_slip, kit_tokenizer)

# Very different lengths: two of the three rows are padded, so a missing or wrong mask shows.
SENTENCES = ("I hate this so much!", "I've been waiting for a HuggingFace course my whole life.", "Yes.")
ATOL = 1e-5


@functools.lru_cache(maxsize=1)
def _weights() -> tuple[dict[str, Any], dict[str, Any]]:
    import json

    from safetensors.torch import load_file

    from ..models import checkpoint_folder

    folder = checkpoint_folder("encoder", weights=True)
    return load_file(folder / "model.safetensors"), json.loads((folder / "config.json").read_text())


@functools.lru_cache(maxsize=2)
def _layer0(padding_side: str = "right") -> dict[str, Any]:
    """Real inputs of layer 0 on SENTENCES padded on ``padding_side``: the embedding sum before LayerNorm, the
    embeddings, and q, k, v split into heads."""
    import torch

    from ..lessons.encoder_by_hand import embed, linear, split_heads

    weights, config = _weights()
    batch = kit_tokenizer("encoder")(list(SENTENCES), padding=True, padding_side=padding_side, return_tensors="pt")
    ids, types = batch["input_ids"], batch["token_type_ids"]
    with torch.no_grad():
        summed = (weights["embeddings.word_embeddings.weight"][ids]
                  + weights["embeddings.position_embeddings.weight"][torch.arange(ids.shape[1])]
                  + weights["embeddings.token_type_embeddings.weight"][types])
        x = embed(weights, config, ids, types)
        projected = {n: linear(x, weights, f"encoder.layer.0.attention.self.{n}") for n in ("query", "key", "value")}
    heads = config["num_attention_heads"]
    return {"mask": batch["attention_mask"], "summed": summed, "x": x, "heads": heads,
            "qkv": tuple(split_heads(projected[n], heads) for n in ("query", "key", "value"))}


# ---------------------------------------------------------------- exercise 1: attention, causal and padded

MATMUL = ("__matmul__", "matmul", "bmm", "__rmatmul__")


def _attention_slip(q_shape: tuple[int, ...]) -> Callable[[str, list, Exception], str | None]:
    """Hints for the shape and dtype slips of an attention written on (batch, heads, seq, head_dim) tensors."""
    b, h, s, d = q_shape
    scores, padding = (b, h, s, s), (b, s)

    def slip(op: str, shapes: list, error: Exception) -> str | None:
        if op in MATMUL and len(shapes) == 2:
            first, second = shapes
            if second == scores:
                return "weights @ v, not v @ weights: the weights' last axis (the keys) meets the values' seq axis."
            if first == q_shape:
                return (f"q @ k needs the keys as (batch, heads, head_dim, seq) {(b, h, d, s)}; yours were {second}. "
                        "Swap the last two axes only: k.transpose(-1, -2) (on a 4-D tensor, k.T reverses all four).")
            if first == scores:
                return (f"the weights {scores} = (batch, heads, query, key) multiply the values as they are, "
                        f"(batch, heads, key, head_dim) {q_shape}: weights @ v, with no transpose.")
        message = str(error)
        if op.startswith("masked_fill") and "bool" in message:
            return ("masked_fill needs a True/False mask: compare (attention_mask == 0 is True at padding) instead "
                    "of passing the 0/1 integers.")
        if op in ("__and__", "__or__", "__iand__", "logical_and", "bitwise_and") and "not implemented" in message:
            return ("& combines True/False tensors: build the causal part as torch.ones(seq, seq, dtype=torch.bool)"
                    ".tril() and the padding part as attention_mask.bool() (or == 1).")
        if any(shape in (padding, (b, 1, s), (b, s, 1), (b, s, s)) for shape in shapes):
            mask = next(shape for shape in shapes if shape in (padding, (b, 1, s), (b, s, 1), (b, s, s)))
            return (f"a mask of shape {mask} does not line up with the scores {scores} = (batch, heads, query, key): "
                    "give it the missing axes, attention_mask[:, None, None, :] for the keys (batch, 1, 1, key), "
                    "which combines with the causal (query, key) part into (batch, 1, query, key).")
        return None

    return slip


def _allowed(mask: Any, causal: str = "tril", padding: str = "keys", combine: str = "and") -> Any:
    """(batch, 1, query, key) True where query i may attend to key j; the keywords build the typical wrong masks."""
    import torch

    s = mask.shape[1]
    square = torch.ones(s, s, dtype=torch.bool)
    past = {"tril": square.tril(), "triu": square.triu(), "strict": square.tril(-1), "none": square}[causal]
    real = mask.bool()
    pad = {"keys": real[:, None, None, :], "queries": real[:, None, :, None], "none": torch.ones_like(real)[:, None,
           None, :], "lengths": (torch.arange(s) < real.sum(1, keepdim=True))[:, None, None, :]}[padding]
    return past & pad if combine == "and" else past | pad


def _attend(q: Any, k: Any, v: Any, allowed: Any, scale: float | None = None, fill: float | None = None,
            dim: int = -1, weights: bool = False) -> Any:
    import torch

    scores = q @ k.transpose(-1, -2) / (math.sqrt(q.shape[-1]) if scale is None else scale)
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min if fill is None else fill)
    probs = torch.softmax(scores, dim=dim)
    return probs if weights else probs @ v


def _causal_mistakes(q: Any, k: Any, v: Any, mask: Any) -> dict[str, Callable[[], Any]]:
    allowed = _allowed(mask)
    return {
        "no causal": lambda: _attend(q, k, v, _allowed(mask, causal="none")),
        "no padding": lambda: _attend(q, k, v, _allowed(mask, padding="none")),
        "future": lambda: _attend(q, k, v, _allowed(mask, causal="triu")),
        "no diagonal": lambda: _attend(q, k, v, _allowed(mask, causal="strict")),
        "either": lambda: _attend(q, k, v, _allowed(mask, combine="or")),
        "lengths": lambda: _attend(q, k, v, _allowed(mask, padding="lengths")),
        "padded queries": lambda: _attend(q, k, v, _allowed(mask, padding="queries")),
        "no scale": lambda: _attend(q, k, v, allowed, scale=1.0),
        "scale 1/d": lambda: _attend(q, k, v, allowed, scale=q.shape[-1]),
        "mask with 0": lambda: _attend(q, k, v, allowed, fill=0.0),
        "softmax over queries": lambda: _attend(q, k, v, allowed, dim=-2),
        "probabilities": lambda: _attend(q, k, v, allowed, weights=True),
    }


CAUSAL_HINTS = {
    "no causal": "every query also attends to the keys after it: a causal mask allows key j only when j <= i "
                 "(torch.tril of a (seq, seq) matrix of True), on top of the padding mask.",
    "no padding": "queries attend to padded keys: the causal part is right, but a key must also be real "
                  "(attention_mask[:, None, None, :] == 1). With right padding it cannot show (padding comes after "
                  "every real token); with left padding it does.",
    "future": "each query attends to itself and the keys after it: that is torch.triu. Causal means the past, "
              "key j <= query i: torch.tril.",
    "no diagonal": "a token may attend to itself: key j <= query i includes j = i (tril, not tril(diagonal=-1)).",
    "either": "a key must pass both tests, causal AND real: combine the two masks with &, not |.",
    "lengths": "with left padding your mask is wrong: the real tokens are not always the first ones. Build the "
               "padding part from attention_mask itself, not from the lengths.",
    "padded queries": "you masked the padded queries (rows); mask the padded keys, the last axis of the scores: "
                      "attention_mask[:, None, None, :], not [:, None, :, None].",
    "no scale": "you forgot the scale: divide the scores q @ k.transpose(-1, -2) by sqrt(d), d = q.shape[-1], the "
                "head size.",
    "scale 1/d": "you divided the scores by d; the scale is 1/sqrt(d) (math.sqrt(q.shape[-1])).",
    "mask with 0": "masked keys got a score of 0, which is an ordinary score: softmax gives it exp(0) = 1. Give "
                   "them a large negative instead (masked_fill with torch.finfo(scores.dtype).min).",
    "softmax over queries": "softmax runs over the keys (dim=-1): each query's weights must sum to 1.",
    "probabilities": "that is the attention weights; return their weighted sum of the values, weights @ v.",
}

LEFT_PADDING_NAN = (
    "your output has nan in the padded rows of a left-padded sentence: those queries come before every real token, "
    "so no key is allowed, every score is -inf and softmax gives 0/0 = nan. It would not stay there: the next layer "
    "gives that position a weight of exactly 0 as a key, and 0 * nan = nan. Fill with "
    "torch.finfo(scores.dtype).min instead of -inf (a row of them gives finite weights), as transformers does.")


@exercise
def check_causal_attention(causal_attention: Any) -> str:
    """``causal_attention(q, k, v, attention_mask)`` on layer 0's real q, k, v, padded on the right and on the left.

    A mistake is named only if it explains the answer on both sides: with right padding some differ from each other
    in nothing (a causal mask without the padding part is right there), with left padding they do."""
    import torch

    what = "causal_attention(q, k, v, attention_mask)"
    sides = {}
    for side in ("right", "left"):
        data = _layer0(side)
        (q, k, v), mask = data["qkv"], data["mask"]
        result = call_traced(causal_attention, q.clone(), k.clone(), v.clone(), mask.clone(), what=what,
                         slip=_attention_slip(tuple(q.shape)))
        if isinstance(result, tuple):
            raise Hint("return one tensor, the attention output (weights @ v), not a tuple.")
        t = as_tensor(result, f"the result of {what}")
        if not t.is_floating_point():
            raise Hint(f"the result should be a float tensor; got dtype {t.dtype}.")
        weights_shape = tuple(q.shape[:-1]) + (q.shape[-2],)
        expect_shape(t, q.shape, f"the result ({side} padding)", {weights_shape: CAUSAL_HINTS["probabilities"]})
        rows = mask.bool()[:, None, :].expand(-1, q.shape[1], -1)  # (batch, heads, query): the real queries
        if torch.isnan(t[rows]).any():
            raise Hint("a real token's output is nan: all its scores were -inf, so no key was allowed. Every real "
                       "token may attend at least to itself (key j = query i): check the diagonal, and which value "
                       "of attention_mask means padding (0).")
        if torch.isnan(t).any():
            raise Hint(LEFT_PADDING_NAN)
        reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=_allowed(mask))
        sides[side] = (t[rows], reference[rows], _causal_mistakes(q, k, v, mask), rows)
    if all(close(t, reference, ATOL) for t, reference, _, _ in sides.values()):
        return ("your attention equals torch's scaled_dot_product_attention with a causal and padded mask on layer "
                "0's real queries, keys and values, padded on the right and on the left, and stays finite "
                "everywhere.")
    for name, hint in CAUSAL_HINTS.items():
        wrong = [mistakes[name]()[rows] for _, _, mistakes, rows in sides.values()]
        if (all(close(t, w, ATOL) for (t, _, _, _), w in zip(sides.values(), wrong))
                and not all(close(w, reference, ATOL) for (_, reference, _, _), w in zip(sides.values(), wrong))):
            raise Hint(hint)
    side, (t, reference, _, _) = next((s, v) for s, v in sides.items() if not close(v[0], v[1], ATOL))
    expect_close(t, reference, f"the real tokens' outputs ({side} padding)", ATOL,
                 f"with {side} padding the real tokens' outputs are off by up to {{diff:.3g}} from torch's "
                 "scaled_dot_product_attention: scores q @ k.transpose(-1, -2) / sqrt(d), a large negative where key "
                 "j > query i or key j is padding, softmax over dim=-1, then @ v.")
    raise Hint("the real tokens' outputs differ from torch's scaled_dot_product_attention.")  # not reached


# ---------------------------------------------------------------- exercise 2: the numbers in one layer

OTHER_SIZES = ({"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12},  # BERT-base
               {"hidden_size": 64, "intermediate_size": 100, "num_attention_heads": 4})  # small, not 4 x hidden


def _library_count(sizes: dict[str, int]) -> int:
    """transformers' own BertLayer at these sizes, built on the meta device (shapes only, no memory), counted."""
    import torch
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertLayer

    with torch.device("meta"):
        layer = BertLayer(BertConfig(**sizes))
    return sum(p.numel() for p in layer.parameters())


def _count_mistakes(config: dict[str, Any]) -> dict[str, int]:
    h, i, heads, layers = (config[k] for k in ("hidden_size", "intermediate_size", "num_attention_heads",
                                               "num_hidden_layers"))

    def total(projections: int = 4, ffn: int = i, biases: bool = True, norms: int = 2) -> int:
        return projections * (h * h + h * biases) + 2 * h * ffn + (ffn + h) * biases + norms * 2 * h

    return {"weights only": total(biases=False, norms=0), "no biases": total(biases=False),
            "no norms": total(norms=0), "one norm": total(norms=1), "three projections": total(projections=3),
            "4 x hidden": total(ffn=4 * h), "per head": total(projections=4 * heads),
            "all layers": layers * total()}


COUNT_HINTS = {
    "weights only": "you counted the weight matrices only: every dense layer also has a bias (one number per output), "
                    "and each of the two LayerNorms a weight and a bias (hidden numbers each).",
    "no biases": "the dense layers' biases are missing: one number per output of each of the six dense layers.",
    "no norms": "the two LayerNorms are missing (after attention and after the feed-forward): a weight and a bias of "
                "hidden numbers each.",
    "one norm": "one LayerNorm short: a layer has two, after attention and after the feed-forward.",
    "three projections": "attention has four hidden x hidden projections: query, key, value and the output "
                         "projection (attention.output.dense).",
    "4 x hidden": "you assumed intermediate_size = 4 x hidden_size; it is often so, not always: read it from the "
                  "config.",
    "per head": "the heads do not have matrices of their own: each projection's outputs are cut into blocks, one "
                "per head, so the number of heads does not change the count.",
    "all layers": "that counts all num_hidden_layers layers: count one.",
}


@exercise
def check_layer_parameters(layer_parameters: Any) -> str:
    """``layer_parameters(config)``: the file's layer 0 and transformers' BertLayer at two other sizes."""
    weights, config = _weights()
    file_count = sum(t.numel() for name, t in weights.items() if name.startswith("encoder.layer.0."))
    cases = [(dict(config), file_count, "the kit's encoder (its layer 0 in the file)")]
    cases += [(dict(config, **sizes), _library_count(sizes), f"transformers' BertLayer with hidden_size "
               f"{sizes['hidden_size']}, intermediate_size {sizes['intermediate_size']}") for sizes in OTHER_SIZES]
    answers = []
    for cfg, reference, _ in cases:
        got = call(layer_parameters, dict(cfg), what="layer_parameters(config)")
        answers.append(as_int(got, "layer_parameters(config)", whole_floats=True))
    references = [reference for _, reference, _ in cases]
    if answers != references:
        wrong = [_count_mistakes(cfg) for cfg, _, _ in cases]
        for name, hint in COUNT_HINTS.items():
            counts = [w[name] for w in wrong]
            if counts == answers and counts != references:
                raise Hint(hint)
        got, reference, where = next(c for c in zip(answers, references, (w for _, _, w in cases)) if c[0] != c[1])
        raise Hint(f"for {where} your count is {got:,}, off by {got - reference:+,}: list one layer's tensors in "
                   "section 2's table (encoder.layer.N...) and add up the products of their shapes.")
    return (f"one layer of the kit's encoder holds {file_count:,} numbers, the file says so too; transformers' "
            f"BertLayer agrees at two other sizes ({references[1]:,} for BERT-base's).")


# ---------------------------------------------------------------- exercise 3: LayerNorm


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
        "no sqrt": lambda: (x - mean) / (var + eps) * w + b,
        "swapped": lambda: (x - mean) / torch.sqrt(var + eps) * b + w,
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
    "no sqrt": "divide by the standard deviation, sqrt(var + eps), not by the variance.",
    "swapped": "weight scales and bias shifts: ... * weight + bias, not * bias + weight.",
}


@exercise
def check_layer_norm(my_layer_norm: Any) -> str:
    """``my_layer_norm(x, weight, bias, eps)`` on the real summed embeddings and the embeddings' LayerNorm weights."""
    import torch

    weights, config = _weights()
    x = _layer0()["summed"]
    w, b = weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"]
    big_eps = float(x.var(-1, unbiased=False).median())  # as large as a typical variance: where eps goes shows
    for eps, case in ((config["layer_norm_eps"], "the model's eps"), (big_eps, f"a large eps ({big_eps:.2g})")):
        slip = keepdim_slip(tuple(x.shape), "x.mean(dim=-1) (and var, std)", "x")
        result = call_traced(my_layer_norm, x.clone(), w.clone(), b.clone(), eps,
                             what="my_layer_norm(x, weight, bias, eps)", slip=slip)
        t = as_tensor(result, "the result of my_layer_norm")
        reference = torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)
        expect_match(t, reference, f"the result (with {case})", hinted(_layer_norm_mistakes(x, w, b, eps),
                     LAYER_NORM_HINTS), ATOL, f"with {case}, the result is off by up to {{diff:.3g}} from torch's "
                     "layer_norm: (x - mean) / sqrt(var + eps) * weight + bias, over the last axis, var dividing by n.")
    return ("your LayerNorm matches torch.nn.functional.layer_norm on the encoder's real embeddings, with the model's "
            "eps and with a large one.")
