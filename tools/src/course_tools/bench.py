"""``make bench``: how fast and how big the course is on this machine: a table, ``build/bench.json``, and the
section "Measured" of docs/benchmarks.md, which says what each figure means and its goal.

    python -m course_tools.bench                  # everything (a few minutes: it also runs every notebook)
    python -m course_tools.bench --no-notebooks   # only the generation measurements
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from helpers import perf
from helpers.display import Table
from helpers.errors import run_cli
from helpers.files import write_atomic

from . import paths
from .bench_decoder import measure_decoder, measure_quant, race

PROMPT = "Once upon a time, in a small village by the sea,"
SETTINGS = {"temperature": 0.7, "top_k": 50, "top_p": 0.9}
SEED = 0

# metric -> (comparison, target, unit shown in the table)
GOALS: dict[str, tuple[str, float]] = {
    "hand_loop_vs_generate_ratio": ("<=", 1.05),
    "decode_fraction_of_bandwidth_bound": (">=", 0.5),
    "notebooks_seconds_total": ("<=", 300.0),
    "notebook_seconds_max": ("<=", 120.0),  # each notebook under 2 minutes on these 2 cores
    "peak_rss_mb": ("<=", 1500.0),
    "sentiment_build_quiet_seconds": ("<=", 90.0),
    "sentiment_build_loaded_ratio": ("<=", 2.2),
    "sentiment_heldout_accuracy": (">=", 0.85),
    "test_suite_seconds": ("<=", 1200.0),
    "hand_vs_library_decode_ratio": (">=", 1.3),
    # notebook 12: the 4-bit hand decoder, its fastest (measure_quant; int8's ratios reported beside them); the
    # llama.cpp ratio only when llama_cpp is installed
    "quant_vs_fp32_hand_ratio": (">=", 2.0),
    "quant_vs_generate_ratio": (">=", 3.0),
    "quant_vs_llama_cpp_ratio": (">=", 0.5),
    "quant_fraction_of_bandwidth_bound": (">=", 0.5),
    "quant_fp32_hand_fraction_of_bandwidth_bound": (">=", 0.5),
    "quant_int8_top1_agreement": (">=", 0.99),
    "quant_int8_perplexity_ratio": ("<=", 1.02),
}
JUNIT = paths.root() / "build" / "test-results.xml"  # written by make test
DOC = paths.root() / "docs" / "benchmarks.md"  # its section "Measured" is the last run's table
MEASURED = "<!-- measured: `make bench` rewrites everything from here to the end of the file -->"

# One competing CPU-bound process (a learner's browser, another learner's kernel): busy for at most ``argv[1]``
# seconds, then it exits by itself, whatever happens to the benchmark.
COMPETITOR = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def measure_generation(nocache_tokens: int = 256, ratio_tokens: int = 64) -> dict[str, Any]:
    """The generation metrics (hand loop vs generate, cache vs no cache, decode speed vs the bandwidth bound)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helpers.env import quiet, set_threads
    from helpers.lessons.generation_by_hand import sample  # notebook 09's loop: the benchmark times the lesson's code
    from helpers.models import checkpoint

    quiet()
    set_threads()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint("generator"))
    model = AutoModelForCausalLM.from_pretrained(checkpoint("generator"))
    input_ids = tokenizer(PROMPT, return_tensors="pt").input_ids

    def hand(n: int, use_cache: bool = True) -> Any:
        torch.manual_seed(SEED)
        return sample(model, input_ids, n, **SETTINGS, eos_token_id=None, use_cache=use_cache)

    def library(n: int) -> Any:
        torch.manual_seed(SEED)
        return model.generate(input_ids, do_sample=True, **SETTINGS, max_new_tokens=n, eos_token_id=None)

    out: dict[str, Any] = {"nocache_tokens": nocache_tokens}
    log(f"hand loop vs generate, {ratio_tokens} new tokens, best of 4 each, interleaved")
    same = torch.equal(hand(ratio_tokens), library(ratio_tokens))
    best = race({"hand": lambda: hand(ratio_tokens), "generate": lambda: library(ratio_tokens)}, repeats=4)
    out["hand_loop_seconds_64"] = best["hand"]
    out["generate_seconds_64"] = best["generate"]
    out["hand_loop_vs_generate_ratio"] = best["hand"] / best["generate"]
    out["hand_loop_equals_generate"] = same

    log(f"hand loop with and without the KV cache, {nocache_tokens} new tokens (the one without takes minutes)")
    with_cache = perf.best_of(lambda: hand(nocache_tokens, use_cache=True), repeats=1)
    without_cache = perf.best_of(lambda: hand(nocache_tokens, use_cache=False), repeats=1)
    out[f"cache_seconds_{nocache_tokens}"] = with_cache
    out[f"nocache_seconds_{nocache_tokens}"] = without_cache
    out[f"nocache_vs_cache_ratio_{nocache_tokens}"] = without_cache / with_cache

    log("decode speed against the memory-bandwidth bound")
    steps = perf.step_seconds(model, input_ids, ratio_tokens + 1, use_cache=True)[1:]
    out["decode_tokens_per_s"] = 1 / statistics.median(steps)
    out["memory_bandwidth_gb_s"] = perf.memory_bandwidth("read")  # decoding only reads its weights
    out["memory_copy_gb_s"] = perf.memory_bandwidth("copy")
    out["bytes_per_token_mb"] = perf.bytes_per_token(model) / 1e6
    out["bandwidth_bound_tokens_per_s"] = out["memory_bandwidth_gb_s"] * 1e9 / perf.bytes_per_token(model)
    out["decode_fraction_of_bandwidth_bound"] = out["decode_tokens_per_s"] / out["bandwidth_bound_tokens_per_s"]
    out["lm_head_matvec_gb_s"] = perf.matvec_bandwidth(model.lm_head.weight)
    out["lm_head_matvec_1_thread_gb_s"] = perf.matvec_bandwidth(model.lm_head.weight, threads=1)
    out["memory_bandwidth_1_thread_gb_s"] = perf.memory_bandwidth("read", threads=1)
    out["threads"] = torch.get_num_threads()
    return out


def measure_notebooks(folder: Path | None = None, timeout: int = 900) -> dict[str, Any]:
    """Execute every notebook of ``folder`` in a fresh kernel, in a temporary copy; seconds and peak RSS of each."""
    import nbformat

    from .notebooks import describe, run

    folder = folder or paths.notebooks_dir()
    seconds: dict[str, float] = {}
    rss: dict[str, float] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        copy = Path(tmp) / "notebooks"
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for path in paths.lessons(copy):
            log(f"executing {path.name}")
            result = run(nbformat.read(path, as_version=4), copy, timeout)
            if result["error"] is not None:  # record it and go on with the other notebooks
                errors[path.stem] = describe(result["error"])[:250]
            seconds[path.stem] = result["seconds"]
            if result["peak_mib"] is None:
                errors.setdefault(path.stem, "could not read the kernel's peak memory")
            else:
                rss[path.stem] = result["peak_mib"]
    return {"notebooks_seconds": {**seconds, "total": sum(seconds.values())},
            "notebooks_peak_rss_mb": rss,
            "peak_rss_mb": max(rss.values()) if rss else float("nan"),
            "peak_rss_notebook": max(rss, key=rss.get) if rss else None,
            "notebook_errors": errors}


def _scratch_cache(path: Path) -> Path:
    """A kit cache holding only what the sentiment build reads: the encoder entry and the VADER sdist."""
    from helpers.models import MODELS
    from helpers.models import cache_dir

    (path / "downloads").mkdir(parents=True)
    shutil.copytree(cache_dir() / "encoder", path / "encoder")
    name = MODELS["sentiment"].file
    shutil.copy2(cache_dir() / "downloads" / name, path / "downloads" / name)
    return path


def _timed_build(cache: Path, command: list[str]) -> dict[str, Any]:
    """Run a build in its own cache; wall and CPU seconds (user + system of the build and its children)."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, "COURSE_CACHE": str(cache)}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(command)} failed: {' / '.join(tail)}")
    return {"seconds": wall, "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "load_average_before": load, "load_average_after": os.getloadavg()[0]}


def competitor(seconds: float) -> Any:
    """Start one competing CPU-bound process that exits by itself after ``seconds``."""
    import subprocess

    return subprocess.Popen([sys.executable, "-c", COMPETITOR, str(seconds)])


def measure_kit_under_load(command: list[str] | None = None, entry: str = "sentiment") -> dict[str, Any]:
    """The sentiment build quiet, then with one competing CPU-bound process; ratio in one run; same weights?"""
    from helpers.files import sha256
    from helpers.models import cache_dir, read_entry

    command = command or [sys.executable, "-m", "helpers.kit", entry]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kit-load-bench-") as tmp:
        log(f"{entry} build, quiet (this machine's load average: {os.getloadavg()[0]:.1f})")
        quiet = _timed_build(_scratch_cache(Path(tmp) / "quiet"), command)
        bound = max(300.0, 6 * quiet["seconds"])
        log(f"{entry} build with one competing CPU-bound process (it stops by itself within {bound:.0f} s)")
        rival = competitor(bound)
        try:
            loaded = _timed_build(_scratch_cache(Path(tmp) / "loaded"), command)
        finally:
            rival.terminate()
            rival.wait()
        out["sentiment_build_quiet_seconds"] = quiet["seconds"]
        out["sentiment_build_loaded_seconds"] = loaded["seconds"]
        out["sentiment_build_loaded_ratio"] = loaded["seconds"] / quiet["seconds"]
        out["sentiment_build_cpu_seconds"] = {"quiet": quiet["cpu_seconds"], "loaded": loaded["cpu_seconds"]}
        out["sentiment_build_load_average"] = {"quiet": [quiet["load_average_before"], quiet["load_average_after"]],
                                               "loaded": [loaded["load_average_before"], loaded["load_average_after"]]}
        out["competitor_bound_seconds"] = bound
        weights = {}
        for name in ("quiet", "loaded"):
            record = read_entry(Path(tmp) / name / entry) or {}
            if "training" in record:
                out["sentiment_heldout_accuracy"] = record["training"]["heldout_accuracy"]
            model = Path(tmp) / name / entry / "model.safetensors"
            weights[name] = sha256(model) if model.exists() else None
        kit_model = cache_dir() / entry / "model.safetensors"
        weights["kit"] = sha256(kit_model) if kit_model.exists() else None
        out["sentiment_weights_sha256"] = weights
        same = weights["quiet"] is not None
        out["sentiment_same_weights_quiet_loaded"] = same and weights["quiet"] == weights["loaded"]
        out["sentiment_same_weights_as_kit"] = same and weights["quiet"] == weights["kit"]
    return out


def suite_durations(junit: Path = JUNIT, top: int = 15) -> dict[str, Any]:
    """Where the last ``make test`` spent its time, from its JUnit report: wall time, slowest tests, per file."""
    import xml.etree.ElementTree as ET

    if not junit.exists():
        return {"test_durations_missing": f"no {junit.name}: run `make test` first (it writes {junit})"}
    root = ET.parse(junit).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    cases = [{"test": f"{case.get('classname', '')}::{case.get('name', '')}",
              "file": case.get("classname", ""), "seconds": float(case.get("time") or 0.0)}
             for case in suite.iter("testcase")]  # type: ignore[union-attr]
    per_file: dict[str, float] = {}
    for case in cases:  # classname: tests.test_kit, notebooks.01_pipelines.ipynb
        per_file[case["file"]] = per_file.get(case["file"], 0.0) + case["seconds"]
    return {"test_suite_seconds": float(suite.get("time") or 0.0),  # type: ignore[union-attr]
            "test_suite_started": suite.get("timestamp"), "test_suite_host": suite.get("hostname"),  # type: ignore[union-attr]
            "test_count": len(cases), "test_failures": int(suite.get("failures") or 0) + int(suite.get("errors") or 0),  # type: ignore[union-attr]
            "test_seconds_summed": sum(c["seconds"] for c in cases),
            "test_slowest": sorted(cases, key=lambda c: -c["seconds"])[:top],
            "test_seconds_per_file": dict(sorted(per_file.items(), key=lambda kv: -kv[1]))}


def goal_status(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For each goal: the target and whether the measured value meets it."""
    flat = dict(metrics)
    if "notebooks_seconds" in metrics:
        flat["notebooks_seconds_total"] = metrics["notebooks_seconds"]["total"]
        each = [v for k, v in metrics["notebooks_seconds"].items() if k != "total"]
        if each:
            flat["notebook_seconds_max"] = max(each)
    status = {}
    for name, (op, target) in GOALS.items():
        if name not in flat:
            continue
        value = flat[name]
        met = value <= target if op == "<=" else value >= target
        status[name] = {"goal": f"{op} {target:g}", "value": value, "met": bool(met)}
    if metrics.get("test_failures") and "test_suite_seconds" in status:  # a fast suite that failed is not met
        status["test_suite_seconds"]["met"] = False
        status["test_suite_seconds"]["why"] = f"{metrics['test_failures']} test(s) failed in that run"
    return status


def table(metrics: dict[str, Any], status: dict[str, dict[str, Any]]) -> Table:
    rows = []

    def row(name: str, value: Any, fmt: str = "{:.3f}", goal_key: str | None = None) -> None:
        goal = status.get(goal_key or name)
        rows.append({"metric": name, "value": fmt.format(value),
                     "goal": goal["goal"] if goal else "",
                     "status": ("met" if goal["met"] else "NOT met" + (f": {goal['why']}" if "why" in goal else ""))
                     if goal else ""})

    if "hand_loop_vs_generate_ratio" in metrics:
        row("hand_loop_vs_generate_ratio", metrics["hand_loop_vs_generate_ratio"])
        row("  hand loop / generate, 64 tokens (s)",
            f"{metrics['hand_loop_seconds_64']:.2f} / {metrics['generate_seconds_64']:.2f}", "{}")
        row("  same tokens as generate", metrics["hand_loop_equals_generate"], "{}")
        n = metrics["nocache_tokens"]
        row(f"nocache_vs_cache_ratio_{n}", metrics[f"nocache_vs_cache_ratio_{n}"], "{:.2f}")
        row(f"  without / with cache, {n} tokens (s)",
            f"{metrics[f'nocache_seconds_{n}']:.1f} / {metrics[f'cache_seconds_{n}']:.1f}", "{}")
        row("decode_tokens_per_s", metrics["decode_tokens_per_s"], "{:.1f}")
        row(f"  memory read, {metrics['threads']} / 1 thread(s) (GB/s)",
            f"{metrics['memory_bandwidth_gb_s']:.1f} / {metrics['memory_bandwidth_1_thread_gb_s']:.1f}", "{}")
        row("  memory copy, read + written (GB/s, for comparison)", metrics["memory_copy_gb_s"], "{:.1f}")
        row("  weights read per token (MB)", metrics["bytes_per_token_mb"], "{:.0f}")
        row("  bound: read bandwidth / bytes (tokens/s)", metrics["bandwidth_bound_tokens_per_s"], "{:.1f}")
        row(f"  lm_head matrix-vector product, {metrics['threads']} / 1 thread(s) (GB/s)",
            f"{metrics['lm_head_matvec_gb_s']:.1f} / {metrics['lm_head_matvec_1_thread_gb_s']:.1f}", "{}")
        row("decode_fraction_of_bandwidth_bound", metrics["decode_fraction_of_bandwidth_bound"])
    if "hand_vs_library_decode_ratio" in metrics:
        row("hand_vs_library_decode_ratio", metrics["hand_vs_library_decode_ratio"], "{:.2f}")
        row(f"  hand decoder (10) / generate, {metrics['decoder_new_tokens']} greedy tokens (tokens/s)",
            f"{metrics['hand_decoder_tokens_per_s']:.1f} / {metrics['library_decoder_tokens_per_s']:.1f}", "{}")
        row("  same tokens as generate", metrics["hand_decoder_same_tokens"], "{}")
    if "quant_vs_fp32_hand_ratio" in metrics:
        for name in ("quant_vs_fp32_hand_ratio", "quant_vs_generate_ratio", "quant_vs_llama_cpp_ratio",
                     "quant_fraction_of_bandwidth_bound", "quant_fp32_hand_fraction_of_bandwidth_bound",
                     "quant_int8_top1_agreement", "quant_int8_perplexity_ratio"):
            if name in metrics:
                row(name, metrics[name], "{:.3f}")
        racers = ("generate", "fp32_hand", "int8_hand", "int4_hand", "llama_cpp")
        speeds = [k for k in racers if f"quant_{k}_tokens_per_s" in metrics]
        row(f"  {' / '.join(speeds)} (tokens/s)",
            " / ".join(f"{metrics[f'quant_{k}_tokens_per_s']:.1f}" for k in speeds), "{}")
        row("  int8 / 4-bit same greedy tokens as float32", f"{metrics['quant_int8_same_greedy_tokens']} / "
            f"{metrics.get('quant_int4_same_greedy_tokens')}", "{}")
        if "quant_int8_vs_fp32_hand_ratio" in metrics:
            int8 = (metrics["quant_int8_vs_fp32_hand_ratio"], metrics["quant_int8_fraction_of_bandwidth_bound"],
                    metrics.get("quant_int8_vs_llama_cpp_ratio", float("nan")))
            row("  int8 hand: / float32 hand, fraction of its bound, / llama.cpp",
                f"{int8[0]:.2f}, {int8[1]:.3f}, {int8[2]:.2f}", "{}")
        if "quant_int4_top1_agreement" in metrics:
            row("  4-bit (int8 output layer): top-1 agreement / perplexity ratio",
                f"{metrics['quant_int4_top1_agreement']:.3f} / {metrics['quant_int4_perplexity_ratio']:.3f}", "{}")
        if "llama_cpp_fraction_of_bandwidth_bound" in metrics:
            row("  llama.cpp, fraction of its bound", metrics["llama_cpp_fraction_of_bandwidth_bound"], "{:.3f}")
        if "quant_int8_kernel_fraction_of_bandwidth" in metrics:
            row("  the 30 gate/up products alone, fraction of the bound: int8 / 4-bit kernel / float32 matvec",
                f"{metrics['quant_int8_kernel_fraction_of_bandwidth']:.3f} / "
                f"{metrics.get('quant_int4_kernel_fraction_of_bandwidth', float('nan')):.3f} / "
                f"{metrics['quant_fp32_kernel_fraction_of_bandwidth']:.3f}", "{}")
        if "quant_int4_compiled_vs_eager_ratio" in metrics:
            row("  4-bit hand through torch.compile: / eager, fraction of its bound, same tokens, compile (s)",
                f"{metrics['quant_int4_compiled_vs_eager_ratio']:.2f}, "
                f"{metrics['quant_int4_compiled_fraction_of_bandwidth_bound']:.3f}, "
                f"{metrics['quant_int4_compiled_same_tokens']}, {metrics['quant_int4_compile_seconds']:.0f}", "{}")
        elif "quant_int4_compiled_error" in metrics:
            row("  4-bit hand through torch.compile", metrics["quant_int4_compiled_error"], "{}")
        if "quant_int8_weights_only_top1_agreement" in metrics:
            row("  top-1 of int8's halves alone: its weights in float32 / bfloat16 arithmetic on float32's weights",
                f"{metrics['quant_int8_weights_only_top1_agreement']:.3f} / "
                f"{metrics['quant_bf16_arithmetic_only_top1_agreement']:.3f}", "{}")
        if "quant_int8_per_group_top1_agreement" in metrics:
            row("  top-1 of int8 per group of 32, float32 arithmetic: a scale (Q8_0's) / the file's grids",
                f"{metrics['quant_int8_per_group_top1_agreement']:.3f} / "
                f"{metrics.get('quant_int8_file_grid_top1_agreement', float('nan')):.3f}", "{}")
        if "quant_bf16_layers_fp32_head_top1_agreement" in metrics:
            row("  top-1 with float32's output layer: int8's layers / bfloat16 arithmetic on float32's layers",
                f"{metrics['quant_int8_layers_fp32_head_top1_agreement']:.3f} / "
                f"{metrics['quant_bf16_layers_fp32_head_top1_agreement']:.3f}", "{}")
        if not metrics.get("llama_cpp_installed"):
            row("  llama.cpp", "not installed: `make bench-llama` builds it and runs this race", "{}")
    if "notebooks_seconds" in metrics:
        rss = metrics.get("notebooks_peak_rss_mb", {})
        limit_s, limit_mb = GOALS["notebook_seconds_max"][1], GOALS["peak_rss_mb"][1]
        for name, seconds in metrics["notebooks_seconds"].items():
            if name == "total":
                continue
            mb = rss.get(name, float("nan"))
            met = seconds <= limit_s and mb <= limit_mb  # a missing memory figure (nan) is not met
            rows.append({"metric": f"  {name} (s / peak MB)", "value": f"{seconds:.1f} / {mb:.0f}",
                         "goal": f"<= {limit_s:g} / <= {limit_mb:g}",
                         "status": "ERROR" if name in metrics["notebook_errors"] else ("met" if met else "NOT met")})
        row("notebooks_seconds (total)", metrics["notebooks_seconds"]["total"], "{:.1f}", "notebooks_seconds_total")
        row("peak_rss_mb", metrics["peak_rss_mb"], "{:.0f}")
        rows[-1]["metric"] += f" ({metrics['peak_rss_notebook']})"
    if "sentiment_build_quiet_seconds" in metrics:
        load = metrics["sentiment_build_load_average"]
        row("sentiment_build_quiet_seconds", metrics["sentiment_build_quiet_seconds"], "{:.0f}")
        rows[-1]["metric"] += f" (load avg {load['quiet'][0]:.1f}->{load['quiet'][1]:.1f})"
        row("sentiment_build_loaded_ratio", metrics["sentiment_build_loaded_ratio"], "{:.2f}")
        row("  with one competing process (s)", metrics["sentiment_build_loaded_seconds"], "{:.0f}")
        rows[-1]["metric"] += f" (load avg {load['loaded'][0]:.1f}->{load['loaded'][1]:.1f})"
        cpu = metrics["sentiment_build_cpu_seconds"]
        row("  CPU seconds, quiet / loaded", f"{cpu['quiet']:.0f} / {cpu['loaded']:.0f}", "{}")
        row("sentiment_heldout_accuracy", metrics.get("sentiment_heldout_accuracy", float("nan")), "{:.4f}")
        row("  same weights quiet / loaded, and as the kit's",
            f"{metrics['sentiment_same_weights_quiet_loaded']} / {metrics['sentiment_same_weights_as_kit']}", "{}")
    if "test_suite_seconds" in metrics:
        row("test_suite_seconds", metrics["test_suite_seconds"], "{:.0f}")
        rows[-1]["metric"] += (f" ({metrics['test_count']} tests, {metrics['test_failures']} failed, "
                               f"{metrics['test_suite_started']})")
        row("  summed over tests (s; more than the wall time when run in parallel)",
            metrics["test_seconds_summed"], "{:.0f}")
        for name, seconds in list(metrics["test_seconds_per_file"].items())[:12]:
            row(f"  {name} (s)", seconds, "{:.0f}")
        for case in metrics["test_slowest"][:10]:
            row(f"  slowest: {case['test']} (s)", case["seconds"], "{:.1f}")
    elif "test_durations_missing" in metrics:
        rows.append({"metric": "test_suite_seconds", "value": "-", "goal": "<= 1200",
                     "status": metrics["test_durations_missing"]})
    loads = [metrics.get(k) for k in ("load_average_at_start", "load_average_at_end")]
    if all(loads):
        rows.append({"metric": "machine load average (1 min), start / end",
                     "value": f"{loads[0][0]:.1f} / {loads[1][0]:.1f}", "goal": "", "status": ""})
    return Table(rows, title="make bench (timings vary with the machine's load)")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")
    parser.add_argument("--no-generation", action="store_true", help="skip the generation measurements")
    parser.add_argument("--no-kit", action="store_true", help="skip the sentiment build quiet and under load")
    parser.add_argument("--quant-only", action="store_true",
                        help="only notebook 12's race (the int8 and 4-bit hand decoders, float32, generate, "
                             "llama.cpp if installed)")
    parser.add_argument("--nocache-tokens", type=int, default=256, help="new tokens for the cache comparison")
    parser.add_argument("--output", type=Path, default=paths.root() / "build" / "bench.json")
    args = parser.parse_args()

    started = time.perf_counter()
    metrics: dict[str, Any] = {"load_average_at_start": os.getloadavg()}
    if args.quant_only:
        metrics.update(measure_quant(prompt=PROMPT))
        status = write_report(args.output, metrics, started)
        print(table(metrics, status))
        return 0
    metrics.update(suite_durations())
    if not args.no_generation:
        metrics.update(measure_generation(nocache_tokens=args.nocache_tokens))
        metrics.update(measure_decoder(prompt=PROMPT))  # notebook 10's fast hand decoder against generate
        metrics.update(measure_quant(prompt=PROMPT))  # notebook 12's int8 and 4-bit hand decoders (and llama.cpp)
        write_report(args.output, metrics, started)  # kept even if a later stage fails
    if not args.no_kit:
        metrics.update(measure_kit_under_load())
        write_report(args.output, metrics, started)
    if not args.no_notebooks:
        metrics.update(measure_notebooks())
    metrics["load_average_at_end"] = os.getloadavg()
    status = write_report(args.output, metrics, started)
    print(table(metrics, status))
    write_measured(str(table(metrics, status)), metrics)
    root = paths.root()
    print(f"\nwrote {args.output.relative_to(root) if args.output.is_relative_to(root) else args.output} and the "
          f"measured section of {DOC.relative_to(root) if DOC.is_relative_to(root) else DOC}")
    errors = metrics.get("notebook_errors") or {}
    for name, err in errors.items():
        print(f"notebook {name} failed: {err}")
    return 1 if errors else 0


def write_measured(table_text: str, metrics: dict[str, Any], doc: Path = DOC) -> None:
    """Replace the measured section of docs/benchmarks.md (after its marker) with this run's table."""
    text = doc.read_text(encoding="utf-8")
    if MEASURED not in text:
        raise RuntimeError(f"{doc} has no line {MEASURED!r}: put it back where the measured section starts.")
    machine = f"{platform.platform()}, {os.cpu_count()} CPU cores"
    loads = [metrics.get(k) for k in ("load_average_at_start", "load_average_at_end")]
    load = f"; load average {loads[0][0]:.1f} at the start, {loads[1][0]:.1f} at the end" if all(loads) else ""
    section = (f"{MEASURED}\nThe last `make bench`, {time.strftime('%Y-%m-%d %H:%M')} on {machine}{load}:\n\n"
               f"```\n{table_text}\n```\n")
    write_atomic(doc, text[:text.index(MEASURED)] + section)


def write_report(output: Path, metrics: dict[str, Any], started: float) -> dict[str, dict[str, Any]]:
    """Write build/bench.json (machine, settings, metrics, goals); returns the goal status."""
    import torch
    import transformers

    status = goal_status(metrics)
    report = {
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "torch": torch.__version__, "transformers": transformers.__version__},
        "settings": {"model": "generator (SmolLM2-135M-Instruct, float32)", "prompt": PROMPT, "seed": SEED,
                     **SETTINGS},
        **metrics,
        "goals": status,
        "bench_seconds": time.perf_counter() - started,
        "note": "one run on a machine that may be shared (see the load averages: 1-, 5-, 15-minute): timings are "
                "noisy; compare runs on a quiet machine.",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return status


if __name__ == "__main__":
    run_cli(main)
