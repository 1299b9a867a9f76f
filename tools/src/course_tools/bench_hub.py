"""`make bench-hub`: a class on the workshop hub, measured on this machine.

Starts the real hub (course_tools.hub.LocalHub, one torch thread per learner) and measures, with a lesson's models
loaded in every learner's kernel:

- **start time** of a learner's server (login done; from "start my server" to its first answer through the proxy),
  alone and with the rest of the class starting at the same moment;
- **memory**: each learner's proportional set size (PSS of their server and kernel, read with psutil: a page
  shared by k processes counts 1/k in each), first with one learner, then with N, and its two parts: anonymous
  memory (the learner's alone: the marginal learner) and file pages (the kit's safetensors, mapped from one shared
  path, and the libraries: the same files for every learner, in memory once). On a shared machine PSS also splits
  file pages with other work that maps the same files, so the sizing uses the two parts, not PSS;
- **CPU**: the kernel's CPU seconds for the lesson (user + system: what the lesson costs, whatever else runs on the
  machine), and the lesson's wall time alone and when N learners run it at the same moment (their ratio is measured
  in one run);
- a **bad input** on the way: one learner's server is killed (SIGKILL to its processes) and restarted; their
  executed notebook must still be there.

From these it writes build/bench-hub.json and prints the sizing table the README's "Running a workshop" quotes:
memory = (hub + shared pages + N x marginal learner) x HEADROOM; cores = N x the lesson's CPU seconds / BURST_S (the
worst minute of a class: everyone runs the whole lesson at once, one torch thread each).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from helpers.errors import CourseError

from . import paths
from .hub import WORKSPACE, LocalHub, learner_processes
from .processes import kill_groups

sys.path.insert(0, str(paths.root() / "tests"))  # the learners that drive the hub are the hub test's harness
from hub_harness import Learner, kernel_pid, kit_mappings, memory as process_memory  # noqa: E402

CLASS_SIZES = (10, 30, 100)
BURST_S = 60.0  # cores: the whole class runs every cell of the lesson within this many seconds
HEADROOM = 1.25  # memory: keep a quarter free for the page cache and the peaks between two readings


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def memory(hub: LocalHub, name: str) -> dict[str, int]:
    """One learner's server + kernel: PSS, its anonymous and file parts, and the kit pages they map."""
    total: dict[str, int] = {"Pss": 0, "Pss_Anon": 0, "Pss_File": 0, "Rss": 0, "kit_rss": 0, "kit_private_dirty": 0}
    for pid in learner_processes(hub.run, name):
        used = process_memory(pid)
        total["Pss"] += used["pss"]
        total["Rss"] += used["rss"]
        total["Pss_Anon"] += used["anonymous"]
        total["Pss_File"] += max(used["pss"] - used["anonymous"], 0)
        for m in kit_mappings(pid, hub.kit):
            total["kit_rss"] += m["rss"]
            total["kit_private_dirty"] += m["private_dirty"]
    return total


def hub_memory(hub: LocalHub) -> int:
    """PSS of the hub itself: jupyterhub, the proxy, the culler (processes of the run that are no learner's)."""
    return sum(process_memory(pid)["pss"] for pid, env in hub.processes().items() if "JUPYTERHUB_USER" not in env)


def sizing(figures: dict[str, Any], sizes: tuple[int, ...] = CLASS_SIZES) -> list[dict[str, Any]]:
    """Memory and cores for each class size, from the measured figures (bytes, seconds)."""
    marginal, shared, hub = figures["marginal_bytes"], figures["shared_bytes"], figures["hub_bytes"]
    cpu = figures["lesson_cpu_s"]
    rows = []
    for n in sizes:
        memory_gb = (hub + shared + n * marginal) * HEADROOM / 1e9
        # the worst minute: every learner runs every cell of the lesson (n * cpu seconds) within BURST_S;
        # one torch thread each, so a core does one learner's work at a time
        cores = n * cpu / BURST_S
        rows.append({"learners": n, "memory_gb": memory_gb, "cores_burst": cores,
                     "learners_per_gb": n / memory_gb, "learners_per_core": n / cores})
    return rows


def table(figures: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [f"| learners | memory (GB) | learners per GB | cores (everyone runs all of {figures['lesson']} "
             f"within {BURST_S:g} s) | learners per core |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['learners']} | {r['memory_gb']:.1f} | {r['learners_per_gb']:.1f} | "
                     f"{r['cores_burst']:.1f} | {r['learners_per_core']:.1f} |")
    return "\n".join(lines)


async def _class(hub: LocalHub, n: int, lesson: str) -> dict[str, Any]:
    path = f"{WORKSPACE}/{lesson}"
    first, *rest = [Learner(hub, f"learner{i}") for i in range(1, n + 1)]
    out: dict[str, Any] = {"hub_bytes": hub_memory(hub)}
    await first.login()
    out["start_alone_s"] = await first.start_server()
    _, run = await first.run_notebook(path)
    if run["errors"]:
        raise CourseError(f"{lesson} failed in the hub: {run['errors']}")
    kernel = kernel_pid(hub, first.name)
    out.update(lesson_alone_s=run["seconds"], lesson_cpu_s=_cpu_seconds(kernel), memory_alone=memory(hub, first.name))
    await first.shutdown_kernels()

    await asyncio.gather(*(learner.login() for learner in rest))
    out["start_together_s"] = await asyncio.gather(*(learner.start_server() for learner in rest))
    runs = await asyncio.gather(*(learner.run_notebook(path) for learner in [first, *rest]))
    errors = {lr.name: r[1]["errors"] for lr, r in zip([first, *rest], runs) if r[1]["errors"]}
    if errors:
        raise CourseError(f"{lesson} failed with {n} learners at once: {errors}")
    out["lesson_together_s"] = [r[1]["seconds"] for r in runs]
    out["memory_together"] = {lr.name: memory(hub, lr.name) for lr in [first, *rest]}
    out["cpu_together_s"] = [_cpu_seconds(kernel_pid(hub, lr.name)) for lr in [first, *rest]]

    # bad input: a learner's server is killed in the middle of the class; a restart gets their work back
    victim = rest[-1]
    saved = runs[-1][0]  # the victim's notebook as run and saved
    kill_groups(learner_processes(hub.run, victim.name))
    await victim.wait_stopped(60)
    out["restart_after_kill_s"] = await victim.start_server()
    nb = await victim.read(path)
    out["work_kept_after_kill"] = [c["outputs"] for c in nb["cells"] if c["cell_type"] == "code"] == \
        [c["outputs"] for c in saved["cells"] if c["cell_type"] == "code"]
    return out


def run_bench(learners: int, lesson: str, output: Path) -> int:
    if learners < 2:
        raise CourseError("--learners must be at least 2: the marginal learner is measured against the first.")
    try:
        lesson_file = paths.lesson(lesson).name
    except LookupError:
        names = ", ".join(p.stem for p in paths.lessons())
        raise CourseError(f"no lesson {lesson!r}: give a lesson's number or name ({names}).") from None
    load_before = os.getloadavg()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="course-bench-hub-") as tmp, \
            LocalHub(Path(tmp) / "state", threads=1, poll_interval=1) as hub:
        print(f"bench-hub: {learners} learners run {lesson_file} on the hub at {hub.url} ...", flush=True)
        measured = asyncio.run(_class(hub, learners, lesson_file))
    together = measured["memory_together"]
    total_n = sum(m["Pss"] for m in together.values())
    total_1 = measured["memory_alone"]["Pss"]
    # PSS splits a file page among every process that maps it, other work on the machine included (other users of
    # the same kit or venv), so the sizing uses what does not depend on that: each learner's anonymous memory is
    # theirs alone (marginal), and the file pages one learner maps (kit, torch's libraries) are the same files for
    # every learner, in memory once for the class (shared)
    marginal = sum(m["Pss_Anon"] for m in together.values()) / learners
    shared = max(m["Rss"] - m["Pss_Anon"] for m in together.values())
    figures = {
        "lesson": lesson_file, "learners": learners, "hub_bytes": measured["hub_bytes"],
        "pss_alone_bytes": total_1, "pss_each_together_bytes": total_n / learners,
        "marginal_bytes": marginal, "shared_bytes": shared,
        "rss_each_bytes": max(m["Rss"] for m in together.values()),
        "marginal_by_pss_bytes": (total_n - total_1) / (learners - 1),
        "kit_private_dirty_bytes": max(m["kit_private_dirty"] for m in together.values()),
        "kit_rss_bytes": max(m["kit_rss"] for m in together.values()),
        "lesson_cpu_s": measured["lesson_cpu_s"], "lesson_alone_s": measured["lesson_alone_s"],
        "lesson_together_s": measured["lesson_together_s"],
        "slowdown_together": max(measured["lesson_together_s"]) / measured["lesson_alone_s"],
        "start_alone_s": measured["start_alone_s"], "start_together_s": measured["start_together_s"],
        "restart_after_kill_s": measured["restart_after_kill_s"],
        "work_kept_after_kill": measured["work_kept_after_kill"],
    }
    rows = sizing(figures)
    machine = {"cpus": os.cpu_count(), "memory_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9,
               "platform": platform.platform(), "python": platform.python_version(),
               "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    report = {"figures": figures, "sizing": rows, "machine": machine, "raw": measured,
              "seconds": time.time() - started}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    mb = 1e6
    print(f"\nmachine: {machine['cpus']} cores, {machine['memory_gb']:.0f} GB, {machine['platform']}; load average "
          f"{load_before[0]:.1f} before, {machine['loadavg_after'][0]:.1f} after (other work shares it if > 0)")
    print(f"lesson {lesson_file}, {learners} learners, 1 torch thread each")
    print(f"hub + proxy + culler: {figures['hub_bytes'] / mb:.0f} MB PSS")
    print(f"one learner (server + kernel, models loaded): RSS {figures['rss_each_bytes'] / mb:.0f} MB, of which "
          f"{marginal / mb:.0f} MB anonymous (theirs alone) and {shared / mb:.0f} MB file pages (kit, libraries: "
          f"the same files for every learner)")
    print(f"PSS: one learner alone {total_1 / mb:.0f} MB, each of {learners} together {total_n / learners / mb:.0f} MB "
          f"(file pages split among every process mapping them, other work's included)")
    print(f"kit pages mapped per kernel {figures['kit_rss_bytes'] / mb:.0f} MB, copied into private memory "
          f"{figures['kit_private_dirty_bytes'] / mb:.1f} MB")
    print(f"server start: alone {figures['start_alone_s']:.1f} s; {learners - 1} at once "
          f"{min(figures['start_together_s']):.1f}-{max(figures['start_together_s']):.1f} s")
    print(f"lesson: alone {figures['lesson_alone_s']:.1f} s wall, {figures['lesson_cpu_s']:.1f} s CPU; "
          f"{learners} at once {min(figures['lesson_together_s']):.1f}-{max(figures['lesson_together_s']):.1f} s "
          f"({figures['slowdown_together']:.2f}x alone)")
    print(f"killed server restarted in {figures['restart_after_kill_s']:.1f} s, work kept: "
          f"{figures['work_kept_after_kill']}")
    print("\n" + table(figures, rows))
    print(f"\nwritten to {output}")
    return 0 if figures["work_kept_after_kill"] else 1


def main() -> int:
    """``python -m course_tools.bench_hub --learners N --lesson NN`` (what ``make bench-hub`` runs)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_tools.bench_hub",
                                     description="measure a class on this machine")
    parser.add_argument("--learners", type=int, default=4)
    parser.add_argument("--lesson", default="02_tokenizers")
    parser.add_argument("--output", type=Path, default=paths.root() / "build" / "bench-hub.json")
    args = parser.parse_args()
    return run_bench(args.learners, args.lesson, args.output)


if __name__ == "__main__":
    from helpers.errors import run_cli

    run_cli(main)
