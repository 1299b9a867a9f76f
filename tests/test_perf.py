"""helpers.perf, the measuring plumbing of notebook 09 and `make bench`, on a tiny random Llama (no kit needed).

Timings are never compared with targets here (that is `make bench`'s job); these tests check what the functions
count and that they leave the process as they found it.
"""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from helpers import perf


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         bos_token_id=1, eos_token_id=2, pad_token_id=2)
    return LlamaForCausalLM(config).eval()


def test_bytes_per_token_counts_tied_weights_once(tiny):
    unique = {p.data_ptr(): p.numel() * p.element_size() for p in tiny.parameters()}
    assert tiny.lm_head.weight.data_ptr() == tiny.model.embed_tokens.weight.data_ptr()
    assert perf.bytes_per_token(tiny) == sum(unique.values())


@pytest.fixture
def clock(monkeypatch):
    """perf's clock made to advance 0.5 s per reading, so each timed call lasts exactly 0.5 s."""
    ticks = iter(range(10**6))
    monkeypatch.setattr(perf.time, "perf_counter", lambda: next(ticks) * 0.5)


def test_bandwidth_is_bytes_moved_over_the_best_time_and_restores_threads(clock):
    before = torch.get_num_threads()
    mb = 8 * 2**20
    assert perf.memory_bandwidth("read", megabytes=8, repeats=2, threads=1) == pytest.approx(mb / 0.5 / 1e9)
    # a copy allocates 8 MB in all (two halves), reads one half and writes the other: 8 MB moved
    assert perf.memory_bandwidth("copy", megabytes=8, repeats=2) == pytest.approx(mb / 0.5 / 1e9)
    assert perf.matvec_bandwidth(torch.randn(256, 64), repeats=2, threads=1) == pytest.approx(256 * 64 * 4 / 0.5 / 1e9)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="read"):
        perf.memory_bandwidth("write", megabytes=8)


def test_step_seconds_times_each_step_alone(tiny, clock):
    ids = torch.tensor([[1, 5, 7]])
    for use_cache in (True, False):
        assert perf.step_seconds(tiny, ids, 4, use_cache=use_cache) == [0.5] * 4


def test_linear_share_is_part_of_the_steps_and_removes_its_hooks(tiny):
    total, inside = perf.linear_share(tiny, torch.tensor([[1, 5, 7]]), n_tokens=3)
    assert 0 < inside < total
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in tiny.modules())


@pytest.mark.parametrize("use_cache", [True, False])
def test_the_lessons_loop_the_benchmark_times_equals_generate(tiny, use_cache):
    from helpers.lessons.generation_by_hand import sample

    ids = torch.tensor([[1, 5, 7], [1, 9, 3]])
    settings = dict(temperature=0.7, top_k=20, top_p=0.9)
    torch.manual_seed(3)
    mine = sample(tiny, ids, 6, **settings, eos_token_id=2, pad_token_id=2, use_cache=use_cache)
    torch.manual_seed(3)
    library = tiny.generate(ids, do_sample=True, max_new_tokens=6, eos_token_id=2, pad_token_id=2,
                            use_cache=use_cache, **settings)
    assert torch.equal(mine, library)


def test_bench_goals_and_table():
    """`make bench`'s verdicts: met / NOT met against each goal, and the table shows them (no model needed)."""
    from course_tools import bench

    metrics = {"hand_loop_vs_generate_ratio": 1.2, "decode_fraction_of_bandwidth_bound": 0.6, "peak_rss_mb": 900.0,
               "notebooks_seconds": {"00_x": 10.0, "total": 10.0}, "notebook_errors": {}, "peak_rss_notebook": "00_x"}
    status = bench.goal_status(metrics)
    assert {k: v["met"] for k, v in status.items()} == {
        "hand_loop_vs_generate_ratio": False, "decode_fraction_of_bandwidth_bound": True,
        "notebooks_seconds_total": True, "notebook_seconds_max": True, "peak_rss_mb": True}
    notebooks_only = {"notebooks_seconds": {"00_x": 10.0, "01_y": 130.0, "total": 140.0}, "notebook_errors": {},
                      "notebooks_peak_rss_mb": {"00_x": 2000.0, "01_y": 500.0},
                      "peak_rss_mb": 2000.0, "peak_rss_notebook": "00_x"}  # 00 over 1500 MB, 01 over 120 s
    status = bench.goal_status(notebooks_only)
    assert not status["notebook_seconds_max"]["met"] and not status["peak_rss_mb"]["met"]
    lines = str(bench.table(notebooks_only, status)).splitlines()
    assert "notebooks_seconds (total)" in "\n".join(lines) and "peak_rss_mb (00_x)" in "\n".join(lines)
    # each notebook's own row says which goal it misses: 00 by memory, 01 by time
    for name in ("00_x", "01_y"):
        assert "NOT met" in next(line for line in lines if f"{name} (s / peak MB)" in line)
    fine = {**notebooks_only, "notebooks_peak_rss_mb": {"00_x": 900.0, "01_y": 500.0}}
    fine["notebooks_seconds"] = {"00_x": 10.0, "01_y": 100.0, "total": 110.0}
    text = str(bench.table(fine, bench.goal_status(fine)))
    row = next(line for line in text.splitlines() if "01_y (s / peak" in line)
    assert "NOT met" not in row and "met" in row


def test_the_memory_probe_reads_the_process_own_peak():
    """The probe the runner runs last in each kernel prints this process's peak RSS in MB (VmHWM on Linux)."""
    import contextlib
    import io

    from course_tools.notebooks import PEAK_RSS

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(PEAK_RSS, {})
    peak = float(out.getvalue().strip())
    assert 10 < peak < 100_000


@pytest.mark.notebooks
def test_bench_measures_each_notebook_and_goes_on_after_a_failure(tmp_path):
    """measure_notebooks runs every lesson of a folder with the course's runner: time and the kernel's own peak
    memory for each (a kernel that holds 200 MB more shows it), and a failing lesson is recorded, not fatal."""
    from course_tools import bench
    from course_tools.notebooks import code, md, write

    write(tmp_path / "00_small.ipynb", [md("# 00"), code("x = 1")])
    write(tmp_path / "01_broken.ipynb", [md("# 01"), code("1 / 0"), code("print('never')")])
    write(tmp_path / "02_big.ipynb", [md("# 02"), code("import numpy\nblock = numpy.ones(200 * 2**20 // 8)")])
    result = bench.measure_notebooks(tmp_path, timeout=120)
    assert set(result["notebooks_seconds"]) == {"00_small", "01_broken", "02_big", "total"}
    assert result["notebook_errors"] == {"01_broken": "ZeroDivisionError: division by zero"}
    rss = result["notebooks_peak_rss_mb"]
    assert rss["02_big"] - rss["00_small"] > 150 and result["peak_rss_notebook"] == "02_big"
