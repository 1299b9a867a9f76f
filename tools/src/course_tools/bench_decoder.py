"""``make bench``'s decoder race: notebook 10's fast hand decoder against ``model.generate`` on the same prompt.

    python -m course_tools.bench_decoder          # prints the figures as JSON

:func:`measure_decoder` imports the decoder from the lesson itself (``helpers.lessons.decoder_by_hand``: the
``#@save`` cells of ``notebooks/10_decoder_by_hand.ipynb``), so the benchmark times the code the lesson teaches.
Both sides decode greedily (end-of-sequence off, so both make exactly ``new_tokens`` tokens) from the same prompt,
with the same thread count, best of ``repeats`` runs each, interleaved so that background load hits both alike
(:func:`race`). Tokens per second = new tokens / wall time of the whole call (the prompt is short, so the
prefill is a small part of it, the same for both). Goal: the hand decoder at least 1.3x the library's speed, with the
same tokens.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

GOAL = 1.3  # hand decoder tokens/s over generate's


PROMPT = "The capital of France is"


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


def measure_decoder(new_tokens: int = 64, repeats: int = 3, prompt: str = PROMPT) -> dict[str, Any]:
    """Decode tokens/s of the fast hand decoder and of ``generate``, their ratio, and whether the tokens agree."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helpers.env import quiet, set_threads
    from helpers.lessons.decoder_by_hand import fast_decoder, greedy, load_fast
    from helpers.models import checkpoint

    quiet()
    threads = set_threads()
    folder = checkpoint("generator")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    library = AutoModelForCausalLM.from_pretrained(folder)  # as a learner loads it
    config = json.loads((Path(folder) / "config.json").read_text())  # as the lesson reads it
    fast = load_fast(folder, config)  # the lesson's fused, transposed copy, read from the same file
    input_ids = tokenizer(prompt, return_tensors="pt").input_ids

    def hand() -> Any:
        return greedy(lambda ids, cache: fast_decoder(fast, config, ids, cache), input_ids, new_tokens)

    def lib() -> Any:
        with torch.no_grad():
            return library.generate(input_ids, do_sample=False, max_new_tokens=new_tokens, eos_token_id=None)

    same = torch.equal(hand(), lib())
    best = race({"hand": hand, "library": lib}, repeats=repeats, warmup=False)  # the calls above warmed up
    hand_speed, library_speed = new_tokens / best["hand"], new_tokens / best["library"]
    return {
        "decoder_new_tokens": new_tokens,
        "decoder_threads": threads,
        "hand_decoder_tokens_per_s": hand_speed,
        "library_decoder_tokens_per_s": library_speed,
        "hand_vs_library_decode_ratio": hand_speed / library_speed,
        "hand_decoder_same_tokens": same,
        "hand_decoder_goal": GOAL,
        "hand_decoder_meets_goal": same and hand_speed / library_speed >= GOAL,
    }


if __name__ == "__main__":
    print(json.dumps(measure_decoder(), indent=2))
