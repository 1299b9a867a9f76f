"""Notebook 07's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import torch

from answers import answer_tests, by_hint
from helpers.checks import lesson07 as checks


def _lse_naive(x):  # the textbook formula: exp overflows
    return x - torch.log(torch.exp(x).sum(dim=-1, keepdim=True))


def _log_of_stable_softmax(x):  # right until a probability underflows to 0
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return torch.log(e / e.sum(dim=-1, keepdim=True))


def _max_not_added_back(x):
    return x - torch.log(torch.exp(x - x.max(dim=-1, keepdim=True).values).sum(dim=-1, keepdim=True))


def _no_keepdim_max(x):
    m = x.max(dim=-1).values
    return x - m - torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))


def _no_keepdim_sum(x):
    m = x.max(dim=-1, keepdim=True).values
    return x - m - torch.log(torch.exp(x - m).sum(dim=-1))


def _global_max(x):  # one maximum for the whole tensor: a row far below it underflows entirely
    m = x.max()
    return x - m - torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))


def _in_place(x):
    x -= x.max(dim=-1, keepdim=True).values
    return x - torch.log(torch.exp(x).sum(dim=-1, keepdim=True))


def _no_return(x):
    torch.log_softmax(x, dim=-1)


WRONG_LOG_SOFTMAX = {
    "-inf: exp overflows": _lse_naive,
    "the probability underflowed to 0": _log_of_stable_softmax,
    "add m back": _max_not_added_back,
    "use keepdim=True in max": _no_keepdim_max,
    "use keepdim=True in sum": _no_keepdim_sum,
    "changed its input": _in_place,
    "down the columns": lambda x: torch.log_softmax(x, dim=0),
    "those are probabilities": lambda x: torch.softmax(x, dim=-1),
    "did you forget `return`": _no_return,
    "one number per row": lambda x: torch.logsumexp(x, dim=-1, keepdim=True),
    "off by up to": lambda x: torch.log_softmax(x, dim=-1) * 1.01,
    "look for exp overflowing": lambda x: torch.log_softmax(x, dim=-1) + torch.where(x > 500, float("nan"), 0.0),
}
WRONG_LOG_SOFTMAX["one maximum for the whole tensor"] = _global_max  # a row far below it: log(0) = -inf


def _logsumexp(x):
    return x - torch.logsumexp(x, dim=-1, keepdim=True)


def _by_hand(x):
    m = x.amax(dim=-1, keepdim=True)
    return (x - m) - (x - m).exp().sum(-1, keepdim=True).log()


def _float64(x):
    y = x.double()
    m = y.max(dim=-1, keepdim=True).values
    return (y - m - torch.log(torch.exp(y - m).sum(dim=-1, keepdim=True))).float()


RIGHT_LOG_SOFTMAX = {
    "subtract the maximum, add it back": _by_hand,
    "logsumexp": _logsumexp,
    "in float64": _float64,
    "torch.log_softmax itself": lambda x: torch.log_softmax(x, dim=-1),
    "F.log_softmax, numpy out": lambda x: torch.nn.functional.log_softmax(x, dim=-1).numpy(),
}


test_wrong_log_softmax_gets_its_hint, test_right_log_softmax_passes = answer_tests(
    checks.check_log_softmax, by_hint(WRONG_LOG_SOFTMAX), RIGHT_LOG_SOFTMAX)


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
    "id2label's keys are ints here": lambda p, id2label: [  # config.json's string keys, as notebook 05 reads them
        {"label": id2label[str(int(row.argmax()))], "score": row.max().item()} for row in p],
    "one item per label": lambda p, id2label: [{"label": id2label[int(i)], "score": p[r, i].item()}
                                               for r, i in enumerate(p.argmax(dim=0))],
    "went through softmax again": lambda p, id2label: _labels(p.softmax(dim=-1), id2label),
    "not a percentage": lambda p, id2label: _labels(p, id2label, score=lambda v: 100 * v.item()),
    "one name, a str, per row": lambda p, id2label: [dict(d, label=[d["label"]]) for d in _labels(p, id2label)],
}

RIGHT_LABELS = {
    "argmax and item": lambda p, id2label: _labels(p, id2label),
    "max(dim=-1)": lambda p, id2label: [{"label": id2label[int(i)], "score": float(v)}
                                        for v, i in zip(*p.max(dim=-1))],
    "tolist first": lambda p, id2label: [
        {"label": id2label[max(range(len(r)), key=r.__getitem__)], "score": max(r)} for r in p.tolist()],
    "extra keys are fine": lambda p, id2label: [dict(d, index=0) for d in _labels(p, id2label)],
    "float() of a 0-d tensor": lambda p, id2label: _labels(p, id2label, score=lambda v: float(v)),
    "the names in id2label's order": lambda p, id2label: [
        {"label": list(id2label.values())[int(row.argmax())], "score": row.max().item()} for row in p],
}


test_wrong_labels_get_their_hint, test_right_labels_pass = answer_tests(
    checks.check_to_labels, by_hint(WRONG_LABELS), RIGHT_LABELS)
