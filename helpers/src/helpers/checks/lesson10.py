"""Checks for notebook 10 (the decoder by hand): RMSNorm, rotating queries with RoPE (in both layouts), repeating
key/value heads for grouped-query attention, and the KV cache's bytes per token.

Every check computes its inputs from the kit generator's real weights, reading only the few tensors it needs with
``safetensors.safe_open`` (never a second copy of the 540 MB model), and its reference with transformers' own code
(``LlamaRMSNorm``, ``apply_rotary_pos_emb``, ``repeat_kv``, the GGUF loader's row permutation, ``DynamicCache``). A
wrong answer is compared with the typical mistakes, computed on the same inputs, so the hint can say which one it is.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .core import Hint, as_int, as_tensor, call, call_traced, exercise, expect_match, hinted, kit_tokenizer

PROMPT = "The capital of France is Paris, and the capital of Italy is Rome."
ATOL = 1e-5


@functools.lru_cache(maxsize=1)
def _inputs() -> dict[str, Any]:
    """Real layer-0 inputs: the prompt's embeddings, the norm weight, q (9 heads) and k (3 heads) after the norm."""
    import json

    import torch
    from safetensors import safe_open

    from ..lessons.decoder_by_hand import rms_norm, rope_cos_sin, rope_frequencies
    from ..models import checkpoint_folder

    folder = checkpoint_folder("generator", weights=True)
    config = json.loads((folder / "config.json").read_text())
    ids = kit_tokenizer("generator")(PROMPT).input_ids
    with safe_open(folder / "model.safetensors", framework="pt") as f:
        table = f.get_slice("model.embed_tokens.weight")
        x = torch.cat([table[i:i + 1] for i in ids])[None].float()  # (1, seq, hidden): only the prompt's rows
        p = "model.layers.0."  # float(): a copy in float32 (the Hub's original file is bfloat16)
        norm = f.get_tensor(p + "input_layernorm.weight").float().clone()
        wq = f.get_tensor(p + "self_attn.q_proj.weight").float().clone()
        wk = f.get_tensor(p + "self_attn.k_proj.weight").float().clone()
    heads, kv_heads, d = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    with torch.no_grad():
        h = rms_norm(x, norm, config["rms_norm_eps"])
        q = (h @ wq.T).view(1, len(ids), heads, d).transpose(1, 2)
        k = (h @ wk.T).view(1, len(ids), kv_heads, d).transpose(1, 2)
        # the same projections with each head's rows in the GGUF file's (interleaved) order: exercise 4
        q_gguf = (h @ to_gguf_rows(wq, heads).T).view(1, len(ids), heads, d).transpose(1, 2)
        k_gguf = (h @ to_gguf_rows(wk, kv_heads).T).view(1, len(ids), kv_heads, d).transpose(1, 2)
    cos, sin = rope_cos_sin(torch.arange(len(ids)), rope_frequencies(config))
    return {"config": config, "x": x, "norm": norm, "q": q, "k": k, "cos": cos, "sin": sin, "wq": wq,
            "q_gguf": q_gguf, "k_gguf": k_gguf}


def to_gguf_rows(w: Any, heads: int) -> Any:
    """The rows of a q_proj or k_proj weight in the order llama.cpp's GGUF files (and Meta's original checkpoints)
    keep them: per head, feature i of the first half and feature i of the second half become neighbours 2i, 2i + 1.
    It is the inverse of transformers' GGUF loader, ``LlamaTensorProcessor._reverse_permute_weights`` (checked by
    :func:`check_rope_interleaved`)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def _neighbour_partner(x: Any) -> Any:
    """(-b, a) for every neighbour pair (a, b) = features (2i, 2i + 1): the partner in the interleaved layout."""
    import torch

    pairs = x.unflatten(-1, (-1, 2))
    return torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)


def _interleaved_angles(c: Any) -> Any:
    """cos or sin in the halves layout (theta_i in columns i and i + half) laid out for neighbour pairs: theta_0,
    theta_0, theta_1, theta_1, ..."""
    return c[..., :c.shape[-1] // 2].repeat_interleave(2, dim=-1)


def _call_rope(fn: Any, x: Any, cos: Any, sin: Any, what: str, interleaved: bool = False) -> Any:
    """Call a learner's rotation; a torch operation that fails on the shapes (a half of x against the full-width cos
    or sin, or cos and sin reshaped) gets its own hint instead of torch's error message."""
    half, full = x.shape[-1] // 2, x.shape[-1]

    def slip(operation: str, shapes: list, error: Exception) -> str | None:
        halves = any(half in shape[-2:] for shape in shapes)  # a half of x, or its 32 pairs
        if halves and any(full in shape for shape in shapes if shape != tuple(x.shape)):  # ... met cos's 64
            fix = (f"Take cos[..., :{half}] and repeat each angle twice in place (theta_0, theta_0, theta_1, ...) to "
                   f"multiply the whole x, or use cos[..., :{half}] with the {half} pairs directly." if interleaved else
                   f"Multiply the whole x by cos (and the rotated x by sin), or use cos[..., :{half}] with the halves.")
            return (f"{half} features or pairs of x met the full-width cos or sin ({full}): rope_cos_sin writes each "
                    f"angle twice, once per half, so cos[..., :{half}] holds each pair's angle once. {fix}")
        if "must match the size" in str(error):
            return (f"x, cos and sin did not broadcast: x is {tuple(x.shape)} = (batch, heads, seq, head_dim) and "
                    f"cos, sin are {tuple(cos.shape)} = (seq, head_dim), which broadcast against x as they are: no "
                    "transposing or reshaping needed.")
        return None

    return as_tensor(call_traced(fn, x.clone(), cos.clone(), sin.clone(), what=what, slip=slip),
                     f"the result of {what}")


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
    "whole tensor": "x.pow(2).mean() without dim averages over the whole tensor: each token's vector gets its own "
                    "RMS, x.pow(2).mean(dim=-1, keepdim=True).",
    "eps added outside": "eps is added to the result: it belongs inside the square root, sqrt(mean(x ** 2) + eps).",
    "n - 1": "the mean square divides the sum of squares by n (the number of features), not n - 1.",
    "gemma": "(1 + weight) is Gemma's RMSNorm; Llama's multiplies by the weight itself.",
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
        "whole tensor": lambda: x * torch.rsqrt(x.pow(2).mean() + eps) * w,
        "eps added outside": lambda: x * torch.rsqrt(ms) * w + eps,
        "n - 1": lambda: x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) / (x.shape[-1] - 1) + eps) * w,
        "gemma": lambda: x * torch.rsqrt(ms + eps) * (1 + w),
    }


def _rms_slip(x: Any) -> Callable[[str, list, Exception], str | None]:
    def slip(operation: str, shapes: list, error: Exception) -> str | None:
        if tuple(x.shape) in shapes and tuple(x.shape[:-1]) in shapes:  # (batch, seq, hidden) against (batch, seq)
            return ("the mean over the last axis lost that axis, so it cannot divide x feature by feature: keep it "
                    "with x.pow(2).mean(dim=-1, keepdim=True).")
        return None

    return slip


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
        t = as_tensor(call_traced(my_rms_norm, x.clone(), w.clone(), eps, what="my_rms_norm(x, weight, eps)",
                                  slip=_rms_slip(x)), "the result of my_rms_norm")
        expect_match(t, reference, f"the result (with {case})", hinted(_rms_mistakes(x, w, eps), RMS_HINTS), ATOL,
                     f"with {case}, the result is off by up to {{diff:.3g}} from transformers' LlamaRMSNorm: "
                     "x / sqrt(mean(x ** 2 over the last axis) + eps) * weight.")
    return ("your RMSNorm matches transformers' LlamaRMSNorm on the generator's real embeddings, with the model's eps "
            "and with a large one.")


# ---------------------------------------------------------------- exercise 2: RoPE


ROPE_HINTS = {
    "neighbours": "you rotated neighbouring features (0, 1), (2, 3), ... with cos and sin as laid out for the "
                  "halves: in this layout pair i is feature i and feature i + head_dim/2 (the two halves). Split "
                  "with x.chunk(2, dim=-1).",
    "sign flipped": "the rotation goes the wrong way: the rotated half is cat([-second, first]), not "
                    "cat([second, -first]).",
    "cos sin swapped": "cos and sin are swapped: x * cos + rotate_half(x) * sin.",
    "no rotation": "the result is x itself: multiply x by cos and add rotate_half(x) times sin.",
    "only rotate_half": "that is only the rotated half; the rotation is x * cos + rotate_half(x) * sin.",
    "halves not swapped": "(-first, second) is not a rotation: the rotated half is cat([-second, first]).",
    "cos twice": "the rotated half is multiplied by sin, not cos: x * cos + rotate_half(x) * sin.",
    "sin only": "the x * cos part is missing: x * cos + rotate_half(x) * sin.",
    "interleaved": "you rotated neighbouring features (2i, 2i + 1), each pair by its own angle: that is the "
                   "interleaved layout (the GGUF file's, exercise 4). This checkpoint's rows are in the halves "
                   "layout: pair i is feature i and feature i + head_dim/2. Split with x.chunk(2, dim=-1).",
}


def _rope_mistakes(x: Any, cos: Any, sin: Any) -> dict[str, Callable[[], Any]]:
    import torch

    first, second = x.chunk(2, dim=-1)
    half = torch.cat([-second, first], dim=-1)
    neighbours = _neighbour_partner(x)
    return {
        "neighbours": lambda: x * cos + neighbours * sin,
        "interleaved": lambda: x * _interleaved_angles(cos) + neighbours * _interleaved_angles(sin),
        "cos twice": lambda: x * cos + half * cos,
        "sin only": lambda: x * sin,
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
    t = _call_rope(my_apply_rope, q, cos, sin, "my_apply_rope(x, cos, sin)")
    expect_match(t, reference, "the result", hinted(_rope_mistakes(q, cos, sin), ROPE_HINTS), ATOL,
                 "the result is off by up to {diff:.3g} from transformers' apply_rotary_pos_emb: "
                 "x * cos + rotate_half(x) * sin, rotate_half(x) = cat([-second half, first half]).")
    return "your rotation matches transformers' apply_rotary_pos_emb on layer 0's real queries."


# ---------------------------------------------------------------- exercise 3: repeat_kv


REPEAT_HINTS = {
    "tiled": "x.repeat(1, n_rep, 1, 1) tiles the heads as 0, 1, 2, 0, 1, 2, ...: then query heads 0-2 would use "
             "kv heads 0, 1, 2. Each kv head serves n_rep NEIGHBOURING query heads: the order must be 0, 0, 0, 1, 1, "
             "1, 2, 2, 2.",
    "sequence": "you repeated along the sequence axis (dim=2); the heads are axis 1.",
}


@exercise
def check_repeat_kv(my_repeat_kv: Any) -> str:
    """``my_repeat_kv(x, n_rep)``: (batch, kv_heads, seq, d) -> (batch, kv_heads * n_rep, seq, d), real keys."""
    from transformers.models.llama.modeling_llama import repeat_kv

    k, config = _inputs()["k"], _inputs()["config"]  # the real keys of layer 0, computed once
    n_rep = config["num_attention_heads"] // config["num_key_value_heads"]
    reference = repeat_kv(k, n_rep)
    def slip(operation: str, shapes: list, error: Exception) -> str | None:
        if operation == "expand":
            return ("expand can only stretch an axis of size 1: add one first, x[:, :, None] is (batch, kv_heads, 1, "
                    "seq, d); expand that axis to n_rep, then reshape to (batch, kv_heads * n_rep, seq, d).")
        return None

    t = as_tensor(call_traced(my_repeat_kv, k.clone(), n_rep, what="my_repeat_kv(x, n_rep)", slip=slip),
                  "the result of my_repeat_kv")
    if t.ndim == 5:
        raise Hint(f"the result has 5 axes {tuple(t.shape)}: after expanding, reshape to "
                   f"(batch, kv_heads * n_rep, seq, d) = {tuple(reference.shape)}.")
    mistakes = {"tiled": lambda: k.repeat(1, n_rep, 1, 1), "sequence": lambda: k.repeat_interleave(n_rep, dim=2)}
    expect_match(t, reference, "the result", hinted(mistakes, REPEAT_HINTS), 0.0,
                 "the shape is right but the heads are not in place: query head h uses kv head h // n_rep.")
    return (f"your repeat matches transformers' repeat_kv: {k.shape[1]} kv heads, each serving {n_rep} query heads "
            "in a row.")


# ---------------------------------------------------------------- exercise 4: the interleaved RoPE layout


INTERLEAVED_HINTS = {
    "halves": "that is section 4's halves layout (pair i = features i and i + 32). Here the rows are in the GGUF's "
              "order: pair i is the NEIGHBOURS 2i and 2i + 1, so the partner of (a, b) = (x[2i], x[2i + 1]) is "
              "(-b, a).",
    "halves angles": "pair (2i, 2i + 1) turns by theta_i, which rope_cos_sin puts in column i (and again in "
                     "i + 32); you gave features 2i and 2i + 1 the angles of columns 2i and 2i + 1. Take the first "
                     "half of cos (and sin) and repeat each angle twice in place: theta_0, theta_0, theta_1, ...",
    "every other angle": "cos[..., ::2] picks columns 0, 2, 4, ...: theta_0, theta_2, ... The angle of pair i is "
                         "column i: take the first half, cos[..., :32], then repeat each angle twice in place.",
    "sign flipped": "the rotation goes the wrong way: the partner of (a, b) is (-b, a), not (b, -a).",
    "not swapped": "(-a, b) is not a rotation: the partner of the pair (a, b) is (-b, a).",
    "cos sin swapped": "cos and sin are swapped: x * cos + partner * sin.",
    "no rotation": "the result is x itself: turn every pair, x * cos + partner * sin.",
}


def _interleaved_mistakes(x: Any, cos: Any, sin: Any) -> dict[str, Callable[[], Any]]:
    import torch

    first, second = x.chunk(2, dim=-1)
    pairs = x.unflatten(-1, (-1, 2))
    c, s = _interleaved_angles(cos), _interleaved_angles(sin)
    partner = _neighbour_partner(x)
    half = x.shape[-1] // 2
    return {
        "halves": lambda: x * cos + torch.cat([-second, first], dim=-1) * sin,
        "halves angles": lambda: x * cos + partner * sin,
        "every other angle": lambda: (x * cos[..., ::2].repeat_interleave(2, dim=-1)
                                      + partner * sin[..., ::2].repeat_interleave(2, dim=-1)),
        "sign flipped": lambda: x * c - partner * s,
        "not swapped": lambda: x * c + torch.stack([-pairs[..., 0], pairs[..., 1]], dim=-1).flatten(-2) * s,
        "cos sin swapped": lambda: x * s + partner * c,
        "no rotation": lambda: x,
        "tiled angles": lambda: x * cos[..., :half].repeat(1, 2) + partner * sin[..., :half].repeat(1, 2),
    }


@exercise
def check_rope_interleaved(my_rope_interleaved: Any) -> str:
    """``my_rope_interleaved(x, cos, sin)`` on layer 0's queries and keys with each head's rows in the GGUF order."""
    import torch
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb, repeat_kv

    data = _inputs()
    config, cos, sin = data["config"], data["cos"], data["sin"]
    heads, kv_heads, d = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    loader = LlamaTensorProcessor(config=dict(config))  # what built the kit: GGUF rows -> the halves layout
    back = loader._reverse_permute_weights(to_gguf_rows(data["wq"], heads).numpy(), heads, heads)
    assert torch.equal(torch.from_numpy(back), data["wq"]), "to_gguf_rows is not the inverse of the GGUF loader's"
    q_ref, k_ref = apply_rotary_pos_emb(data["q"], data["k"], cos[None], sin[None])  # the library, halves layout
    renumber = torch.arange(d).view(2, d // 2).T.flatten()  # GGUF feature j is feature renumber[j] of the halves
    q_mine = _call_rope(my_rope_interleaved, data["q_gguf"], cos, sin, "my_rope_interleaved(x, cos, sin)", True)
    mistakes = hinted(_interleaved_mistakes(data["q_gguf"], cos, sin),
                      dict(INTERLEAVED_HINTS, **{"tiled angles": INTERLEAVED_HINTS["halves angles"]}))
    expect_match(q_mine, q_ref[..., renumber], "the rotated queries", mistakes, ATOL,
                 "the rotated queries are off by up to {diff:.3g} from the library's (renumbered to the GGUF "
                 "order): x * cos + partner * sin, partner of (a, b) = (-b, a), the angle of pair i = column i.")
    k_mine = _call_rope(my_rope_interleaved, data["k_gguf"], cos, sin, "my_rope_interleaved on the keys", True)
    expect_match(k_mine, k_ref[..., renumber], "the rotated keys", (), ATOL)
    scores = q_mine @ repeat_kv(k_mine, heads // kv_heads).transpose(-1, -2)
    diff = (scores - q_ref @ repeat_kv(k_ref, heads // kv_heads).transpose(-1, -2)).abs().max().item()
    return (f"on the GGUF's row order your rotation gives the library's attention scores (max |difference| "
            f"{diff:.1e}) and, renumbered, its rotated queries and keys: one rotation, two numberings of the "
            "features, and the loader's row permutation turns one into the other.")


# ---------------------------------------------------------------- exercise 5: the KV cache's bytes per token


# config.json numbers of the cases the check computes, besides the generator's own (Llama 3 8B's are public)
LLAMA3_8B = {"num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
             "hidden_size": 4096}


def _cache_bytes_per_token(config: dict, dtype: Any, tokens: int = 4) -> int:
    """Bytes per token of transformers' own DynamicCache, filled with ``tokens`` positions for every layer."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache()
    shape = (1, config["num_key_value_heads"], tokens, config["head_dim"])
    for layer in range(config["num_hidden_layers"]):
        cache.update(torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype), layer)
    total = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
    assert total % tokens == 0
    return total // tokens


def _kv_mistakes(config: dict, b: int) -> dict[str, int]:
    layers, kv, q_heads, d = (config[k] for k in ("num_hidden_layers", "num_key_value_heads", "num_attention_heads",
                                                  "head_dim"))
    return {
        "query heads": layers * 2 * q_heads * d * b,
        "hidden size": layers * 2 * config["hidden_size"] * b,
        "keys only": layers * kv * d * b,
        "one layer": 2 * kv * d * b,
        "bits": layers * 2 * kv * d * b * 8,
        "float32 always": layers * 2 * kv * d * 4,
        "queries too": layers * 3 * kv * d * b,
        "numbers": layers * 2 * kv * d,
    }


KV_HINTS = {
    "query heads": "The cache keeps the KEY/VALUE heads (num_key_value_heads), not the query heads "
                   "(num_attention_heads): repeat_kv comes after the cache, which stores the small version.",
    "hidden size": "hidden_size is 9 query heads x 64: the cache keeps num_key_value_heads x head_dim numbers per "
                   "key (and as many per value).",
    "keys only": "That counts the keys only: every position keeps a key AND a value in every layer (x 2).",
    "one layer": "That is one layer's cache: every one of the num_hidden_layers layers keeps its own.",
    "bits": "That is 8 times too many: bytes_per_number is already in bytes (bits / 8).",
    "float32 always": "bytes_per_number is the size of one number (4 for float32, 2 for bfloat16): multiply by it "
                      "instead of a fixed 4.",
    "queries too": "The queries are not cached: a past token's query is never used again; only its key and value.",
    "numbers": "That counts numbers, not bytes: multiply by bytes_per_number.",
}


@exercise
def check_kv_bytes_per_token(my_kv_bytes_per_token: Any, config: Any) -> str:
    """``my_kv_bytes_per_token(config, bytes_per_number)`` against transformers' DynamicCache, filled for real."""
    import torch

    if not isinstance(config, dict) or "num_key_value_heads" not in config:
        raise Hint("pass the generator's config (the dict read from config.json in section 2) as the second argument.")
    full_heads = dict(config, num_key_value_heads=config["num_attention_heads"])
    cases = ((config, 4, torch.float32, "the generator's config, float32"),
             (full_heads, 4, torch.float32, "the generator with 9 key/value heads (no grouping), float32"),
             (config, 2, torch.bfloat16, "the generator's config, bfloat16"),
             (LLAMA3_8B, 2, torch.bfloat16, "Llama 3 8B's config numbers, bfloat16"))
    found, answers = {}, []
    for case, b, dtype, what in cases:
        mine = as_int(call(my_kv_bytes_per_token, dict(case), b, what="my_kv_bytes_per_token(config, b)"),
                      f"my_kv_bytes_per_token for {what}", whole_floats=True)
        found[what] = want = _cache_bytes_per_token(case, dtype)
        answers.append(mine)
        if mine == want:
            continue
        for name, wrong in _kv_mistakes(case, b).items():
            if mine == wrong and wrong != want:
                raise Hint(f"for {what} you say {mine:,} bytes per token. {KV_HINTS[name]}")
        if len(set(answers)) == 1 and len(answers) > 1:
            raise Hint(f"for {what} you say {mine:,} bytes per token again: the answer depends on the config and on "
                       "bytes_per_number; compute it from config's numbers, not from a number printed above.")
        raise Hint(f"for {what} you say {mine:,} bytes per token; a DynamicCache holds {want:,}. Per token, every "
                   "layer keeps one key and one value per key/value head, head_dim numbers each.")
    gqa, full = found[cases[0][3]], found[cases[1][3]]
    context = config.get("max_position_embeddings", 8192)
    return (f"your formula matches transformers' DynamicCache in all {len(cases)} cases: the generator's cache grows "
            f"by {gqa:,} bytes per token in float32, {full:,} ({full // gqa}x) with 9 key/value heads; at its full "
            f"context of {context:,} tokens, {gqa * context / 1e6:,.0f} MB against {full * context / 1e6:,.0f} MB. "
            f"Llama 3 8B in bfloat16: {found[cases[3][3]] // 1024} KiB per token.")
