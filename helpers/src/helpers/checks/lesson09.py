"""Checks for notebook 09 (generation by hand): a shift-proof top-k filter, min-p filtering, batch-safe stopping.

The filter checks take the notebook's real logits of the kit's generator (``text_logits``, so the checks do not load a
second copy of the model) and compute the reference with transformers' own logits processors (``TopKLogitsWarper``,
``MinPLogitsWarper``).
"""

from __future__ import annotations

from typing import Any

from .core import (Hint, as_tensor, call, call_traced, exercise, expect_neg_inf, expect_shape, keepdim_slip,
                   kit_tokenizer)

TEMPERATURE = 0.7


def _tokenizer() -> Any:
    return kit_tokenizer("generator")


def _logits(logits: Any) -> Any:
    """The notebook's real logits (one row per position), divided by the temperature; a hint if they are not."""
    import torch

    if logits is None:
        raise Hint("pass the real logits of section 3 as the second argument: check(..., text_logits).")
    t = as_tensor(logits, "logits")
    if t.ndim != 2 or t.shape[-1] < 100 or not t.is_floating_point():
        raise Hint("pass the real logits of section 3, `text_logits` (shape (positions, vocabulary)), as the second "
                   f"argument; got shape {tuple(t.shape)}, dtype {t.dtype}.")
    if not torch.isfinite(t).all():
        raise Hint("the logits you passed already contain -inf or nan: pass the raw `text_logits` of section 3.")
    return t[:8].float() / TEMPERATURE


def _as_filtered(result: Any, logits: Any, what: str) -> Any:
    t = as_tensor(result, what)
    expect_shape(t, logits.shape, what)
    if t.is_floating_point() and (t >= 0).all() and (t <= 1).all() and t.sum(-1).sub(1).abs().max() < 1e-3:
        raise Hint(f"{what} looks like probabilities (each row sums to 1): return the filtered LOGITS, with -inf for "
                   "removed tokens; softmax comes later, in the sampling loop.")
    if t.isnan().any():
        raise Hint(f"{what} contains nan: fill removed tokens with float('-inf'), and never compute inf - inf.")
    return t.float()


def _compare_kept(mine: Any, ref: Any, logits: Any, what: str, rule: str) -> None:
    """Same kept tokens, kept logits unchanged, removed ones at -inf: a hint that says which of these fails."""
    import torch

    expect_neg_inf(mine, ~torch.isfinite(ref), what, fill_only=True)  # -inf, not 0 or -1e9
    kept_ref = torch.isfinite(ref)
    kept_mine = torch.isfinite(mine)
    counts_mine, counts_ref = kept_mine.sum(-1), kept_ref.sum(-1)
    advice = "Work along the last dimension (dim=-1), one row per sequence."
    if rule.startswith("top-") and bool((counts_mine == counts_ref - 1).all()):
        advice = ("The k-th largest logit itself must stay: remove only what is below it (`<`, not `<=`), and take k "
                  "values from topk, not k - 1.")
    elif rule.startswith("top-") and bool((counts_mine == 1).all()):
        advice = ("Only the best logit is kept: the threshold is the k-th largest, topk(...).values[..., -1:] (the "
                  "last of the k), not values[..., :1].")
    for row in range(ref.shape[0]):
        n_mine, n_ref = int(counts_mine[row]), int(counts_ref[row])
        if n_mine != n_ref:
            raise Hint(f"{what}: row {row} keeps {n_mine} tokens; {rule} keeps {n_ref}. {advice}")
    if not torch.equal(kept_mine, kept_ref):
        raise Hint(f"{what} keeps as many tokens as {rule} but not the same ones: keep the highest logits.")
    if not torch.equal(mine[kept_ref], ref[kept_ref].float()):
        raise Hint(f"{what} changes the logits it keeps: leave them as they were (only the removed ones change).")


@exercise
def check_top_k_filter(top_k_filter: Any, logits: Any = None) -> str:
    """``top_k_filter(logits, k)`` keeps the k largest logits of each row and sets the rest to -inf, at any shift."""
    import torch
    from transformers.generation.logits_process import TopKLogitsWarper

    logits = _logits(logits)
    shifted = logits - logits.max() - 5.0  # every logit negative: the seed's filter fails worst here
    keepdim = keepdim_slip(tuple(logits.shape), "topk(...).values[..., -1] (or .min(dim=-1))", "the logits")

    def slip(op: str, shapes: list, error: Exception) -> str | None:
        if op == "topk" and "out of range" in str(error):
            return (f"topk asked for more values than a dimension holds: the logits are {tuple(logits.shape)}, one "
                    "row per sequence; take the k largest along the last dimension, topk(k, dim=-1).")
        return keepdim(op, shapes, error)

    for k in (50, 5, 1):
        for name, x in (("the generator's logits", logits), ("the same logits shifted below 0", shifted)):
            mine = _as_filtered(call_traced(top_k_filter, x.clone(), k, what="top_k_filter", slip=slip), x,
                                f"top_k_filter(logits, {k})")
            ref = TopKLogitsWarper(top_k=k)(None, x.clone())
            _compare_kept(mine, ref, x, f"top_k_filter(logits, {k}) on {name}", f"top-{k}")
            probs_mine, probs_ref = torch.softmax(mine, -1), torch.softmax(ref, -1)
            if not torch.allclose(probs_mine, probs_ref, atol=1e-6):
                raise Hint(f"top_k_filter(logits, {k}): softmax of your result differs from top-k's.")
    return ("your filter matches transformers' TopKLogitsWarper for k = 50, 5, 1, and it does not care about a shift: "
            "softmax of -inf is exactly 0.")


def _min_p_kept(logits: Any, min_p: float, dim: int = -1) -> Any:
    """The tokens min-p keeps, computed the plain way: probability at least min_p x the top probability."""
    import torch

    probs = torch.softmax(logits, dim=dim)
    return probs >= min_p * probs.amax(dim=dim, keepdim=True)


@exercise
def check_min_p_filter(min_p_filter: Any, logits: Any = None) -> str:
    """``min_p_filter(logits, min_p)`` keeps tokens whose probability is at least min_p x the top probability."""
    import torch
    from transformers.generation.logits_process import MinPLogitsWarper

    logits = _logits(logits)
    slip = keepdim_slip(tuple(logits.shape), "probs.amax(dim=-1) (or .max)", "the probabilities")
    for min_p in (0.1, 0.02, 0.5, 1.0):  # 1.0: only the top token's probability reaches the threshold (greedy)
        what = f"min_p_filter(logits, {min_p})"
        mine = _as_filtered(call_traced(min_p_filter, logits.clone(), min_p, what="min_p_filter", slip=slip),
                            logits, what)
        ref = MinPLogitsWarper(min_p=min_p)(None, logits.clone())
        expect_neg_inf(mine, ~torch.isfinite(ref), what, fill_only=True)  # -inf, not 0 or -1e9
        probs = torch.softmax(logits, -1)
        top = probs.amax(-1, keepdim=True)
        threshold = min_p * top
        kept_mine, kept_ref = torch.isfinite(mine), torch.isfinite(ref)
        if kept_mine.any() and torch.allclose(mine[kept_mine], torch.log_softmax(logits, -1)[kept_mine], atol=1e-4):
            raise Hint(f"{what} returns log-probabilities (log_softmax) for the tokens it keeps: return the LOGITS "
                       "you were given, unchanged where kept and -inf where removed.")
        if torch.equal(kept_mine, probs > threshold) and not torch.equal(kept_mine, kept_ref):
            raise Hint(f"{what} also removes a token whose probability EQUALS the threshold (`<=`): min-p removes only "
                       "those strictly below it (`<`), so at min_p = 1.0 the top token itself stays.")
        again, undone = (TEMPERATURE, "divided by the temperature again"), (1 / TEMPERATURE, "with it undone")
        for t, how in (again, undone):
            if torch.equal(kept_mine, _min_p_kept(logits / t, min_p)) and not torch.equal(kept_mine, kept_ref):
                raise Hint(f"{what} keeps the tokens min-p keeps on logits {how}: the logits it receives are already "
                           "divided by the temperature (generate applies temperature first, min-p last); take the "
                           "softmax of the logits as they are.")
        if torch.equal(kept_mine, _min_p_kept(logits, min_p, dim=0)) and not torch.equal(kept_mine, kept_ref):
            raise Hint(f"{what} works down the columns (dim=0): softmax and the top probability are taken along the "
                       "last dimension (dim=-1), one row per sequence.")
        # a token within a hair of the threshold may fall either way depending on how you compute it: ignore those
        # (never the top token: it always stays)
        borderline = ((probs - threshold).abs() <= 1e-6 * threshold) & (probs < top)
        mine = torch.where(borderline, ref, mine)
        kept_mine = torch.isfinite(mine)
        if not kept_mine.any(-1).all():
            raise Hint(f"{what} removes every token of a row: the top token always stays.")
        if not kept_mine.gather(-1, probs.argmax(-1, keepdim=True)).all():
            raise Hint(f"{what} removes the most likely token of a row: keep the tokens whose probability is at least "
                       "the threshold, remove those below it.")
        if torch.equal(kept_mine, probs >= min_p) and not torch.equal(kept_mine, kept_ref):
            raise Hint(f"{what} compares each probability with min_p itself: the threshold is min_p times the TOP "
                       "token's probability of the row (probs.amax(dim=-1, keepdim=True)).")
        if kept_mine.sum() > kept_ref.sum() and torch.equal(kept_mine & kept_ref, kept_ref):
            n_mine, n_ref = int(kept_mine.sum()), int(kept_ref.sum())
            raise Hint(f"{what} keeps {n_mine} tokens over all rows, min-p keeps {n_ref}: the threshold is min_p "
                       "times the TOP token's probability (probs.amax(dim=-1, keepdim=True)), compared with "
                       "probabilities (softmax), not logits.")
        if kept_mine.sum() < kept_ref.sum() and torch.equal(kept_mine & kept_ref, kept_mine):
            raise Hint(f"{what} keeps too few tokens: remove a token only when its probability is BELOW "
                       "min_p x top probability (strictly).")
        _compare_kept(mine, ref, logits, what, "min-p")
    return ("your min-p filter matches transformers' MinPLogitsWarper for min_p = 0.1, 0.02, 0.5 and 1.0 (greedy: "
            "only the top token reaches its own probability): the cut follows the model's confidence.")


def _reference_update(next_tokens: Any, finished: Any, stop_ids: Any, pad_id: int) -> tuple[Any, Any]:
    import torch

    tokens = torch.where(finished, torch.full_like(next_tokens, pad_id), next_tokens)
    return tokens, finished | torch.isin(tokens, torch.as_tensor(stop_ids))


@exercise
def check_update_finished(update_finished: Any) -> str:
    """``update_finished(next_tokens, finished, stop_ids, pad_id)`` -> (tokens to append, new finished flags)."""
    import torch

    tokenizer = _tokenizer()
    eos = tokenizer.eos_token_id
    other_stop = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    stop_ids = [eos, other_stop]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    word = tokenizer(" Paris", add_special_tokens=False).input_ids[0]
    dot = tokenizer(".", add_special_tokens=False).input_ids[0]
    cases: list[tuple[Any, ...]] = [  # (what the case is about, next tokens, finished before[, pad id])
        ("a single running row", [word], [False]),
        ("a single row that says EOS", [eos], [False]),
        ("a batch: running, just stopping, already finished, second stop token",
         [word, eos, dot, other_stop], [False, False, True, False]),
        ("a batch where every row was already finished", [word, dot], [True, True], pad),
    ]
    # many models pad with a token that is not a stop token: then a finished row must stay finished by itself
    other_pad = tokenizer.convert_tokens_to_ids("<|im_start|>")
    cases.append(("a batch whose pad token is not a stop token", [word, eos, dot], [True, False, False], other_pad))
    for what, tokens, done, *pad_given in cases:
        pad = pad_given[0] if pad_given else pad
        next_tokens = torch.tensor(tokens)
        finished = torch.tensor(done)
        try:
            result = call(update_finished, next_tokens.clone(), finished.clone(), list(stop_ids), pad,
                              what="update_finished")
        except Hint as hint:
            if "ambiguous" in str(hint):
                raise Hint(f"{what}: `if tensor == ...` asks Python for ONE truth value of a whole batch (the seed's "
                           "`if next_token == eos`). Work on the whole tensor at once instead: one flag per row, one "
                           "token per row.") from None
            raise
        if not isinstance(result, tuple) or len(result) != 2:
            raise Hint(f"update_finished should return two things, (tokens, finished); got {type(result).__name__}.")
        mine_tokens, mine_finished = (as_tensor(r, n) for r, n in zip(result, ("tokens", "finished")))
        ref_tokens, ref_finished = _reference_update(next_tokens, finished, stop_ids, pad)
        expect_shape(mine_tokens, ref_tokens.shape, f"tokens for {what}")
        expect_shape(mine_finished, ref_finished.shape, f"finished for {what}")
        if mine_finished.dtype != torch.bool:
            raise Hint(f"finished should be a bool tensor (one flag per row); got dtype {mine_finished.dtype}.")
        if not torch.equal(mine_tokens.long(), ref_tokens):
            rows = (mine_tokens.long() != ref_tokens).nonzero().flatten().tolist()
            row = rows[0]
            if finished[row]:
                raise Hint(f"{what}: row {row} had already finished, so it gets the pad token ({pad}), not "
                           f"{int(mine_tokens[row])}.")
            raise Hint(f"{what}: row {row} is still running (or stops now): append its own token "
                       f"{int(ref_tokens[row])}; the stop token itself is kept, as generate keeps it.")
        if not torch.equal(mine_finished, ref_finished):
            row = (mine_finished != ref_finished).nonzero().flatten().tolist()[0]
            if ref_finished[row]:
                raise Hint(f"{what}: row {row} should now be finished (it produced a stop token, or had finished "
                           "before: once finished, always finished). Any id in stop_ids stops a row: torch.isin.")
            raise Hint(f"{what}: row {row} should still be running: only a stop token finishes a row.")
    return ("rows stop independently: finished rows get the pad token, any stop id finishes a row, and nothing "
            "asks Python for the truth value of a whole tensor.")
