"""Checks for notebook 04 (the model body and its shapes): max pooling with the mask, an attention shape predicted
before running the model, and a cosine-similarity matrix.

Every check computes its reference itself: real hidden states of the kit's encoder on a padded batch, the encoder's
own tokenizer and config, and torch's own normalisation.
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Sequence

from .core import Hint, as_tensor, call, exercise, expect, kit_model, kit_tokenizer

# Sentences of very different lengths, so padding is heavy and padded positions would win many maxima.
POOL_SENTENCES = ("I hate this so much!", "I've been waiting for a HuggingFace course my whole life.", "Yes.")


def _encoder() -> tuple[Any, Any]:
    return kit_tokenizer("encoder"), kit_model("encoder", "AutoModel")


@functools.lru_cache(maxsize=1)
def _padded_batch() -> tuple[Any, Any]:
    """last_hidden_state and attention_mask of the encoder on POOL_SENTENCES, padded."""
    import torch

    tokenizer, model = _encoder()
    inputs = tokenizer(list(POOL_SENTENCES), padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**inputs).last_hidden_state
    return hidden, inputs["attention_mask"]


@exercise
def check_max_pool(max_pool: Any) -> str:
    import torch

    hidden, mask = _padded_batch()
    result = call(max_pool, hidden.clone(), mask.clone(), what="max_pool(last_hidden_state, attention_mask)")
    if isinstance(result, tuple) and hasattr(result, "values") and hasattr(result, "indices"):  # torch.return_types
        raise Hint("torch.max(..., dim=1) returns (values, indices): return its .values.")
    t = as_tensor(result, "the result of max_pool").double()
    batch, seq, dim = hidden.shape
    if tuple(t.shape) == (batch, seq, dim):
        raise Hint("the result still has a sequence axis: take the maximum over the tokens (dim=1).")
    if tuple(t.shape) in ((dim,), (batch,), (seq, dim), (batch, seq)):
        raise Hint(f"the result has shape {tuple(t.shape)}: take the maximum over the sequence axis only (dim=1), "
                   f"to get one vector per sentence, shape ({batch}, {dim}).")
    expect(tuple(t.shape) == (batch, dim), f"the result has shape {tuple(t.shape)}; expected ({batch}, {dim}): "
                                           "one vector per sentence.")
    h = hidden.double()
    padding = mask.unsqueeze(-1) == 0
    reference = h.masked_fill(padding, float("-inf")).max(dim=1).values
    if bool(torch.isfinite(t).all()) and (t - reference).abs().max().item() < 1e-6:
        won = int((h.max(dim=1).values != reference).sum())
        return (f"padded positions cannot win: without the mask they would have won {won} of the "
                f"{batch * dim} (sentence, feature) maxima of this batch.")
    if torch.allclose(t, h.max(dim=1).values, atol=1e-6):
        raise Hint("that is the maximum over every position, padding included: padded vectors are not zero and "
                   "win some features. Take them out of the race with the mask first.")
    if torch.allclose(t, h.masked_fill(padding, 0.0).max(dim=1).values, atol=1e-6):
        raise Hint("padding set to 0 still wins every feature that is negative at all the real tokens (max = 0): "
                   "fill padded positions with float('-inf') instead (masked_fill).")
    expect(bool(torch.isfinite(t).all()), "the result contains inf or nan: every sentence has real tokens, so "
                                          "its maximum over them is finite.")
    diff = (t - reference).abs().max().item()
    expect(diff < 1e-6, f"the result is off by up to {diff:.3g} from the maximum over the real tokens: "
                        "mask out padded positions, then take the maximum over dim=1.")
    return "your max pooling matches the masked maximum."


def _as_shape(value: Any) -> tuple[int, ...]:
    if value is None:
        raise Hint("predicted_shape is still None: write a tuple of ints, e.g. (1, 2, 3, 4).")
    if hasattr(value, "shape") and not isinstance(value, tuple):  # a tensor was given, not its shape
        raise Hint("predicted_shape should be a tuple of ints (a shape), not a tensor.")
    if not isinstance(value, (tuple, list)):  # torch.Size is a tuple
        raise Hint(f"predicted_shape should be a tuple of ints; got {type(value).__name__}.")
    try:
        return tuple(operator.index(v) for v in value)  # ints (also numpy/torch ints); 12.0 or "12" are refused
    except TypeError:
        raise Hint("predicted_shape should hold whole numbers (ints) only.") from None


@exercise
def check_attention_shape(predicted_shape: Any, sentences: Sequence[str]) -> str:
    tokenizer, model = _encoder()
    shape = _as_shape(predicted_shape)
    cfg = model.config
    batch = len(sentences)
    seq = tokenizer(list(sentences), padding=True, return_tensors="pt")["input_ids"].shape[1]
    truth = (batch, cfg.num_attention_heads, seq, seq)
    if len(shape) == 3:
        raise Hint("one attention tensor has 4 axes: (batch, heads, query positions, key positions).")
    expect(len(shape) == 4, f"one attention tensor has 4 axes; your shape has {len(shape)}.")
    if cfg.hidden_size in shape:
        raise Hint(f"{cfg.hidden_size} is the hidden size: attention weights hold one number per (query, key) pair "
                   "of positions, per head; the hidden size does not appear.")
    expect(shape[0] == batch, f"the first axis is the batch: {batch} sentences.")
    if shape[1] == cfg.num_hidden_layers:
        raise Hint(f"{cfg.num_hidden_layers} is the number of layers: outputs.attentions is a tuple with one tensor "
                   "per layer; inside a tensor, axis 1 counts the heads (model.config.num_attention_heads).")
    expect(shape[1] == cfg.num_attention_heads, "axis 1 counts attention heads: read model.config.num_attention_heads.")
    if shape[2] == shape[3] and shape[2] in (seq - 2, seq - 1):
        raise Hint("close: count the special tokens [CLS] and [SEP] too.")
    if shape[2] == shape[3] and shape[2] > seq:
        raise Hint("longer than the padded length: count the tokens of the longest sentence, [CLS] and [SEP] included, "
                   "and no more.")
    if shape[2] == shape[3] and shape[2] < seq:
        raise Hint("padding makes every sentence as long as the longest one: use the longest sentence's token count, "
                   "special tokens included.")
    expect(shape[2] == seq and shape[3] == seq, "the last two axes are both the padded sequence length: "
                                                "tokenize the sentences with padding=True and read input_ids.shape.")
    expect(shape == truth, f"{shape} is not it yet.")
    return (f"{truth}: batch, heads, query positions, key positions; one such tensor per layer "
            f"({cfg.num_hidden_layers} layers).")


@exercise
def check_cosine_matrix(cosine_matrix: Any) -> str:
    import torch

    generator = torch.Generator().manual_seed(3)
    # rows of very different lengths: a dot product alone would not be a cosine
    vectors = torch.randn(5, 8, generator=generator) * torch.tensor([[1.0], [3.0], [0.5], [2.0], [10.0]])
    result = call(cosine_matrix, vectors.clone(), what="cosine_matrix(embeddings)")
    t = as_tensor(result, "the result of cosine_matrix").double()
    n = vectors.shape[0]
    if tuple(t.shape) == (n,):
        raise Hint(f"the result has shape ({n},): compare every sentence with every other one, shape ({n}, {n}).")
    expect(tuple(t.shape) == (n, n), f"the result has shape {tuple(t.shape)}; expected ({n}, {n}).")
    v = vectors.double()
    unit = v / v.norm(dim=1, keepdim=True)
    reference = unit @ unit.T
    if torch.allclose(t, v @ v.T, atol=1e-4):
        raise Hint("those are dot products: divide each vector by its length first (torch.nn.functional.normalize).")
    expect(bool(torch.isfinite(t).all()), "the result contains inf or nan: no vector here has length 0.")
    if not torch.allclose(torch.diagonal(t), torch.ones(n, dtype=t.dtype), atol=1e-4):
        raise Hint("the diagonal should be 1: every vector has cosine 1 with itself. Normalise each row to length 1.")
    diff = (t - reference).abs().max().item()
    expect(diff < 1e-4, f"the result is off by up to {diff:.3g}: normalise each row to length 1, then multiply "
                        "the matrix by its transpose.")
    return "cosine similarity is the dot product of unit vectors: 1 on the diagonal, symmetric, between -1 and 1."
