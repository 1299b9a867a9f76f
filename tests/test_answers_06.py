"""Notebook 06's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import pytest
import torch

from answers import answer_tests, by_hint, by_name
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


def _start_in_context_only(start, end, mask, max_len, k):  # the mask applied to the starts, not the ends
    n = len(start)
    valid = [(s, e) for s in range(n) for e in range(s, min(s + max_len, n)) if mask[s]]
    return sorted(valid, key=lambda span: float(start[span[0]] + end[span[1]]), reverse=True)[:k]


def _greedy(start, end, mask, max_len, k):  # the k best starts, each with the best end after it
    n, out = len(start), []
    for s in start.masked_fill(~mask, -1e9).argsort(descending=True)[:k].tolist():
        out.append((s, max(range(s, min(s + max_len, n)), key=lambda e: float(end[e]) if mask[e] else -1e9)))
    return out


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
    "starts or ends outside the context": _start_in_context_only,
    "exactly max_answer_len": lambda s, e, m, n, k: _spans(s, e, m, n, k, longest=n - 1),
    "not their product": lambda s, e, m, n, k: sorted(_spans(s, e, m, n, len(s) ** 2), reverse=True,
                                                      key=lambda span: float(s[span[0]] * e[span[1]]))[:k],
    "a valid span is missing: ": _greedy,
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


def _forward(model, tokenizer, prompts, side=None, mask=True):
    batch = tokenizer(prompts, padding=True, return_tensors="pt", **({"padding_side": side} if side else {}))
    with torch.no_grad():
        logits = model(**batch).logits if mask else model(input_ids=batch["input_ids"]).logits
    return logits, batch["attention_mask"]


def _last_real(logits, mask):
    return logits[torch.arange(len(mask)), mask.sum(dim=-1) - 1]


def gather_last_real(model, tokenizer, prompts):
    return _last_real(*_forward(model, tokenizer, prompts)).softmax(dim=-1)


def left_padding_last_position(model, tokenizer, prompts):
    tokenizer.padding_side = "left"  # changes the tokenizer it was given: the check restores it
    return _forward(model, tokenizer, prompts)[0][:, -1].softmax(dim=-1)


def padding_side_argument(model, tokenizer, prompts):
    return _forward(model, tokenizer, prompts, side="left")[0][:, -1].softmax(dim=-1)


def right_padding_no_mask(model, tokenizer, prompts):  # causal: a real token never sees the padding after it
    return _last_real(*_forward(model, tokenizer, prompts, mask=False)).softmax(dim=-1)


def float64_softmax_list(model, tokenizer, prompts):
    return list(_last_real(*_forward(model, tokenizer, prompts)).double().softmax(dim=-1))


def last_index_by_argmax(model, tokenizer, prompts):  # the last 1 of each mask row, found from the right
    logits, mask = _forward(model, tokenizer, prompts)
    last = mask.shape[1] - 1 - mask.flip(-1).argmax(dim=-1)
    return torch.softmax(logits[torch.arange(len(prompts)), last], dim=-1)


def _one_by_one(model, tokenizer, prompts):
    rows = []
    for p in prompts:
        with torch.no_grad():
            rows.append(model(**tokenizer(p, return_tensors="pt")).logits[0, -1].softmax(-1))
    return torch.stack(rows)


def _notebook_model(model, tokenizer, prompts):  # ignores its arguments, as if it used the notebook's lm
    return _alone_copy()


def _alone_copy():
    from helpers.checks.lesson06 import _alone

    return _alone().clone()


WRONG_NEXT = {
    "position -1 of a shorter prompt is padding": lambda m, t, p: _forward(m, t, p)[0][:, -1].softmax(-1),
    "must get the attention_mask too": lambda m, t, p: _forward(m, t, p, side="left", mask=False)[0][:, -1].softmax(-1),
    "predictions after the first token": lambda m, t, p: _forward(m, t, p)[0][:, 0].softmax(-1),
    "each row must sum to 1": lambda m, t, p: _last_real(*_forward(m, t, p)).softmax(dim=0),
    "those are log-probabilities": lambda m, t, p: _last_real(*_forward(m, t, p)).log_softmax(-1),
    "those are logits": lambda m, t, p: _last_real(*_forward(m, t, p)),
    "they only fit in one tensor padded": lambda m, t, p: m(**t(p, return_tensors="pt")).logits,
    "you ran the model 3 times": _one_by_one,
    "never called the model it was given": _notebook_model,
    "that is one row": lambda m, t, p: gather_last_real(m, t, p)[-1],
    "a distribution for every position": lambda m, t, p: _forward(m, t, p)[0].softmax(-1),
    "did you forget `return`": lambda m, t, p: None,
}

RIGHT_NEXT = by_name([gather_last_real, left_padding_last_position, padding_side_argument, right_padding_no_mask,
                      float64_softmax_list, last_index_by_argmax])

test_wrong_next_token_probs_get_their_hint, test_right_next_token_probs_pass = answer_tests(
    checks.check_next_token_probs, by_hint(WRONG_NEXT), RIGHT_NEXT)


@pytest.mark.usefixtures("kit")
def test_the_check_leaves_the_shared_tokenizer_as_it_was(capsys):
    tokenizer, _ = _lm()
    before = tokenizer.padding_side
    checks.check_next_token_probs(left_padding_last_position)
    assert tokenizer.padding_side == before and "Passed" in capsys.readouterr().out
