"""make bench's kit-under-load stage and test-durations table: the competing process is bounded and stops by itself,
the ratio comes from the two builds of one run, same-weights is checked, and the JUnit report is read right."""

from __future__ import annotations

import sys
import time

import pytest

from course_tools import bench


def _cpu_seconds_of(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of a child process run to its end; it must exit 0 by itself."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    assert subprocess.Popen(command).wait(timeout=60) == 0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic() - t0, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def test_competitor_stops_by_itself_and_is_busy_until_then():
    """It exits by itself after its time, and it computes all along: far more CPU than a process that sleeps as long
    (measured side by side, so a loaded machine lowers both)."""
    t0 = time.monotonic()
    proc = bench.competitor(2.0)
    assert proc.wait(timeout=60) == 0  # nobody stopped it
    assert 2.0 <= time.monotonic() - t0 < 60
    _, busy = _cpu_seconds_of([sys.executable, "-c", bench.COMPETITOR, "2"])
    _, idle = _cpu_seconds_of([sys.executable, "-c", "import time; time.sleep(2)"])
    assert busy > 3 * idle, f"the competitor used {busy:.2f} CPU-s in 2 s, a sleeper {idle:.2f}: it does not compute"


# A stand-in "build": writes what the kit would (entry record + weights) and takes longer when a core is busy.
FAKE_BUILD = r"""
import json, os, pathlib, sys, time
out = pathlib.Path(os.environ["COURSE_CACHE"]) / "sentiment"
out.mkdir()
t0 = time.process_time()
x = 0
while time.process_time() - t0 < 0.4:
    x += 1
(out / "model.safetensors").write_bytes(b"same weights")
(out / "kit-entry.json").write_text(json.dumps({"training": {"heldout_accuracy": 0.87}}))
"""


def test_kit_under_load_reports_both_builds_and_their_ratio(kit, monkeypatch):
    started = []
    real = bench.competitor

    def spy(seconds):
        started.append(seconds)
        return real(seconds)

    monkeypatch.setattr(bench, "competitor", spy)
    out = bench.measure_kit_under_load(command=[sys.executable, "-c", FAKE_BUILD])
    assert len(started) == 1 and started[0] >= 300  # one competitor, bounded
    assert out["sentiment_build_loaded_ratio"] == pytest.approx(
        out["sentiment_build_loaded_seconds"] / out["sentiment_build_quiet_seconds"])
    assert out["sentiment_heldout_accuracy"] == 0.87
    assert out["sentiment_same_weights_quiet_loaded"] is True
    assert out["sentiment_same_weights_as_kit"] is False  # the stand-in's weights are not the kit's
    assert set(out["sentiment_build_load_average"]) == {"quiet", "loaded"}
    status = bench.goal_status(out)
    assert status["sentiment_heldout_accuracy"]["met"] is True
    assert status["sentiment_build_loaded_ratio"]["goal"] == "<= 2.2"
    text = str(bench.table(out, status))
    assert "sentiment_build_loaded_ratio" in text and "load avg" in text


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0"
failures="0" skipped="0" tests="4" time="901.5" timestamp="2026-12-01T20:00:00" hostname="box">
<testcase classname="tests.test_kit_interrupt" name="test_kill_9_then_rerun[staging]" time="12.5" />
<testcase classname="tests.test_kit_interrupt" name="test_ctrl_c_during_build[built]" time="7.5" />
<testcase classname="notebooks.01_pipelines.ipynb" name="Cell 3" time="30.0" />
<testcase classname="tests.test_pins" name="test_x" time="0.1" />
</testsuite></testsuites>"""


def test_suite_durations_from_junit(tmp_path):
    path = tmp_path / "test-results.xml"
    path.write_text(JUNIT)
    out = bench.suite_durations(path)
    assert out["test_suite_seconds"] == 901.5 and out["test_count"] == 4 and out["test_failures"] == 0
    assert out["test_seconds_summed"] == pytest.approx(50.1)
    assert out["test_slowest"][0]["test"] == "notebooks.01_pipelines.ipynb::Cell 3"
    assert list(out["test_seconds_per_file"].items())[:2] == [("notebooks.01_pipelines.ipynb", 30.0),
                                                             ("tests.test_kit_interrupt", 20.0)]
    status = bench.goal_status(out)
    assert status["test_suite_seconds"] == {"goal": "<= 1200", "value": 901.5, "met": True}
    assert "tests.test_kit_interrupt" in str(bench.table(out, status))


def test_a_suite_that_failed_is_not_met_however_fast(tmp_path):
    path = tmp_path / "test-results.xml"
    path.write_text(JUNIT.replace('failures="0"', 'failures="1"'))
    out = bench.suite_durations(path)
    status = bench.goal_status(out)
    assert out["test_suite_seconds"] == 901.5 and status["test_suite_seconds"]["met"] is False
    assert "1 test(s) failed" in status["test_suite_seconds"]["why"]


def test_suite_durations_without_a_report(tmp_path):
    out = bench.suite_durations(tmp_path / "none.xml")
    assert "make test" in out["test_durations_missing"]
    assert "run `make test` first" in str(bench.table(out, bench.goal_status(out)))


def test_the_measured_section_of_the_benchmarks_page_is_replaced_and_nothing_else(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nWhat each figure means.\n\n## Measured\n\n{bench.MEASURED}\nthe old table\n")
    metrics = {"load_average_at_start": (1.5, 1, 1), "load_average_at_end": (2.25, 1, 1)}
    bench.write_measured("| metric | value |", metrics, doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nWhat each figure means.\n\n## Measured\n\n" + bench.MEASURED + "\n")
    assert "the old table" not in text and "| metric | value |" in text and "load average 1.5 at the start" in text
    bench.write_measured("| metric | second run |", metrics, doc)
    assert doc.read_text().count(bench.MEASURED) == 1 and "| metric | value |" not in doc.read_text()
    doc.write_text("# no marker\n")
    with pytest.raises(RuntimeError, match="no line"):
        bench.write_measured("| x |", metrics, doc)


def test_the_benchmarks_page_has_its_marker():
    assert bench.MEASURED in bench.DOC.read_text()
