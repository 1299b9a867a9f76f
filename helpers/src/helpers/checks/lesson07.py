"""Checks for notebook 07 (from logits to labels): a log-softmax that neither overflows nor underflows, and
probabilities to labels.

Every check computes its reference with torch and the kit's sentiment model, and computes the typical wrong versions
too (the log of an underflowed softmax, the maximum not added back, the top label from a fixed list, softmax applied
twice), each with its hint.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .core import (Hint, as_tensor, call, call_traced, close, exercise, expect, expect_close, expect_shape, expect_type,
                   kit_forward, kit_model, kit_pipeline, reject_mistakes)

COURSE_SENTENCES = ("I've been waiting for a HuggingFace course my whole life.", "I hate this so much!")
MORE_SENTENCES = ("What a wonderful, moving film.", "The plot was dull and the acting worse.", "It was fine, I guess.")


def _logits(texts: tuple[str, ...]) -> Any:
    """The sentiment model's logits for a batch of texts (shared: callers get a new tensor or a clone)."""
    return kit_forward("sentiment", "AutoModelForSequenceClassification", texts)[0].logits


@functools.lru_cache(maxsize=1)
def _pipeline_answer() -> list[dict]:
    return kit_pipeline("sentiment-analysis", "sentiment")(list(MORE_SENTENCES))


def _log_softmax_cases() -> list[tuple[str, Any]]:
    import torch

    inf = float("inf")
    gen = torch.Generator().manual_seed(5)
    return [
        ("the sentiment logits of the course sentences", _logits(COURSE_SENTENCES).clone()),
        ("tensor([1000., 1001.])", torch.tensor([1000.0, 1001.0])),
        ("tensor([0., -200.])", torch.tensor([0.0, -200.0])),  # softmax underflows to 0 there; its log is -200
        ("tensor([[-1000., -1001., -999.]])", torch.tensor([[-1000.0, -1001.0, -999.0]])),
        ("rows of very different sizes, [[0., 1.], [1000., 1001.]]", torch.tensor([[0.0, 1.0], [1000.0, 1001.0]])),
        ("a row with -inf (removed tokens), [[0., -inf, 2.]]", torch.tensor([[0.0, -inf, 2.0]])),
        ("a (2, 3, 5) batch of logits up to ±300", 100 * torch.randn(2, 3, 5, generator=gen)),
    ]


def _log_softmax_mistakes(x: Any, what: str) -> list[tuple[Any, str]]:
    import torch

    m = x.max(dim=-1, keepdim=True).values
    mistakes = [
        (torch.log_softmax(x, dim=0), f"on {what} your log-probabilities are normalised down the columns: work over "
                                      "the last dimension (dim=-1)."),
        (torch.softmax(x, dim=-1), f"on {what} those are probabilities: log_softmax returns their logarithms "
                                   "(all <= 0)."),
        (x - torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True)), f"on {what} every value is off by the row's "
         "maximum: log(sum(exp(x - m))) is log(sum(exp(x))) - m, so add m back: x - m - log(sum(exp(x - m)))."),
    ]
    if x.dim() == 2 and x.shape[0] == x.shape[1]:  # here a maximum without keepdim broadcasts instead of failing
        flat = x.max(dim=-1).values
        mistakes.append((x - flat - torch.log(torch.exp(x - flat).sum(dim=-1, keepdim=True)), f"on {what} each row "
                         "had the wrong maximum subtracted: use keepdim=True in max, so row i subtracts its own."))
        mistakes.append((x - m - torch.log(torch.exp(x - m).sum(dim=-1)), f"on {what} each row had another row's "
                         "log-sum subtracted: use keepdim=True in sum, so row i subtracts its own."))
    return mistakes


def _log_softmax_slip(x_shape: tuple[int, ...]) -> Callable[[str, list, Exception], str | None]:
    dropped = x_shape[:-1]

    def slip(op: str, shapes: list, error: Exception) -> str | None:
        if x_shape in shapes and dropped in shapes and dropped:
            return (f"max(dim=-1) and sum(dim=-1) drop the last axis: a {dropped} result cannot line up with the "
                    f"logits {x_shape}. Keep it with keepdim=True, {dropped + (1,)}.")
        return None

    return slip


@exercise
def check_log_softmax(fn: Any) -> str:
    """``fn(logits)`` must equal ``torch.log_softmax(logits, dim=-1)`` on tricky inputs, without changing its input."""
    import torch

    expect(callable(fn), f"log_softmax should be a function; got {type(fn).__name__}.")
    cases = _log_softmax_cases()
    for what, x in cases:
        original = x.clone()
        result = call_traced(fn, x, what="log_softmax", slip=_log_softmax_slip(tuple(x.shape)))
        out = as_tensor(result, f"log_softmax({what})")
        expect(torch.equal(x, original), f"log_softmax changed its input on {what}: use `logits - m`, not "
                                         "`logits -= m` (an in-place subtraction overwrites the caller's logits).")
        ref = torch.log_softmax(x, dim=-1)
        expect_shape(out, ref.shape, f"log_softmax({what})", hints={tuple(ref.shape[:-1]) + (1,): (
            f"on {what} you returned one number per row: return a log-probability for every entry.")})
        out = out.to(ref.dtype)
        one_max = x.max()
        if close(out, x - one_max - torch.log(torch.exp(x - one_max).sum(dim=-1, keepdim=True)), 1e-4) and not close(
                out, ref, 1e-4):
            raise Hint(f"on {what} one maximum for the whole tensor is subtracted: in a row far below it every exp "
                       "underflows to 0 and log(0) = -inf. Subtract each row's own maximum, "
                       "logits.max(dim=-1, keepdim=True).values.")
        if torch.isnan(out).any() or (out == float("inf")).any():
            raise Hint(f"on {what} you got nan or +inf: look for exp overflowing (exp(89) is already too big for "
                       "float32) and for log(0). Subtract each row's own maximum, logits.max(dim=-1, "
                       "keepdim=True).values, before exp.")
        if close(out, x - torch.log(torch.exp(x).sum(dim=-1, keepdim=True)), 1e-4) and not close(out, ref, 1e-4):
            raise Hint(f"on {what} you got -inf: exp overflows (exp(89) is already too big for float32), the sum is "
                       "inf and x - inf = -inf. Subtract each row's own maximum m before exp, and add it back after "
                       "the log: x - m - log(sum(exp(x - m))).")
        underflow = torch.isfinite(ref) & (out == float("-inf"))
        if underflow.any():
            raise Hint(f"on {what} you got -inf where the log-probability is {ref[underflow][0].item():.4g}: the "
                       "probability underflowed to 0 (below float32's smallest number, about 1e-45) before the log. "
                       "Stay in log space: x - m - log(sum(exp(x - m))), whose sum is at least 1.")
        reject_mistakes(out, _log_softmax_mistakes(x, what), ref, atol=1e-4)
        # float32 holds a logit near 1000 to about 6e-5: allow for that rounding, never less than 1e-5
        atol = max(1e-5, 4 * torch.finfo(torch.float32).eps * x[torch.isfinite(x)].abs().max().item())
        expect_close(out, ref, f"log_softmax({what})", atol=atol, hint=f"on {what} the result is off by up to "
                     "{diff:.3g} from torch.log_softmax: x - m - log(sum(exp(x - m))), m each row's maximum.")
    return (f"your log_softmax equals torch.log_softmax on all {len(cases)} inputs, including [1000., 1001.], "
            "[0., -200.] (where log(softmax) gives -inf) and -inf.")


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
    expect(isinstance(got["label"], str), f"item {j} has label {got['label']!r}: one name, a str, per row.")
    expect(isinstance(got["score"], float), f"item {j} has a score of type {type(got['score']).__name__}: use "
                                            ".item() to get a Python float, as pipeline() does.")
    if got["label"] != ref["label"]:
        lowest = id2label[int(probs[j].argmin())]
        if got["label"] == lowest and lowest != ref["label"]:
            raise Hint(f"on {what}, row {j} got its least likely label {lowest!r}: take argmax, not argmin (and "
                       "id2label in its own order, not reversed).")
        raise Hint(f"on {what}, row {j} is labelled {got['label']!r}, expected {ref['label']!r}: take the argmax of "
                   "each row (dim=-1) and map it with id2label, not a fixed list of names.")
    if abs(got["score"] - ref["score"]) < 1e-6:
        return
    expect(not 1 < got["score"] <= 100, f"on {what}, row {j} has score {got['score']:.4f}: a probability, between 0 "
                                        "and 1, not a percentage.")
    expect(abs(got["score"] - float(probs[j].softmax(dim=-1).max())) > 1e-6, f"on {what}, row {j}'s score went "
           "through softmax again: the rows are probabilities already; take probs[row, best] as it is.")
    raise Hint(f"on {what}, row {j} has score {got['score']:.4f}; expected the probability of its label, "
               f"{ref['score']:.4f} (not rounded).")


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
        try:
            out = call(fn, p.clone(), id2label, what="to_labels")
        except Hint as hint:
            if "raised KeyError: " in str(hint):
                raise Hint("id2label's keys are ints here (model.config.id2label); config.json's are strings: look "
                           "the label up with an int, id2label[int(i)].") from None
            raise
        expect_type(out, list, f"to_labels(...) on {what}")
        if len(out) != len(p) and len(out) == p.shape[-1]:
            raise Hint(f"on {what} to_labels returned one item per label: argmax(dim=0) picks the best row for each "
                       "label; take the best label of each row, argmax(dim=-1).")
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
