"""Measurement plumbing of notebooks 09 and 10 (``make bench``, course_tools.bench, uses it too).

- :func:`memory_bandwidth`: what this machine's memory can stream: read only (a large sum) or a large copy.
- :func:`matvec_bandwidth`: what one matrix-vector product (the kernel decoding spends its time in) reaches,
  optionally with a given number of threads.
- :func:`linear_share`: how much of a decoding step is spent in the matrix-vector products of ``nn.Linear``.
- :func:`bytes_per_token`: bytes of weights a decoding step reads (every parameter once).
- :func:`best_of`: the best wall time of a few calls (the least disturbed by other work). Not
  ``torch.utils.benchmark.Timer``: that one sets its own thread count (1 by default) and repeats a call until a time
  budget is spent, while a lesson times one multi-second decode a few times with the threads it runs with.
- :func:`step_seconds`: the wall time of each step of a greedy decode, with or without the KV cache.
- :func:`step_seconds_by_length`: the wall time of one decoding step at several sequence lengths, with and without
  the cache.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

GB = 1e9


def memory_bandwidth(kind: str = "read", megabytes: int = 256, repeats: int = 5, threads: int | None = None) -> float:
    """Memory bandwidth in GB/s, the best of ``repeats`` passes over ``megabytes`` of float32 tensors.

    ``kind="read"`` sums the tensor: bytes read only, which is what a decoding step does with its weights.
    ``kind="copy"`` copies and counts every byte read and written (the STREAM "copy" convention); writing has costs of
    its own, so it answers a different question. ``megabytes`` is all the measurement allocates (a copy splits it into
    a source and a destination); the default is 8x a 32 MB L3 cache, so it measures main memory.
    ``threads`` runs the measurement with that many torch threads (and restores the count afterwards).
    """
    import torch

    if kind not in ("read", "copy"):
        raise ValueError(f'kind must be "read" or "copy", not {kind!r}')
    # the measurement allocates `megabytes` in all: one tensor to read, or two halves to copy from and into
    src = torch.ones(megabytes * 2**20 // 4 // (1 if kind == "read" else 2))  # ones: every page touched before timing
    if kind == "read":
        run = src.sum
    else:
        dst = torch.empty_like(src)
        dst.copy_(src)  # first touch: page faults are not bandwidth
        run = lambda: dst.copy_(src)  # noqa: E731
    with _threads(threads):
        best = best_of(run, repeats)
    moved = src.numel() * src.element_size() * (1 if kind == "read" else 2)
    return moved / best / GB


def matvec_bandwidth(weight: Any, repeats: int = 10, threads: int | None = None) -> float:
    """GB/s of weights streamed by ``F.linear(x, weight)`` for one input row (what a decoding step does per layer).

    ``threads`` runs it with that many torch threads (and restores the count afterwards).
    """
    import torch

    x = torch.randn(1, weight.shape[1], dtype=weight.dtype)
    with torch.no_grad(), _threads(threads):
        torch.nn.functional.linear(x, weight)  # warm-up
        best = best_of(lambda: torch.nn.functional.linear(x, weight), repeats)
    return weight.numel() * weight.element_size() / best / GB


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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


def linear_share(model: Any, input_ids: Any, n_tokens: int = 16) -> tuple[float, float]:
    """Seconds of ``n_tokens`` greedy decoding steps with the cache (after the prompt), and the part of them spent
    inside the model's ``nn.Linear`` layers (its matrix-vector products), timed by forward hooks."""
    import torch
    from transformers import DynamicCache

    inside, started = [0.0], {}

    def enter(module: Any, args: Any) -> None:
        started[module] = time.perf_counter()

    def leave(module: Any, args: Any, output: Any) -> None:
        inside[0] += time.perf_counter() - started.pop(module)

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    hooks = [m.register_forward_pre_hook(enter) for m in linears] + [m.register_forward_hook(leave) for m in linears]
    cache = DynamicCache(config=model.config)
    try:
        with torch.no_grad():
            step_input = model(input_ids, cache=cache, logits_to_keep=1).logits[:, -1].argmax(-1, keepdim=True)
            inside[0], t0 = 0.0, time.perf_counter()  # the prompt step (prefill) is not counted
            for _ in range(n_tokens):
                step_input = model(step_input, cache=cache, logits_to_keep=1).logits[:, -1].argmax(-1, keepdim=True)
            total = time.perf_counter() - t0
    finally:
        for hook in hooks:
            hook.remove()
    return total, inside[0]


def step_seconds_by_length(model: Any, input_ids: Any, lengths: list[int], repeats: int = 2) -> list[tuple]:
    """``(length, seconds without the cache, seconds with it)`` of ONE decoding step at each sequence length.

    Without the cache the step runs the first ``length`` tokens of ``input_ids`` through the model; with it, the last of
    them after a cache prefilled with the others (the prefill is not timed). Best of ``repeats`` each.
    """
    import torch
    from transformers import DynamicCache

    out = []
    with torch.no_grad():
        for n in lengths:
            ids = input_ids[:, :n]
            no_cache = best_of(lambda: model(ids, use_cache=False, logits_to_keep=1), repeats)
            cached = float("inf")
            for _ in range(repeats):
                cache = DynamicCache(config=model.config)
                model(ids[:, :-1], cache=cache, logits_to_keep=1)  # the prefill, not timed
                t0 = time.perf_counter()
                model(ids[:, -1:], cache=cache, logits_to_keep=1)
                cached = min(cached, time.perf_counter() - t0)
            out.append((n, no_cache, cached))
    return out
