"""Checks for notebook 07 (from logits to labels): a softmax that never overflows, and probabilities to labels.

Every check computes its reference with torch and the kit's sentiment model, and computes the typical wrong versions
too (softmax down the columns, one maximum for the whole tensor, the top label from a fixed list), each with its hint.
"""

from __future__ import annotations

import functools
from typing import Any

from .core import (Hint, as_tensor, call, exercise, expect, expect_close, expect_shape, expect_type, kit_forward,
                   kit_model, kit_pipeline, reject_mistakes)

COURSE_SENTENCES = ("I've been waiting for a HuggingFace course my whole life.", "I hate this so much!")
MORE_SENTENCES = ("What a wonderful, moving film.", "The plot was dull and the acting worse.", "It was fine, I guess.")


def _logits(texts: tuple[str, ...]) -> Any:
    """The sentiment model's logits for a batch of texts (shared: callers get a new tensor or a clone)."""
    return kit_forward("sentiment", "AutoModelForSequenceClassification", texts)[0].logits


@functools.lru_cache(maxsize=1)
def _pipeline_answer() -> list[dict]:
    return kit_pipeline("sentiment-analysis", "sentiment")(list(MORE_SENTENCES))


def _softmax_cases() -> list[tuple[str, Any]]:
    import torch

    inf = float("inf")
    gen = torch.Generator().manual_seed(5)
    return [
        ("the sentiment logits of the course sentences", _logits(COURSE_SENTENCES).clone()),
        ("tensor([1000., 1001.])", torch.tensor([1000.0, 1001.0])),
        ("tensor([[-1000., -1001., -999.]])", torch.tensor([[-1000.0, -1001.0, -999.0]])),
        ("rows of very different sizes, [[0., 1.], [1000., 1001.]]", torch.tensor([[0.0, 1.0], [1000.0, 1001.0]])),
        ("a row with -inf (removed tokens), [[0., -inf, 2.]]", torch.tensor([[0.0, -inf, 2.0]])),
        ("a (2, 3, 5) batch of logits up to ±300", 100 * torch.randn(2, 3, 5, generator=gen)),
    ]


def _softmax_mistakes(x: Any, what: str) -> list[tuple[Any, str]]:
    import torch

    mistakes = [
        (torch.softmax(x, dim=0), f"on {what} your probabilities sum to 1 down the columns: normalise over the last "
                                  "dimension (dim=-1)."),
    ]
    if x.dim() == 2 and x.shape[0] == x.shape[1]:  # here a maximum without keepdim broadcasts instead of failing
        shifted = torch.exp(x - x.max(dim=-1).values)
        mistakes.append((shifted / shifted.sum(dim=-1, keepdim=True), f"on {what} each row had the wrong maximum "
                         "subtracted: use keepdim=True in max, so row i subtracts its own maximum."))
    return mistakes


@exercise
def check_stable_softmax(fn: Any) -> str:
    """``fn(logits)`` must equal ``torch.softmax(logits, dim=-1)`` on tricky inputs, without changing its input."""
    import torch

    expect(callable(fn), f"stable_softmax should be a function; got {type(fn).__name__}.")
    cases = _softmax_cases()
    for what, x in cases:
        original = x.clone()
        out = as_tensor(call(fn, x, what="stable_softmax"), f"stable_softmax({what})")
        expect(torch.equal(x, original), f"stable_softmax changed its input on {what}: use `logits - m`, not "
                                         "`logits -= m` (an in-place subtraction overwrites the caller's logits).")
        ref = torch.softmax(x, dim=-1)
        expect_shape(out, ref.shape, f"stable_softmax({what})", hints={tuple(ref.shape[:-1]) + (1,): (
            f"on {what} you returned one number per row: return the whole row of probabilities.")})
        if not torch.isfinite(out).all():
            raise Hint(f"on {what} you got nan or inf: subtract each row's own maximum, "
                       "logits.max(dim=-1, keepdim=True).values, before exp.")
        reject_mistakes(out, _softmax_mistakes(x, what), ref)
        # float32 holds a logit near 1000 to about 6e-5: allow for that rounding, never less than 1e-6
        atol = max(1e-6, 2 * torch.finfo(torch.float32).eps * x[torch.isfinite(x)].abs().max().item())
        if not torch.allclose(out.sum(dim=-1).double(), torch.ones(ref.shape[:-1], dtype=torch.float64), atol=atol):
            if x.dim() > 1 and abs(out.double().sum().item() - 1) < atol:
                raise Hint(f"on {what} the whole tensor sums to 1, not each row: sum over dim=-1 with keepdim=True.")
            raise Hint(f"on {what} your rows do not sum to 1: divide by the sum over dim=-1 (keepdim=True).")
        expect_close(out, ref, f"stable_softmax({what})", atol=atol)
    return (f"your softmax equals torch.softmax on all {len(cases)} inputs, including [1000., 1001.], rows of very "
            "different sizes and -inf.")


def _reference_labels(probs: Any, id2label: dict) -> list[dict]:
    best = probs.argmax(dim=-1)
    return [{"label": id2label[int(i)], "score": float(row[i])} for row, i in zip(probs, best)]


def _check_row(got: Any, ref: dict, j: int, what: str, probs: Any, id2label: dict) -> None:
    """Row j of to_labels' answer: a dict with the reference's label and its score as a Python float; or a hint."""
    import torch

    expect(isinstance(got, dict) and {"label", "score"} <= set(got),
           f"item {j} should be a dict with keys 'label' and 'score'; got {got!r}.")
    if isinstance(got["label"], (int, torch.Tensor)):
        raise Hint(f"item {j} has label {got['label']!r}, an index: look it up in id2label.")
    expect(isinstance(got["score"], float), f"item {j} has a score of type {type(got['score']).__name__}: use "
                                            ".item() to get a Python float, as pipeline() does.")
    if got["label"] != ref["label"]:
        lowest = id2label[int(probs[j].argmin())]
        if got["label"] == lowest and lowest != ref["label"]:
            raise Hint(f"on {what}, row {j} got its least likely label {lowest!r}: take argmax, not argmin (and "
                       "id2label in its own order, not reversed).")
        raise Hint(f"on {what}, row {j} is labelled {got['label']!r}, expected {ref['label']!r}: take the argmax of "
                   "each row (dim=-1) and map it with id2label, not a fixed list of names.")
    expect(abs(got["score"] - ref["score"]) < 1e-6, f"on {what}, row {j} has score {got['score']:.4f}; expected the "
                                                    f"probability of its label, {ref['score']:.4f} (not rounded).")


@exercise
def check_to_labels(fn: Any) -> str:
    """``fn(probs, id2label)`` must give one ``{"label", "score"}`` dict per row, like ``pipeline()``."""
    import torch

    expect(callable(fn), f"to_labels should be a function; got {type(fn).__name__}.")
    model = kit_model("sentiment", "AutoModelForSequenceClassification")
    probs = torch.softmax(_logits(MORE_SENTENCES), dim=-1)  # a new tensor
    three = {0: "sad", 1: "neutral", 2: "happy"}
    cases = [
        ("the kit's probabilities for three new sentences", probs, dict(model.config.id2label)),
        ("a made-up 3-class id2label", torch.tensor([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]]), three),
    ]
    for what, p, id2label in cases:
        out = call(fn, p.clone(), id2label, what="to_labels")
        expect_type(out, list, f"to_labels(...) on {what}")
        expect(len(out) == len(p), f"on {what} to_labels returned {len(out)} items for {len(p)} rows: one dict per "
                                   "row.")
        for j, (got, ref) in enumerate(zip(out, _reference_labels(p, id2label))):
            _check_row(got, ref, j, what, p, id2label)
    expected = _pipeline_answer()
    mine = call(fn, probs.clone(), dict(model.config.id2label), what="to_labels")
    for got, ref in zip(mine, expected):
        expect(got["label"] == ref["label"] and abs(got["score"] - ref["score"]) < 1e-5,
               f"your output {got!r} differs from pipeline()'s {ref!r}.")
    return "your labels and scores match pipeline() on new sentences, and work for any id2label."
