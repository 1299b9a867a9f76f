"""Notebook 04's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from answers import answer_tests, by_hint
from helpers.checks import lesson04 as checks

SHAPE_SENTENCES = ["Transformers are neural networks.", "Attention is all you need, they said.", "Hi!"]  # as in 04


def _pad(mask):
    return mask.unsqueeze(-1) == 0


def _per_sentence(h, mask):
    return torch.stack([row[m.bool()].max(dim=0).values for row, m in zip(h, mask)])


WRONG_POOLS = {
    "padding included": lambda h, mask: h.max(dim=1).values,
    "padding set to 0": lambda h, mask: h.masked_fill(_pad(mask), 0.0).max(dim=1).values,
    "(or multiplied by the mask)": lambda h, mask: (h * mask.unsqueeze(-1)).max(dim=1).values,
    "that is mean pooling": lambda h, mask: (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True),
    "the [CLS] vector": lambda h, mask: h[:, 0],
    "return its .values": lambda h, mask: h.masked_fill(_pad(mask), float("-inf")).max(dim=1),
    "still has a sequence axis": lambda h, mask: h.masked_fill(_pad(mask), float("-inf")),
    "leave out keepdim=True": lambda h, mask: h.masked_fill(_pad(mask), float("-inf")).max(dim=1, keepdim=True).values,
    "the sequence axis only (dim=1)": lambda h, mask: h.masked_fill(_pad(mask), float("-inf")).max(dim=2).values,
    "attention_mask.unsqueeze(-1)": lambda h, mask: h.masked_fill(mask == 0, float("-inf")).max(dim=1).values,
    "you filled the REAL tokens with -inf": lambda h, mask: h.masked_fill(mask.unsqueeze(-1) == 1, float("-inf")).max(
        dim=1).values,
    "you left out [CLS] and [SEP]": lambda h, mask: torch.stack(
        [row[1:int(m.sum()) - 1].max(dim=0).values for row, m in zip(h, mask)]),
    "did you forget `return`": lambda h, mask: None,
}

RIGHT_POOLS = {
    "masked_fill -inf": lambda h, mask: h.masked_fill(_pad(mask), float("-inf")).max(dim=1).values,
    "masked_fill -1e9": lambda h, mask: h.masked_fill(_pad(mask), -1e9).max(dim=1).values,
    "torch.where": lambda h, mask: torch.where(mask.bool()[..., None], h, torch.finfo(h.dtype).min).amax(dim=1),
    "offset of -1e9 on padding": lambda h, mask: (h + (mask.unsqueeze(-1) - 1) * 1e9).max(dim=1).values,
    "a list of lists": lambda h, mask: h.masked_fill(_pad(mask), float("-inf")).max(dim=1).values.tolist(),
    "one sentence at a time": _per_sentence,
    "numpy": lambda h, mask: np.where(mask.numpy()[..., None] == 1, h.numpy(), -np.inf).max(axis=1),
}


test_wrong_max_pool_gets_its_hint, test_right_max_pool_passes = answer_tests(
    checks.check_max_pool, by_hint(WRONG_POOLS), RIGHT_POOLS)


# SHAPE_SENTENCES pad to 11 tokens; the encoder has 12 heads, 6 layers, hidden size 384
WRONG_SHAPES = {
    "still None": None,
    "4 axes: (batch, heads": (3, 11, 11),
    "is the hidden size": (3, 12, 11, 384),
    "batch and heads are swapped": (12, 3, 11, 11),
    "is the number of layers": (3, 6, 11, 11),
    "count the special tokens": (3, 12, 9, 9),
    "as long as the longest one": (3, 12, 4, 4),
    "and no more": (3, 12, 12, 12),
    "not a tensor": torch.zeros(3, 12, 11, 11),
    "whole numbers (ints) only": (3.0, 12.0, 11.0, 11.0),
    "not True/False": (3, 12, 11, True),
    "should be a tuple of ints; got str": "(3, 12, 11, 11)",
    "the first axis is the batch": (2, 12, 11, 11),
    "the heads come second": (3, 11, 11, 12),
    "the size of each head's vectors": (3, 12, 11, 32),
}

RIGHT_SHAPES = {
    "tuple": (3, 12, 11, 11),
    "list": [3, 12, 11, 11],
    "torch.Size": torch.Size([3, 12, 11, 11]),
    "numpy ints": tuple(np.int64(n) for n in (3, 12, 11, 11)),
}


test_wrong_shapes_get_their_hint, test_right_shapes_pass = answer_tests(
    checks.check_attention_shape, by_hint(WRONG_SHAPES), RIGHT_SHAPES, lambda answer: (answer, SHAPE_SENTENCES,))


def _unit(e, dim=-1):
    return e / e.norm(dim=dim, keepdim=True)


WRONG_COSINES = {
    "those are dot products": lambda e: e @ e.T,
    "normalised the columns": lambda e: _unit(e, 0) @ _unit(e, 0).T,
    "cosine distance": lambda e: 1 - _unit(e) @ _unit(e).T,
    "compare every sentence with every other one": lambda e: F.cosine_similarity(e, e, dim=-1),
    "unit @ unit.T": lambda e: _unit(e) @ _unit(e),  # no transpose
    "norm(dim=1, keepdim=True)": lambda e: (e / e.norm(dim=1)) @ (e / e.norm(dim=1)).T,
    "features by features": lambda e: _unit(e).T @ _unit(e),
    "normalised only the first factor": lambda e: _unit(e) @ e.T,
    "did you forget `return`": lambda e: None,
    "the diagonal should be 1": lambda e: (e @ e.T) / e.norm(),  # one global length
}

RIGHT_COSINES = {
    "normalise then multiply": lambda e: _unit(e) @ _unit(e).T,
    "F.normalize": lambda e: F.normalize(e, dim=1) @ F.normalize(e, dim=1).T,
    "F.cosine_similarity, broadcast": lambda e: F.cosine_similarity(e[:, None], e[None], dim=-1),
    "dot over outer product of norms": lambda e: (e @ e.T) / torch.outer(e.norm(dim=1), e.norm(dim=1)),
    "numpy": lambda e: (lambda u: u @ u.T)(e.numpy() / np.linalg.norm(e.numpy(), axis=1, keepdims=True)),
}


test_wrong_cosines_get_their_hint, test_right_cosines_pass = answer_tests(
    checks.check_cosine_matrix, by_hint(WRONG_COSINES), RIGHT_COSINES, kit=False)
