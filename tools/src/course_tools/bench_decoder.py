"""``make bench``'s decoder race: notebook 10's fast hand decoder against ``model.generate`` on the same prompt.

    python -m course_tools.bench_decoder          # prints the figures as JSON

:func:`measure_decoder` imports the decoder from the lesson itself (``helpers.lessons.decoder_by_hand``: the
``#@save`` cells of ``notebooks/10_decoder_by_hand.ipynb``), so the benchmark times the code the lesson teaches.
Both sides decode greedily (end-of-sequence off, so both make exactly ``new_tokens`` tokens) from the same prompt,
with the same thread count, best of ``repeats`` runs each, interleaved so that background load hits both alike
(:func:`race`). Tokens per second = new tokens / wall time of the whole call (the prompt is short, so the
prefill is a small part of it, the same for both). Goal: the hand decoder at least 1.3x the library's speed, with the
same tokens.

:func:`measure_quant` is notebook 12's race (``python -m course_tools.bench_decoder --quant``): the int8 and 4-bit hand
decoders (``helpers.lessons.fast_and_small``) against the float32 one, ``generate`` and, when installed (``make
bench-llama``), llama.cpp on the kit's own GGUF file; plus the quantised decoders' top-1 agreement and perplexity
against float32.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

GOAL = 1.3  # hand decoder tokens/s over generate's
LLAMA_CPP = "llama-cpp-python==0.3.36"  # `make bench-llama` builds it from its PyPI sdist (never make lab / test)


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


class _Int8PerGroupInFloat32:
    """int8 with one scale per group of 32 weights (GGUF's Q8_0 layout) instead of one per row, dequantised once and
    multiplied in float32: what finer int8 scales would buy, with no kernel's arithmetic in the way."""

    def __init__(self, w: Any) -> None:  # w (out, in), float32
        groups = w.reshape(w.shape[0], -1, 32)
        scale = groups.abs().amax(dim=-1, keepdim=True) / 127
        self.w = ((groups / scale).round().clamp(-127, 127) * scale).reshape(w.shape)

    def __call__(self, x: Any) -> Any:
        return x @ self.w.T

    def rows(self, ids: Any) -> Any:
        return self.w[ids]


class _Int8MinPerGroupInFloat32(_Int8PerGroupInFloat32):
    """int8 with a minimum and a scale per group of 32 (256 levels from the group's minimum to its maximum), in float32
    arithmetic. On weights that are Q4_1's (16 levels from the group's minimum to its maximum) each 4-bit step is 17
    int8 steps, so this int8 finds the file's weights again: an int8 grid that contains the file's."""

    def __init__(self, w: Any) -> None:  # w (out, in), float32
        groups = w.reshape(w.shape[0], -1, 32)
        low = groups.amin(dim=-1, keepdim=True)
        scale = ((groups.amax(dim=-1, keepdim=True) - low) / 255).clamp_min(1e-12)
        self.w = (((groups - low) / scale).round().clamp(0, 255) * scale + low).reshape(w.shape)


def _compiled(eager: Callable[[], Any], int4: Any, config: dict, input_ids: Any, new_tokens: int,
              repeats: int) -> dict[str, Any]:
    """The 4-bit decoder's step through torch.compile (inductor, which writes and compiles C++ for the CPU), raced
    against the eager one in one run: whether fusing the ~1,400 small operations between the kernels of a step lifts
    its fraction of the bound. Not used by the lesson (the compile takes minutes, and needs a C++ compiler)."""
    import torch

    from helpers.lessons.decoder_by_hand import greedy
    from helpers.lessons.fast_and_small import small_decoder

    try:
        step = torch.compile(lambda ids, cache: small_decoder(int4, config, ids, cache), dynamic=True)
        t0 = time.perf_counter()
        tokens = greedy(step, input_ids, new_tokens)  # the first call compiles
        seconds = time.perf_counter() - t0
    except Exception as err:  # no C++ compiler, or inductor cannot handle an operation: say so, bench on
        return {"quant_int4_compiled_error": f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"}
    best = race({"eager": eager, "compiled": lambda: greedy(step, input_ids, new_tokens)}, repeats=repeats)
    return {"quant_int4_compile_seconds": seconds, "quant_int4_compiled_same_tokens": torch.equal(tokens, eager()),
            "quant_int4_compiled_vs_eager_ratio": best["eager"] / best["compiled"],
            "quant_int4_compiled_tokens_per_s": new_tokens / best["compiled"]}


def _quality(fast: Any, int8: Any, int4: Any, config: dict, tokenizer: Any, snippets: int) -> dict[str, float]:
    """int8 and 4-bit (int8's output layer) against float32 on the first ``snippets`` movie reviews: top-1 agreement
    and perplexity ratio; the top-1 agreement of int8's two halves alone (notebook 12, section 7): its weights in
    float32 arithmetic, and float32's weights in the kernel's bfloat16 arithmetic; and of int8 with a scale per group
    of 32, and with a minimum and a scale per group of 32 for the layers (the file's grids), in float32 arithmetic;
    and the output layer's share: int8's layers, and the bfloat16 arithmetic on float32's layers, each with float32's
    own output layer (the best any bfloat16 kernel could agree with the file's exact weights)."""
    import math

    import torch
    import torch.nn.functional as F

    from helpers.corpus import movie_reviews
    from helpers.lessons.fast_and_small import Bfloat16Rounding, Int8InFloat32, quantize_fast, small_decoder

    weights_only = {"head_t": Int8InFloat32(int8["head_t"]), "norm": int8["norm"], "layers": [
        {k: v if k.startswith("norm") else Int8InFloat32(v) for k, v in layer.items()} for layer in int8["layers"]]}
    variants = {"fp32": fast, "int8": int8, "int4": int4, "int8_weights_only": weights_only,
                "bf16_arithmetic_only": quantize_fast(fast, Bfloat16Rounding),
                "int8_per_group": quantize_fast(fast, _Int8PerGroupInFloat32)}
    # the file's own grids: Q4_1's layers in min-and-scale groups, the Q8_0 output layer in scale-only groups (shared)
    variants["int8_file_grid"] = quantize_fast(fast, _Int8MinPerGroupInFloat32,
                                               head=variants["int8_per_group"]["head_t"])
    # the output layer's share: the same layers with float32's own output layer (fast["head_t"], plain matvec)
    variants["int8_layers_fp32_head"] = {**int8, "head_t": fast["head_t"]}
    variants["bf16_layers_fp32_head"] = quantize_fast(fast, Bfloat16Rounding, head=fast["head_t"])
    agree = dict.fromkeys(variants, 0)
    nll = dict.fromkeys(variants, 0.0)
    positions = 0
    with torch.no_grad():
        for review in movie_reviews()[:snippets]:
            ids = tokenizer(review["text"], return_tensors="pt").input_ids
            out = {name: small_decoder(w, config, ids, [], every_position=True)[0, :-1] for name, w in variants.items()}
            for name, logits in out.items():
                agree[name] += int((out["fp32"].argmax(-1) == logits.argmax(-1)).sum())
                nll[name] += F.cross_entropy(logits, ids[0, 1:], reduction="sum").item()
            positions += ids.shape[1] - 1
    return {"quant_eval_positions": positions, "quant_int8_top1_agreement": agree["int8"] / positions,
            "quant_int8_perplexity_ratio": math.exp((nll["int8"] - nll["fp32"]) / positions),
            "quant_int4_top1_agreement": agree["int4"] / positions,
            "quant_int4_perplexity_ratio": math.exp((nll["int4"] - nll["fp32"]) / positions),
            "quant_int8_weights_only_top1_agreement": agree["int8_weights_only"] / positions,
            "quant_bf16_arithmetic_only_top1_agreement": agree["bf16_arithmetic_only"] / positions,
            "quant_int8_per_group_top1_agreement": agree["int8_per_group"] / positions,
            "quant_int8_file_grid_top1_agreement": agree["int8_file_grid"] / positions,
            "quant_int8_layers_fp32_head_top1_agreement": agree["int8_layers_fp32_head"] / positions,
            "quant_bf16_layers_fp32_head_top1_agreement": agree["bf16_layers_fp32_head"] / positions}


def measure_quant(new_tokens: int = 64, repeats: int = 3, prompt: str = PROMPT, snippets: int = 80) -> dict[str, Any]:
    """Notebook 12's race: generate, the float32 hand decoder, the int8 and 4-bit hand decoders, and llama.cpp on the
    kit's GGUF if ``llama_cpp`` is importable; tokens/s, bytes per token, fraction of the read-bandwidth bound, and the
    quantised decoders' quality against float32 (top-1 agreement and perplexity on movie reviews). The ``quant_vs_*``
    ratios and ``quant_fraction_of_bandwidth_bound`` are the 4-bit decoder's (the lesson's fastest); int8's are
    reported beside them."""
    import importlib.util
    import tempfile

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helpers.env import quiet, set_threads
    from helpers.lessons.decoder_by_hand import fast_decoder, greedy, load_fast
    from helpers.lessons.fast_and_small import (Int4Linear, Int8Linear, generator_gguf, multiply, quantize_fast,
                                                small_decoder)
    from helpers.models import checkpoint
    from helpers.perf import best_of, memory_bandwidth

    quiet()
    threads = set_threads()
    folder = checkpoint("generator")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    config = json.loads((Path(folder) / "config.json").read_text())
    library = AutoModelForCausalLM.from_pretrained(folder)
    fast = load_fast(folder, config)
    int8 = quantize_fast(fast, Int8Linear)
    int4 = quantize_fast(fast, Int4Linear, head=int8["head_t"])  # notebook 12's: 4-bit layers, int8's output layer
    input_ids = tokenizer(prompt, return_tensors="pt").input_ids
    fp32_bytes = sum(p.numel() * p.element_size() for p in library.parameters())
    int8_bytes, int4_bytes = (w["head_t"].nbytes + sum(v.nbytes for layer in w["layers"] for v in layer.values())
                              for w in (int8, int4))
    racers: dict[str, Callable[[], Any]] = {
        "generate": lambda: library.generate(input_ids, do_sample=False, max_new_tokens=new_tokens, eos_token_id=None),
        "fp32_hand": lambda: greedy(lambda ids, cache: fast_decoder(fast, config, ids, cache), input_ids, new_tokens),
        "int8_hand": lambda: greedy(lambda ids, cache: small_decoder(int8, config, ids, cache), input_ids, new_tokens),
        "int4_hand": lambda: greedy(lambda ids, cache: small_decoder(int4, config, ids, cache), input_ids, new_tokens)}
    bytes_per_token = {"generate": fp32_bytes, "fp32_hand": fp32_bytes, "int8_hand": int8_bytes,
                       "int4_hand": int4_bytes}
    scratch = tempfile.TemporaryDirectory()
    if importlib.util.find_spec("llama_cpp"):
        from llama_cpp import Llama

        import gguf

        path = generator_gguf(scratch.name)
        llm = Llama(model_path=str(path), n_threads=threads, n_ctx=512, verbose=False)
        racers["llama_cpp"] = lambda: llm(prompt, max_tokens=new_tokens, temperature=0.0, top_k=1,
                                          logit_bias={llm.token_eos(): -1e9})
        bytes_per_token["llama_cpp"] = sum(int(t.n_bytes) for t in gguf.GGUFReader(path).tensors)
    with torch.no_grad():
        reference = racers["fp32_hand"]()
        same = {kind: torch.equal(racers[f"{kind}_hand"](), reference) for kind in ("int8", "int4")}
        best = race(racers, repeats=repeats)
    speed = {name: new_tokens / seconds for name, seconds in best.items()}
    bandwidth = memory_bandwidth("read") * 1e9
    # the kernels' own ceiling: the 30 layers' gate/up products alone, one after another (more bytes than the cache
    # holds, as in a decoding step), with nothing else between them
    x = torch.randn(1, config["hidden_size"])
    kernels = {}
    for kind, weights in (("int8", int8), ("int4", int4), ("fp32", fast)):
        mats = [layer["gate_up_t"] for layer in weights["layers"]]
        seconds = best_of(lambda mats=mats: [multiply(x, m) for m in mats], repeats=10)
        kernels[kind] = sum(m.nbytes for m in mats) / seconds / bandwidth
    out: dict[str, Any] = {
        "quant_new_tokens": new_tokens, "quant_threads": threads, "quant_read_bandwidth_gb_s": bandwidth / 1e9,
        **{f"quant_{name}_tokens_per_s": v for name, v in speed.items()},
        **{f"quant_{name}_bytes_per_token_mb": b / 1e6 for name, b in bytes_per_token.items()},
        **{f"quant_{kind}_same_greedy_tokens": v for kind, v in same.items()},
        **{f"quant_{kind}_kernel_fraction_of_bandwidth": fraction for kind, fraction in kernels.items()},
        "quant_vs_fp32_hand_ratio": speed["int4_hand"] / speed["fp32_hand"],
        "quant_vs_generate_ratio": speed["int4_hand"] / speed["generate"],
        "quant_fraction_of_bandwidth_bound": speed["int4_hand"] * int4_bytes / bandwidth,
        "quant_int8_vs_fp32_hand_ratio": speed["int8_hand"] / speed["fp32_hand"],
        "quant_int8_fraction_of_bandwidth_bound": speed["int8_hand"] * int8_bytes / bandwidth,
        "quant_fp32_hand_fraction_of_bandwidth_bound": speed["fp32_hand"] * fp32_bytes / bandwidth,
        "llama_cpp_installed": "llama_cpp" in speed,
    }
    if "llama_cpp" in speed:
        out["quant_vs_llama_cpp_ratio"] = speed["int4_hand"] / speed["llama_cpp"]
        out["quant_int8_vs_llama_cpp_ratio"] = speed["int8_hand"] / speed["llama_cpp"]
        out["llama_cpp_fraction_of_bandwidth_bound"] = speed["llama_cpp"] * bytes_per_token["llama_cpp"] / bandwidth
    with torch.no_grad():
        out.update(_compiled(racers["int4_hand"], int4, config, input_ids, new_tokens, repeats))
    if "quant_int4_compiled_tokens_per_s" in out:
        out["quant_int4_compiled_fraction_of_bandwidth_bound"] = (
            out["quant_int4_compiled_tokens_per_s"] * int4_bytes / bandwidth)
    out.update(_quality(fast, int8, int4, config, tokenizer, snippets))
    scratch.cleanup()
    return out


if __name__ == "__main__":
    import sys

    print(json.dumps(measure_quant() if "--quant" in sys.argv else measure_decoder(), indent=2))
