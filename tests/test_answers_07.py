"""Notebook 07's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import torch

from answers import answer_tests, by_hint
from helpers.checks import lesson07 as checks


def _naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=-1, keepdim=True)


def _in_place(x):
    x -= x.max(dim=-1, keepdim=True).values
    return torch.exp(x) / torch.exp(x).sum(dim=-1, keepdim=True)


def _global_max(x):
    e = torch.exp(x - x.max())
    return e / e.sum(dim=-1, keepdim=True)


def _no_keepdim_max(x):
    e = torch.exp(x - x.max(dim=-1).values)
    return e / e.sum(dim=-1, keepdim=True)


def _whole_sum(x):
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return e / e.sum()


def _no_return(x):
    torch.softmax(x, dim=-1)


WRONG_SOFTMAX = {
    "nan or inf: subtract each row's own maximum": _naive,
    "changed its input": _in_place,
    "down the columns": lambda x: torch.softmax(x, dim=0),
    "each row had the wrong maximum": _no_keepdim_max,
    "the whole tensor sums to 1": _whole_sum,
    "did you forget `return`": _no_return,
    "one number per row": lambda x: x.max(dim=-1, keepdim=True).values,
    "rows do not sum to 1": lambda x: (lambda e: e / (e.sum(dim=-1, keepdim=True) + 1e-3))(
        torch.exp(x - x.max(dim=-1, keepdim=True).values)),  # an epsilon "against division by zero"
}
# the global maximum fails only on rows of very different sizes: exp(-1000) = 0 in a whole row, then 0/0
WRONG_SOFTMAX["nan or inf"] = _global_max


def _logsumexp(x):
    return torch.exp(x - torch.logsumexp(x, dim=-1, keepdim=True))


def _amax(x):
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


def _float64(x):
    y = x.double()
    e = torch.exp(y - y.max(dim=-1, keepdim=True).values)
    return (e / e.sum(dim=-1, keepdim=True)).float()


RIGHT_SOFTMAX = {
    "subtract the maximum": _amax,
    "logsumexp": _logsumexp,
    "in float64": _float64,
    "torch.softmax itself": lambda x: torch.softmax(x, dim=-1),
    "F.softmax, numpy out": lambda x: torch.nn.functional.softmax(x, dim=-1).numpy(),
}


test_wrong_softmax_gets_its_hint, test_right_softmax_passes = answer_tests(
    checks.check_stable_softmax, by_hint(WRONG_SOFTMAX), RIGHT_SOFTMAX)


def _labels(probs, id2label, pick=lambda row: row.argmax(), score=lambda p: p.item()):
    return [{"label": id2label[int(pick(row))], "score": score(row[pick(row)])} for row in probs]


WRONG_LABELS = {
    "not a fixed list of names": lambda p, id2label: [
        {"label": ["NEGATIVE", "POSITIVE"][int(row.argmax()) % 2], "score": row.max().item()} for row in p],
    "an index: look it up in id2label": lambda p, id2label: [
        {"label": int(row.argmax()), "score": row.max().item()} for row in p],
    "use .item() to get a Python float": lambda p, id2label: _labels(p, id2label, score=lambda v: v),
    "take argmax, not argmin": lambda p, id2label: _labels(p, id2label, pick=lambda row: row.argmin()),
    "(not rounded)": lambda p, id2label: _labels(p, id2label, score=lambda v: round(v.item(), 2)),
    "did you forget `return`": lambda p, id2label: None,
    "one dict per row": lambda p, id2label: _labels(p, id2label)[:1],
    "should be a list": lambda p, id2label: {"label": [id2label[int(i)] for i in p.argmax(-1)],
                                             "score": p.max(-1).values.tolist()},
    "should be a dict with keys 'label' and 'score'": lambda p, id2label: [
        (id2label[int(row.argmax())], row.max().item()) for row in p],
    "raised KeyError": lambda p, id2label: _labels(p, {str(k): v for k, v in id2label.items()}),
}

RIGHT_LABELS = {
    "argmax and item": lambda p, id2label: _labels(p, id2label),
    "max(dim=-1)": lambda p, id2label: [{"label": id2label[int(i)], "score": float(v)}
                                        for v, i in zip(*p.max(dim=-1))],
    "tolist first": lambda p, id2label: [
        {"label": id2label[max(range(len(r)), key=r.__getitem__)], "score": max(r)} for r in p.tolist()],
    "extra keys are fine": lambda p, id2label: [dict(d, index=0) for d in _labels(p, id2label)],
}


test_wrong_labels_get_their_hint, test_right_labels_pass = answer_tests(
    checks.check_to_labels, by_hint(WRONG_LABELS), RIGHT_LABELS)
