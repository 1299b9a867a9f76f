"""Checks for notebook 06 (heads): the k best valid answer spans of extractive QA, and next-token probabilities
for a batch of prompts of different lengths, from one padded forward pass.

Every check computes its reference itself: spans by brute force over every (start, end) pair, next-token
probabilities from the kit's generator with each prompt run alone (loaded here, once).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .core import (Hint, as_int, as_pairs, as_tensor, call, exercise, expect, expect_match, expect_shape, hinted,
                   kit_model, kit_tokenizer)


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
    start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
    start[19], end[23] = 6.0, 9.0  # the best end of all is the final [SEP], after a good start in the context
    cases.append({"start": start, "end": end, "k": 2, "max_len": 15, "trap": "end outside"})
    start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
    start[11], end[14] = 6.0, 6.0  # the best pair is 4 tokens long, exactly as long as allowed
    cases.append({"start": start, "end": end, "k": 2, "max_len": 4, "trap": "length, exactly the limit"})
    for case in cases:
        case["mask"] = mask
    return cases


def _reference_spans(start: Any, end: Any, mask: Any, max_len: int, k: int,
                     score: Callable[[Any, Any], Any] = lambda a, b: a + b) -> list[tuple[int, int]]:
    valid = [(s, e) for s in range(len(start)) for e in range(s, min(s + max_len, len(end))) if mask[s] and mask[e]]
    valid.sort(key=lambda span: -score(start[span[0]], end[span[1]]).item())
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
            if spans == _reference_spans(start, end, mask, max_len, k, score=lambda a, b: a * b):
                raise Hint("a span scores start_logits[start] + end_logits[end], the sum (logits are log-scores: "
                           "p_start x p_end in log space), not their product.")
            best = next(span for span in reference if span not in spans)
            if best[1] - best[0] + 1 == max_len and all(e - s + 1 < max_len for s, e in spans):
                raise Hint(f"a span of exactly max_answer_len = {max_len} tokens is missing: it is allowed, "
                           "end - start + 1 <= max_answer_len (not <).")
            score = (start[best[0]] + end[best[1]]).item()
            raise Hint(f"a valid span is missing: {best} scores start_logits[{best[0]}] + end_logits[{best[1]}] = "
                       f"{score:.3f}, more than one you returned. Score every valid (start, end) pair.")
    return "your spans are valid (in the context, start <= end, not too long) and the best ones, best first."


# ---------------------------------------------------------------- exercise 2: next-token probabilities, batched

BATCH_PROMPTS = ("Once upon a time, there was a", "The sky is",  # lengths 8, 3 and 16 tokens: two rows are padded
                 "My favourite fruit, after a long day of walking in the hills, is the")
PROB_ATOL = 1e-4  # a padded batch sums in another order than one prompt alone: a few 1e-6 apart


@functools.lru_cache(maxsize=1)
def _alone() -> Any:
    """(prompts, vocab): each prompt run alone, the last position's softmax: the reference."""
    import torch

    tokenizer, model = kit_tokenizer("generator"), kit_model("generator", "AutoModelForCausalLM")
    with torch.no_grad():
        return torch.stack([model(**tokenizer(p, return_tensors="pt")).logits[0, -1].softmax(dim=-1)
                            for p in BATCH_PROMPTS])


@functools.lru_cache(maxsize=3)
def _batched(side: str, mask: bool = True) -> tuple[Any, Any]:
    """(logits, attention_mask) of BATCH_PROMPTS in one batch padded on ``side``, with or without the mask."""
    import torch

    tokenizer, model = kit_tokenizer("generator"), kit_model("generator", "AutoModelForCausalLM")
    batch = tokenizer(list(BATCH_PROMPTS), padding=True, padding_side=side, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits if mask else model(input_ids=batch["input_ids"]).logits
    return logits, batch["attention_mask"]


def _next_token_mistakes() -> dict[str, Callable[[], Any]]:
    import torch

    def last_real(logits: Any, mask: Any) -> Any:
        return logits[torch.arange(len(mask)), mask.sum(dim=-1) - 1]

    return {
        "last position, right padding": lambda: _batched("right")[0][:, -1].softmax(dim=-1),
        "left padding, no mask": lambda: _batched("left", mask=False)[0][:, -1].softmax(dim=-1),
        "first position": lambda: _batched("right")[0][:, 0].softmax(dim=-1),
        "softmax over the batch": lambda: last_real(*_batched("right")).softmax(dim=0),
        "log-probabilities": lambda: last_real(*_batched("right")).log_softmax(dim=-1),
        "logits": lambda: last_real(*_batched("right")),
    }


def _next_token_hints(tokenizer: Any) -> dict[str, str]:
    return {
        "last position, right padding": "the longest prompt's row is right, the shorter ones are not: this "
                                        f"tokenizer pads on the {tokenizer.padding_side} (tokenizer.padding_side), so "
                                        "position -1 of a shorter prompt is padding. Take each row's last real token, "
                                        "at attention_mask.sum(dim=-1) - 1, or pad on the left.",
        "left padding, no mask": "with left padding, the model must get the attention_mask too (model(**batch)): "
                                 "without it, it reads the padding in front of a shorter prompt as text.",
        "first position": "those are the predictions after the first token: the next token after a whole prompt is "
                          "predicted at its last real position.",
        "softmax over the batch": "softmax runs over the vocabulary (dim=-1): each row must sum to 1.",
        "log-probabilities": "those are log-probabilities: use softmax, not log_softmax.",
        "logits": "those are logits, not probabilities: apply softmax over the vocabulary (dim=-1).",
    }


def _calls(model: Any) -> tuple[list[tuple[int, ...]], Any]:
    """Record the batch shape of every forward call of ``model`` (the returned handle removes the hook)."""
    seen: list[tuple[int, ...]] = []

    def record(module: Any, args: tuple, kwargs: dict) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        seen.append(tuple(ids.shape) if hasattr(ids, "shape") else ())

    return seen, model.register_forward_pre_hook(record, with_kwargs=True)


@exercise
def check_next_token_probs(next_token_probs: Any) -> str:
    """``next_token_probs(model, tokenizer, prompts)`` -> (prompts, vocab), from one padded batch, each row equal to
    the prompt run alone."""
    import torch

    what = "next_token_probs(model, tokenizer, prompts)"
    expect(callable(next_token_probs), f"next_token_probs should be a function; got {type(next_token_probs).__name__}.")
    tokenizer, model = kit_tokenizer("generator"), kit_model("generator", "AutoModelForCausalLM")
    side, pad = tokenizer.padding_side, tokenizer.pad_token
    seen, hook = _calls(model)
    try:
        result = call(next_token_probs, model, tokenizer, list(BATCH_PROMPTS), what=what)
    except Hint as hint:
        if "Unable to create tensor" in str(hint) or "expected sequence of length" in str(hint):
            raise Hint("the prompts have different lengths, so they only fit in one tensor padded: "
                       "tokenizer(prompts, padding=True, return_tensors='pt').") from None
        raise
    finally:  # the tokenizer is shared with the other checks: undo what the answer changed
        hook.remove()
        tokenizer.padding_side, tokenizer.pad_token = side, pad
    if isinstance(result, (list, tuple)) and result and all(isinstance(r, torch.Tensor) for r in result):
        result = torch.stack([r.squeeze() for r in result])  # a list of rows, one per prompt
    t = as_tensor(result, f"the result of {what}").double()
    reference = _alone().double()
    vocab = reference.shape[-1]
    if t.dim() == 3 and t.shape[0] == len(BATCH_PROMPTS) and t.shape[-1] == vocab:
        raise Hint(f"shape {tuple(t.shape)} holds a distribution for every position: keep only the one that predicts "
                   "the next token, each row's last real position, (len(prompts), vocab).")
    expect_shape(t, reference.shape, "the result", {
        (vocab,): "that is one row: return one row of probabilities per prompt, (len(prompts), vocab).",
        (1, vocab): "that is one row: return one row of probabilities per prompt, (len(prompts), vocab).",
        (len(BATCH_PROMPTS), vocab, 1): "squeeze the last axis: (len(prompts), vocab)."})
    if not seen:
        raise Hint("your function never called the model it was given: use its `model` and `tokenizer` arguments "
                   "(the check passes its own).")
    if len(seen) > 1:
        raise Hint(f"you ran the model {len(seen)} times: that gives the right numbers, but the exercise is one padded "
                   "batch, a single call for all the prompts.")
    expect_match(t, reference, "the probabilities", hinted(_next_token_mistakes(), _next_token_hints(tokenizer)),
                 PROB_ATOL, "the probabilities are off by up to {diff:.3g} from each prompt run alone: softmax over "
                 "the vocabulary of the logits at each row's last real token.")
    diff = (t - reference).abs().max().item()
    words = [tokenizer.decode([int(i)]) for i in reference.argmax(dim=-1)]
    return (f"one padded batch gives each prompt's next-token probabilities, equal to running it alone (largest "
            f"difference {diff:.1e}); the most likely next tokens are {words}.")
