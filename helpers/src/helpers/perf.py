"""Measurement plumbing shared by notebook 07 and ``make bench`` (``python -m helpers.bench``).

- :func:`memory_bandwidth`: what this machine's memory can stream, measured with a large copy.
- :func:`matvec_bandwidth`: what one matrix-vector product (the kernel decoding spends its time in) reaches.
- :func:`bytes_per_token`: bytes of weights a decoding step reads (every parameter once).
- :func:`best_of`, :func:`race`: wall-clock timers (best of a few runs, interleaved so background load hits all sides).
- :func:`step_seconds`: the wall time of each step of a greedy decode, with or without the KV cache.
- :func:`filter_logits`, :func:`sample`: a reference copy of notebook 07's sampling loop, so the benchmark times the
  same algorithm the lesson writes (the notebook shows its own readable version and asserts both agree).
"""

from __future__ import annotations

import time
from typing import Any, Callable

GB = 1e9


def memory_bandwidth(megabytes: int = 128, repeats: int = 5) -> float:
    """Memory bandwidth in GB/s from the best of ``repeats`` copies of a ``megabytes`` float32 tensor.

    Counts every byte read and every byte written (the STREAM "copy" convention), so a copy of N bytes moves 2N bytes.
    The default size is 4x a 32 MB L3 cache, big enough to measure main memory, small enough to keep RSS low.
    """
    import torch

    src = torch.ones(megabytes * 2**20 // 4)
    dst = torch.empty_like(src)
    dst.copy_(src)  # first touch: page faults are not bandwidth
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        dst.copy_(src)
        best = min(best, time.perf_counter() - t0)
    moved = 2 * src.numel() * src.element_size()
    del src, dst
    return moved / best / GB


def matvec_bandwidth(weight: Any, repeats: int = 10) -> float:
    """GB/s of weights streamed by ``F.linear(x, weight)`` for one input row (what a decoding step does per layer)."""
    import torch

    x = torch.randn(1, weight.shape[1], dtype=weight.dtype)
    with torch.no_grad():
        torch.nn.functional.linear(x, weight)  # warm-up
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            torch.nn.functional.linear(x, weight)
            best = min(best, time.perf_counter() - t0)
    return weight.numel() * weight.element_size() / best / GB


def bytes_per_token(model: Any) -> int:
    """Bytes of weights one decoding step reads: every (unique) parameter once. Tied weights count once."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def best_of(fn: Callable[[], Any], repeats: int = 3) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn`` (the least disturbed by other work), in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def race(fns: dict[str, Callable[[], Any]], repeats: int = 3, warmup: bool = True) -> dict[str, float]:
    """Best wall time of each function, running them in turn round after round so background load hits all alike."""
    if warmup:
        for fn in fns.values():
            fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def step_seconds(model: Any, input_ids: Any, n_tokens: int, use_cache: bool) -> list[float]:
    """Wall seconds of each of ``n_tokens`` greedy decoding steps; step 0 also reads the prompt (the prefill).

    Without the cache every step runs the whole sequence so far; with it, only the newest token.
    """
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config) if use_cache else None
    ids, step_input, seconds = input_ids, input_ids, []
    with torch.no_grad():
        for _ in range(n_tokens):
            t0 = time.perf_counter()
            out = model(step_input, cache=cache, use_cache=use_cache, logits_to_keep=1)
            next_tokens = out.logits[:, -1].argmax(dim=-1, keepdim=True)
            ids = torch.cat([ids, next_tokens], dim=-1)
            step_input = next_tokens if use_cache else ids
            seconds.append(time.perf_counter() - t0)
    return seconds


# ------------------------------------------------------------------ reference copy of notebook 07's loop


def filter_logits(logits: Any, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> Any:
    """Temperature, then top-k, then top-p: the order ``generate`` applies them (notebook 07 shows where)."""
    import torch

    if temperature != 1.0:
        logits = logits / temperature
    if top_k:
        kth_best = torch.topk(logits, min(top_k, logits.size(-1))).values[..., -1:]
        logits = logits.masked_fill(logits < kth_best, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=False)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        remove = cumulative <= 1 - top_p
        remove[..., -1:] = False  # min_tokens_to_keep = 1
        logits = logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))
    return logits


def sample(model: Any, input_ids: Any, max_new_tokens: int, temperature: float = 1.0, top_k: int = 0,
           top_p: float = 1.0, eos_token_id: int | None = None, pad_token_id: int | None = None,
           use_cache: bool = True) -> Any:
    """Notebook 07's sampling loop (batch-safe EOS, optional KV cache); same tokens as ``generate`` under one seed."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config) if use_cache else None
    pad = eos_token_id if pad_token_id is None else pad_token_id
    finished = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    step_input = input_ids
    with torch.no_grad():
        for _ in range(max_new_tokens):
            out = model(step_input, cache=cache, use_cache=use_cache, logits_to_keep=1)
            logits = filter_logits(out.logits[:, -1].float(), temperature, top_k, top_p)
            next_tokens = torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1).squeeze(1)
            if eos_token_id is not None:
                next_tokens = torch.where(finished, pad, next_tokens)
                finished |= next_tokens == eos_token_id
            input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=-1)
            if finished.all():
                break
            step_input = next_tokens[:, None] if use_cache else input_ids
    return input_ids
