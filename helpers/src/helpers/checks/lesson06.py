"""Checks for notebook 06 (heads): the k best valid answer spans of extractive QA, and the top-k next tokens of the
kit's generator.

Every check computes its reference itself: spans by brute force over every (start, end) pair, next-token
probabilities from the kit's generator (loaded here, once).
"""

from __future__ import annotations

from typing import Any

from .core import (Hint, as_int, as_pairs, call, exercise, expect, expect_close, kit_forward, kit_tokenizer,
                   reject_mistakes)

NEXT_TOKEN_PROMPT = "Once upon a time, there was a"  # not the notebook's prompt: the function must really work


def _span_cases() -> list[dict[str, Any]]:
    """Start/end logits over 24 positions laid out like a QA input: [CLS] question [SEP] context [SEP], with traps."""
    import torch

    n, context = 24, list(range(9, 23))  # 0 = [CLS], 1-7 = question, 8 = [SEP], 9-22 = context, 23 = [SEP]
    mask = torch.zeros(n, dtype=torch.bool)
    mask[context] = True
    generator = torch.Generator().manual_seed(4)
    cases = []
    for k, max_len in ((3, 5), (5, 15)):
        start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
        cases.append({"start": start, "end": end, "k": k, "max_len": max_len, "trap": "random"})
    start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
    start[3], end[5] = 9.0, 9.0  # the best start and end of all are in the question
    cases.append({"start": start, "end": end, "k": 2, "max_len": 15, "trap": "question"})
    start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
    start[18], end[12] = 6.0, 6.0  # the best start comes after the best end
    cases.append({"start": start, "end": end, "k": 2, "max_len": 15, "trap": "order"})
    start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
    start[10], end[21] = 6.0, 6.0  # the best pair is 12 tokens long
    cases.append({"start": start, "end": end, "k": 2, "max_len": 4, "trap": "length"})
    start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
    start[12], end[16] = 6.0, 6.0  # the best pair is 5 tokens long, one more than allowed
    cases.append({"start": start, "end": end, "k": 2, "max_len": 4, "trap": "length, off by one"})
    for case in cases:
        case["mask"] = mask
    return cases


def _reference_spans(start: Any, end: Any, mask: Any, max_len: int, k: int) -> list[tuple[int, int]]:
    valid = [(s, e) for s in range(len(start)) for e in range(s, min(s + max_len, len(end))) if mask[s] and mask[e]]
    valid.sort(key=lambda span: -(start[span[0]] + end[span[1]]).item())
    return valid[:k]


def _as_spans(result: Any, k: int) -> list[tuple[int, int]]:
    if isinstance(result, tuple) and len(result) == 2 and all(not hasattr(v, "__len__") for v in result):
        raise Hint("best_spans returned a single (start, end) pair: return a list of the k best, even when k = 1.")
    pairs = as_pairs(result, "best_spans(...)", "(start, end) pairs of token positions")
    spans = [(as_int(s, "a span's start"), as_int(e, "a span's end")) for s, e in pairs]
    expect(len(spans) == k, f"best_spans returned {len(spans)} spans for k = {k}: return exactly k, best first.")
    return spans


@exercise
def check_best_spans(best_spans: Any) -> str:
    for case in _span_cases():
        start, end, mask, max_len, k = case["start"], case["end"], case["mask"], case["max_len"], case["k"]
        result = call(best_spans, start.clone(), end.clone(), mask.clone(), max_len, k,
                      what="best_spans(start_logits, end_logits, context_mask, max_answer_len, k)")
        spans = _as_spans(result, k)
        reference = _reference_spans(start, end, mask, max_len, k)
        if [(s, e - 1) for s, e in spans] == reference:
            raise Hint("each end is one past the answer's last token: end is the position of the last token itself "
                       "(inclusive), as start_logits and end_logits mean.")
        for s, e in spans:
            expect(0 <= s < len(start) and 0 <= e < len(end), f"span {(s, e)} is outside the input.")
            expect(bool(mask[s]) and bool(mask[e]), f"span {(s, e)} starts or ends outside the context (in the "
                                                    "question or on a special token): keep only positions where "
                                                    "context_mask is True.")
            expect(s <= e, f"span {(s, e)} ends before it starts: keep only start <= end.")
            expect(e - s + 1 <= max_len, f"span {(s, e)} is {e - s + 1} tokens long; max_answer_len is {max_len}: "
                                         "keep only end - start + 1 <= max_answer_len.")
        expect(len(set(spans)) == len(spans), "best_spans returned the same span twice.")
        if spans != reference:
            if set(spans) == set(reference):
                raise Hint("the right spans, in the wrong order: sort them best first (highest score first).")
            best = next(span for span in reference if span not in spans)
            score = (start[best[0]] + end[best[1]]).item()
            raise Hint(f"a valid span is missing: {best} scores start_logits[{best[0]}] + end_logits[{best[1]}] = "
                       f"{score:.3f}, more than one you returned. Score every valid (start, end) pair.")
    return "your spans are valid (in the context, start <= end, not too long) and the best ones, best first."


def _prompt_logits() -> Any:
    """Logits of the generator at every position of NEXT_TOKEN_PROMPT: shape (sequence, vocab)."""
    return kit_forward("generator", "AutoModelForCausalLM", (NEXT_TOKEN_PROMPT,))[0].logits[0]


def _as_token_pairs(result: Any, k: int) -> tuple[list[Any], Any]:
    """The learner's (token text, probability) pairs as texts and a float64 tensor of probabilities, or a hint."""
    import torch

    pairs = as_pairs(result, "top_next_tokens(...)", "(token text, probability) pairs")
    try:
        values = torch.tensor([float(p) for _, p in pairs], dtype=torch.float64)
    except (TypeError, ValueError):
        raise Hint("the second item of each pair should be a probability (a number).") from None
    expect(len(pairs) == k, f"top_next_tokens returned {len(pairs)} pairs for k = {k}: return exactly k.")
    tokens = [t for t, _ in pairs]
    if all(isinstance(t, int) or (hasattr(t, "item") and not isinstance(t, str)) for t in tokens):
        raise Hint("those are token ids: turn each into its text with tokenizer.decode(token_id).")
    expect(all(isinstance(t, str) for t in tokens), "each pair should start with the token's text (a str).")
    return tokens, values


@exercise
def check_top_next_tokens(top_next_tokens: Any) -> str:
    k = 4
    result = call(top_next_tokens, NEXT_TOKEN_PROMPT, k, what=f"top_next_tokens({NEXT_TOKEN_PROMPT!r}, {k})")
    mine, values = _as_token_pairs(result, k)
    tokenizer = kit_tokenizer("generator")  # loaded only now: an unwritten function gets its hint at once
    logits = _prompt_logits()
    probs = logits[-1].softmax(dim=-1)
    top = probs.topk(k)
    ids = top.indices.tolist()
    texts, raw = [tokenizer.decode([i]) for i in ids], tokenizer.convert_ids_to_tokens(ids)
    first_position = [tokenizer.decode([i]) for i in logits[0].softmax(dim=-1).topk(k).indices.tolist()]
    if mine == first_position and mine != texts:
        raise Hint("those are the predictions after the first token: the next token after the whole prompt is "
                   "predicted at the last position, logits[0, -1].")
    if mine != texts and mine != raw:
        if sorted(mine) == sorted(texts) or sorted(mine) == sorted(raw):
            raise Hint("the right tokens in the wrong order: most likely first (topk sorts them for you).")
        raise Hint(f"the tokens are not the {k} most likely after the prompt the check gave: use the `prompt` "
                   "argument, take the last position's logits, softmax, then topk.")
    reference = top.values.double()
    reject_mistakes(values, [
        (logits[-1, ids].double(), "those are logits, not probabilities: apply softmax over the whole vocabulary "
                                   "first."),
        (reference.log(), "those are log-probabilities: use softmax, not log_softmax."),
        (reference / reference.sum(), "the probabilities were normalised over the top k only: softmax over the "
                                      "whole vocabulary, then pick the top k."),
    ], reference, atol=1e-4)
    expect_close(values, reference, "the probabilities", atol=1e-4, hint="the probabilities are off by up to "
                 "{diff:.3g}: softmax over the last position's logits (no temperature), then topk.")
    return f"after {NEXT_TOKEN_PROMPT!r} the most likely next token is {texts[0]!r} ({reference[0].item():.2f})."
