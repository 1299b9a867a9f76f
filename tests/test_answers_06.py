"""Notebook 06's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import functools

import torch

from answers import answer_tests, by_hint
from helpers.checks import kit_model, kit_tokenizer
from helpers.checks import lesson06 as checks


def _spans(start, end, mask, max_len, k, *, masked=True, ordered=True, longest=None):
    n = len(start)
    longest = max_len if longest is None else longest
    valid = [(s, e) for s in range(n) for e in range(n)
             if (not masked or (mask[s] and mask[e])) and (not ordered or s <= e) and abs(e - s) + 1 <= longest]
    valid.sort(key=lambda span: float(start[span[0]] + end[span[1]]), reverse=True)
    return valid[:k]


def _matrix(start, end, mask, max_len, k):
    scores = start[:, None] + end[None, :]
    allowed = torch.triu(torch.ones_like(scores, dtype=torch.bool)) & ~torch.triu(
        torch.ones_like(scores, dtype=torch.bool), diagonal=max_len)
    allowed &= mask[:, None] & mask[None, :]
    top = scores.masked_fill(~allowed, float("-inf")).flatten().topk(k).indices
    return [divmod(int(i), len(end)) for i in top]


def _probabilities(start, end, mask, max_len, k):  # as section 7 ranks them: p_start * p_end over the context
    p_s = start.masked_fill(~mask, float("-inf")).softmax(-1)
    p_e = end.masked_fill(~mask, float("-inf")).softmax(-1)
    spans = _spans(start, end, mask, max_len, len(start) ** 2)
    return sorted(spans, key=lambda span: float(p_s[span[0]] * p_e[span[1]]), reverse=True)[:k]


def _top_starts_and_ends(start, end, mask, max_len, k):  # the tempting shortcut: best starts x best ends only
    starts, ends = start.masked_fill(~mask, -1e9).topk(k).indices, end.masked_fill(~mask, -1e9).topk(k).indices
    pairs = [(int(s), int(e)) for s in starts for e in ends if s <= e < s + max_len]
    return sorted(pairs, key=lambda span: float(start[span[0]] + end[span[1]]), reverse=True)[:k]


WRONG_SPANS = {
    "outside the context": lambda *a: _spans(*a, masked=False),
    "ends before it starts": lambda *a: _spans(*a, ordered=False),
    "tokens long; max_answer_len": lambda s, e, m, n, k: _spans(s, e, m, n, k, longest=n + 1),
    "in the wrong order": lambda *a: _spans(*a)[::-1],  # sorted ascending, then the last k
    "one past the answer's last token": lambda *a: [(s, e + 1) for s, e in _spans(*a)],
    "a single (start, end) pair": lambda *a: _spans(*a)[0],
    "return exactly k": lambda s, e, m, n, k: _spans(s, e, m, n, k + 3),
    "a valid span is missing": _top_starts_and_ends,
    "the same span twice": lambda *a: [_spans(*a)[0]] * a[4],
    "did you forget `return`": lambda *a: None,
    "should be a list of (start, end) pairs": lambda *a: [s for s, _ in _spans(*a)],
}

RIGHT_SPANS = {
    "brute force": _spans,
    "a score matrix and topk": _matrix,
    "ranked by p_start * p_end": _probabilities,
    "lists, not tuples": lambda *a: [list(span) for span in _spans(*a)],
    "a tensor of pairs": lambda *a: torch.tensor(_spans(*a)),
}


test_wrong_spans_get_their_hint, test_right_spans_pass = answer_tests(
    checks.check_best_spans, by_hint(WRONG_SPANS), RIGHT_SPANS, kit=False)


def _lm():
    return kit_tokenizer("generator"), kit_model("generator", "AutoModelForCausalLM")


@functools.lru_cache(maxsize=4)
def _logits(prompt):
    tokenizer, model = _lm()
    with torch.no_grad():
        return model(**tokenizer(prompt, return_tensors="pt")).logits[0]


def _top(prompt, k, position=-1, probs=lambda logits: logits.softmax(-1), text=None, order=True):
    tokenizer, _ = _lm()
    logits = _logits(prompt)[position]
    p = probs(logits)
    top = logits.topk(k, largest=True, sorted=True)
    ids, values = top.indices.tolist(), p[top.indices].tolist()
    if not order:
        ids, values = ids[::-1], values[::-1]
    text = text or (lambda i: tokenizer.decode([i]))
    return [(text(i), v) for i, v in zip(ids, values)]


WRONG_TOP = {
    "those are logits": lambda prompt, k: _top(prompt, k, probs=lambda logits: logits),
    "log-probabilities": lambda prompt, k: _top(prompt, k, probs=lambda logits: logits.log_softmax(-1)),
    "over the top k only": lambda prompt, k: (lambda pairs: [(t, p / sum(q for _, q in pairs)) for t, p in pairs])(
        _top(prompt, k)),
    "after the first token": lambda prompt, k: _top(prompt, k, position=0),
    "those are token ids": lambda prompt, k: _top(prompt, k, text=lambda i: i),
    "in the wrong order": lambda prompt, k: _top(prompt, k, order=False),
    "use the `prompt` argument": lambda prompt, k: _top("The capital of France is", k),  # the notebook's PROMPT
    "return exactly k": lambda prompt, k: _top(prompt, 5),  # the notebook's TOP_K
    "did you forget `return`": lambda prompt, k: None,
    "a probability (a number)": lambda prompt, k: [(t, "high") for t, _ in _top(prompt, k)],
}

RIGHT_TOP = {
    "decode": lambda prompt, k: _top(prompt, k),
    "convert_ids_to_tokens": lambda prompt, k: _top(prompt, k, text=lambda i: kit_tokenizer(
        "generator").convert_ids_to_tokens(i)),
    "tensor probabilities": lambda prompt, k: [(t, torch.tensor(p)) for t, p in _top(prompt, k)],
    "float64 softmax": lambda prompt, k: _top(prompt, k, probs=lambda logits: logits.double().softmax(-1)),
    "lists, not tuples": lambda prompt, k: [[t, p] for t, p in _top(prompt, k)],
}


test_wrong_top_next_tokens_get_their_hint, test_right_top_next_tokens_pass = answer_tests(
    checks.check_top_next_tokens, by_hint(WRONG_TOP), RIGHT_TOP)
