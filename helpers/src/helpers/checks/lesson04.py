"""Checks for notebook 04 (the model body and its shapes): max pooling with the mask, an attention shape predicted
before running the model, and a cosine-similarity matrix.

Every check computes its reference itself: real hidden states of the kit's encoder on a padded batch, the encoder's
own tokenizer and config, and torch's own normalisation. Each typical wrong version is computed too and gets its own
hint.
"""

from __future__ import annotations

import operator
from typing import Any, Sequence

from .core import (Hint, as_tensor, call_traced, exercise, expect, expect_close, expect_finite, expect_shape,
                   kit_forward, kit_model, kit_tokenizer, reject_mistakes)


# Sentences of very different lengths, so padding is heavy and padded positions would win many maxima.
POOL_SENTENCES = ("I hate this so much!", "I've been waiting for a HuggingFace course my whole life.", "Yes.")


def _padded_batch() -> tuple[Any, Any]:
    """last_hidden_state and attention_mask of the encoder on POOL_SENTENCES, padded (shared: clone before use)."""
    outputs, inputs = kit_forward("encoder", "AutoModel", POOL_SENTENCES)
    return outputs.last_hidden_state, inputs["attention_mask"]


def _pool_mistakes(h: Any, mask: Any) -> list[tuple[Any, str]]:
    """The typical wrong poolings of (batch, sequence, hidden) states h, each with its hint."""
    import torch

    padding = mask.unsqueeze(-1) == 0
    real = mask.unsqueeze(-1).to(h.dtype)
    inner = mask.clone()
    inner[:, 0] = 0  # [CLS]
    inner[torch.arange(len(mask)), mask.sum(dim=1) - 1] = 0  # [SEP], the last real token of each sentence
    return [
        (h.max(dim=1).values, "that is the maximum over every position, padding included: padded vectors are not "
                              "zero and win some features. Take them out of the race with the mask first."),
        (h.masked_fill(padding, 0.0).max(dim=1).values,
         "padding set to 0 (or multiplied by the mask) still wins every feature that is negative at all the real "
         "tokens (max = 0): fill padded positions with float('-inf') instead (masked_fill)."),
        ((h * real).sum(dim=1) / real.sum(dim=1), "that is mean pooling: take the maximum over the real tokens "
                                                  "instead of their average."),
        (h[:, 0], "that is the [CLS] vector (position 0): take the maximum over all the real tokens."),
        (h.masked_fill(~padding, float("-inf")).max(dim=1).values,
         "you filled the REAL tokens with -inf (where the mask is 1): fill the padded positions, where it is 0."),
        (h.masked_fill(inner.unsqueeze(-1) == 0, float("-inf")).max(dim=1).values,
         "you left out [CLS] and [SEP]: they are real tokens (mask 1) and take part in the maximum."),
    ]


@exercise
def check_max_pool(max_pool: Any) -> str:
    hidden, mask = _padded_batch()
    def slip(operation: str, shapes: list, error: Exception) -> str | None:  # the mask used without a last axis
        if tuple(mask.shape) in shapes and tuple(hidden.shape) in shapes or "must match the size" in str(error):
            return ("the mask is (batch, sequence) and the hidden states (batch, sequence, hidden): give the mask a "
                    "last axis of size 1 (attention_mask.unsqueeze(-1)) so that it lines up with every feature.")
        return None

    result = call_traced(max_pool, hidden.clone(), mask.clone(), what="max_pool(last_hidden_state, attention_mask)",
                         slip=slip)
    if isinstance(result, tuple) and hasattr(result, "values") and hasattr(result, "indices"):  # torch.return_types
        raise Hint("torch.max(..., dim=1) returns (values, indices): return its .values.")
    t = as_tensor(result, "the result of max_pool").double()
    batch, seq, dim = hidden.shape
    one_per_sentence = "take the maximum over the sequence axis only (dim=1), to get one vector per sentence"
    expect_shape(t, (batch, dim), "the result", hints={
        (batch, seq, dim): "the result still has a sequence axis: take the maximum over the tokens (dim=1).",
        (batch, 1, dim): "the result keeps a sequence axis of length 1: leave out keepdim=True.",
        **{wrong: f"the result has shape {wrong}: {one_per_sentence}, shape ({batch}, {dim})."
           for wrong in ((dim,), (batch,), (seq, dim), (batch, seq))}})
    h = hidden.double()
    reference = h.masked_fill(mask.unsqueeze(-1) == 0, float("-inf")).max(dim=1).values
    reject_mistakes(t, _pool_mistakes(h, mask), reference)
    expect_finite(t, "the result", "the result contains inf or nan: every sentence has real tokens, so its maximum "
                                   "over them is finite.")
    expect_close(t, reference, "the result", atol=1e-6, hint="the result is off by up to {diff:.3g} from the maximum "
                 "over the real tokens: mask out padded positions, then take the maximum over dim=1.")
    won = int((h.max(dim=1).values != reference).sum())
    return (f"padded positions cannot win: without the mask they would have won {won} of the "
            f"{batch * dim} (sentence, feature) maxima of this batch.")


def _as_shape(value: Any) -> tuple[int, ...]:
    if value is None:
        raise Hint("predicted_shape is still None: write a tuple of ints, e.g. (1, 2, 3, 4).")
    if hasattr(value, "shape") and not isinstance(value, tuple):  # a tensor was given, not its shape
        raise Hint("predicted_shape should be a tuple of ints (a shape), not a tensor.")
    if not isinstance(value, (tuple, list)):  # torch.Size is a tuple
        raise Hint(f"predicted_shape should be a tuple of ints; got {type(value).__name__}.")
    if any(isinstance(v, bool) for v in value):
        raise Hint("predicted_shape should hold whole numbers (ints) only, not True/False.")
    try:
        return tuple(operator.index(v) for v in value)  # ints (also numpy/torch ints); 12.0 or "12" are refused
    except TypeError:
        raise Hint("predicted_shape should hold whole numbers (ints) only.") from None


def _length_hint(length: int, seq: int) -> str | None:
    """A hint for query/key axes of the wrong length (the padded length is ``seq``)."""
    if length in (seq - 2, seq - 1):
        return "close: count the special tokens [CLS] and [SEP] too."
    if length > seq:
        return ("longer than the padded length: count the tokens of the longest sentence, [CLS] and [SEP] included, "
                "and no more.")
    if length < seq:
        return ("padding makes every sentence as long as the longest one: use the longest sentence's token count, "
                "special tokens included.")
    return None


@exercise
def check_attention_shape(predicted_shape: Any, sentences: Sequence[str]) -> str:
    tokenizer, model = kit_tokenizer("encoder"), kit_model("encoder", "AutoModel")
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
    if shape[0] == cfg.num_attention_heads and shape[1] == batch:
        raise Hint("batch and heads are swapped: the batch comes first, (batch, heads, query, key).")
    expect(shape[0] == batch, f"the first axis is the batch: {batch} sentences.")
    if shape[1:] == (seq, seq, cfg.num_attention_heads):
        raise Hint("the heads come second, right after the batch: (batch, heads, query positions, key positions).")
    head_size = cfg.hidden_size // cfg.num_attention_heads
    if head_size in shape[2:] and head_size != seq:
        raise Hint(f"{head_size} is the size of each head's vectors (hidden_size / heads); attention weights hold "
                   "one number per (query, key) pair of positions: the last two axes are both the sequence length.")
    if shape[1] == cfg.num_hidden_layers:
        raise Hint(f"{cfg.num_hidden_layers} is the number of layers: outputs.attentions is a tuple with one tensor "
                   "per layer; inside a tensor, axis 1 counts the heads (model.config.num_attention_heads).")
    expect(shape[1] == cfg.num_attention_heads, "axis 1 counts attention heads: read model.config.num_attention_heads.")
    if shape[2] == shape[3] and _length_hint(shape[2], seq):
        raise Hint(_length_hint(shape[2], seq))
    expect(shape[2] == seq and shape[3] == seq, "the last two axes are both the padded sequence length: "
                                                "tokenize the sentences with padding=True and read input_ids.shape.")
    return (f"{truth}: batch, heads, query positions, key positions; one such tensor per layer "
            f"({cfg.num_hidden_layers} layers).")


@exercise
def check_cosine_matrix(cosine_matrix: Any) -> str:
    import torch

    generator = torch.Generator().manual_seed(3)
    # rows of very different lengths: a dot product alone would not be a cosine
    vectors = torch.randn(5, 8, generator=generator) * torch.tensor([[1.0], [3.0], [0.5], [2.0], [10.0]])
    def slip(operation: str, shapes: list, error: Exception) -> str | None:
        if shapes == [tuple(vectors.shape)] * 2 and "cannot be multiplied" in str(error):
            return ("an (n, hidden) matrix times an (n, hidden) matrix cannot be multiplied: multiply the unit rows "
                    "by their transpose, unit @ unit.T.")
        if (vectors.shape[0],) in shapes:  # a length per row, without its axis
            return ("embeddings.norm(dim=1) has shape (n,), which does not line up with the (n, hidden) rows: keep "
                    "the axis, norm(dim=1, keepdim=True), shape (n, 1).")
        return None

    result = call_traced(cosine_matrix, vectors.clone(), what="cosine_matrix(embeddings)", slip=slip)
    t = as_tensor(result, "the result of cosine_matrix").double()
    n, dim = vectors.shape
    expect_shape(t, (n, n), "the result", hints={
        (n,): f"the result has shape ({n},): compare every sentence with every other one, shape ({n}, {n}).",
        (dim, dim): f"the result has shape ({dim}, {dim}), features by features: that is unit.T @ unit. The ({n}, "
                    f"{n}) matrix of sentences is unit @ unit.T."})
    v = vectors.double()
    unit = v / v.norm(dim=1, keepdim=True)
    reference = unit @ unit.T
    columns = v / v.norm(dim=0, keepdim=True)
    reject_mistakes(t, [
        (v @ v.T, "those are dot products: divide each vector by its length first (torch.nn.functional.normalize)."),
        (columns @ columns.T, "you normalised the columns (dim=0): normalise each row, the vector of one sentence "
                              "(dim=1 or dim=-1)."),
        (1 - reference, "that is the cosine distance (1 - cosine): return the similarity itself."),
        (unit @ v.T, "you normalised only the first factor: both sides of the product need rows of length 1 "
                     "(unit @ unit.T)."),
        (v @ unit.T, "you normalised only the second factor: both sides of the product need rows of length 1 "
                     "(unit @ unit.T)."),
    ], reference, atol=1e-4)
    expect_finite(t, "the result", "the result contains inf or nan: no vector here has length 0.")
    if not torch.allclose(torch.diagonal(t), torch.ones(n, dtype=t.dtype), atol=1e-4):
        raise Hint("the diagonal should be 1: every vector has cosine 1 with itself. Normalise each row to length 1.")
    expect_close(t, reference, "the result", atol=1e-4, hint="the result is off by up to {diff:.3g}: normalise each "
                 "row to length 1, then multiply the matrix by its transpose.")
    return "cosine similarity is the dot product of unit vectors: 1 on the diagonal, symmetric, between -1 and 1."
