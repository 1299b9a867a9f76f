"""`make portability`: every notebook under other CPU kernels, other thread counts and a kit fine-tuned elsewhere.

The stored outputs were recorded on one machine; a learner's CPU may have other vector units (AVX2, AVX-512, or
none of them), another number of cores, and a kit whose sentiment model was fine-tuned on that CPU, so its weights
differ in their last bits. This runs nbval over the notebooks exactly as `make test` does, once per setting below,
on this one machine, and writes a table (build/portability/report.md) of what passed and what did not.

- kernels: torch's ATen (`ATEN_CPU_CAPABILITY`), MKL (`MKL_ENABLE_INSTRUCTIONS`) and oneDNN (`ONEDNN_MAX_CPU_ISA`)
  capped to AVX2 and to their generic code (no AVX at all); on a CPU without AVX-512 the AVX2 cap is the native run.
- threads: one and three torch/OpenMP threads instead of the tests' two.
- kit: the sentiment model fine-tuned again under the generic kernels, into a kit of its own (the other entries
  linked from the built kit), then every notebook run on it with the native kernels.

Usage: python tests/portability.py [--only NAME ...] [--workers N] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "portability"
GENERIC = {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"}
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def threads(n: int) -> dict[str, str]:
    return {"COURSE_THREADS": str(n), "OMP_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)}


SETTINGS = {  # name -> (what it stands for, environment, needs the other kit)
    "avx2-kernels": ("torch, MKL and oneDNN capped to AVX2", AVX2, False),
    "generic-kernels": ("torch, MKL and oneDNN capped to their generic code (no AVX)", GENERIC, False),
    "one-thread": ("one torch/OpenMP thread", threads(1), False),
    "three-threads": ("three torch/OpenMP threads (more than the cores here)", threads(3), False),
    "kit-generic": ("a kit whose sentiment model was fine-tuned under the generic kernels", {}, True),
}


def cpu_flags() -> str:
    """The vector extensions this CPU has, from /proc/cpuinfo (Linux) or platform."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()
    wanted = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile", "neon")
    have = set(flags.split(":", 1)[1].split())
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    return f"{model}, {os.cpu_count()} cores; {' '.join(f for f in wanted if f in have) or 'no AVX'}"


def other_kit(folder: Path) -> Path:
    """A kit like the built one whose sentiment model is fine-tuned again under the generic kernels (once)."""
    from helpers.models import MODELS, cache_dir, entry_problem

    folder.mkdir(parents=True, exist_ok=True)
    for name in [*MODELS, "downloads"]:
        if name != "sentiment" and not (folder / name).exists():
            (folder / name).symlink_to(cache_dir() / name, target_is_directory=True)
    if entry_problem(folder / "sentiment"):
        print(f"[portability] fine-tuning the sentiment model under the generic kernels into {folder}", flush=True)
        env = {**os.environ, **GENERIC, "COURSE_CACHE": str(folder), "OMP_WAIT_POLICY": "PASSIVE"}
        subprocess.run([sys.executable, "-m", "helpers.kit", "sentiment"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return folder


def run(name: str, env: dict[str, str], workers: int, notebooks: list[str]) -> dict:
    """nbval over every notebook, as `make test` runs it, under ``env``; the counts and the failing cells."""
    junit = OUT / f"{name}.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", str(workers), "--dist", "loadfile", f"--junitxml={junit}",
           *notebooks, "--nbval", "--nbval-sanitize-with", "tests/sanitize.cfg", "--nbval-cell-timeout=600"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    if not junit.exists():
        return {"passed": 0, "failed": 1, "failures": ["pytest did not run (no JUnit report)"], "seconds": seconds}
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    failures = []
    for case in cases:
        bad = case.find("failure")
        bad = bad if bad is not None else case.find("error")
        if bad is not None:
            why = (bad.get("message") or bad.text or "").strip().splitlines()[:1]
            failures.append(f"{case.get('classname', '').split('.')[-2]}::{case.get('name')}: {''.join(why)[:120]}")
    skipped = sum(case.find("skipped") is not None for case in cases)
    return {"passed": len(cases) - len(failures) - skipped, "failed": len(failures), "failures": failures,
            "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(SETTINGS), help="run only these settings")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (notebooks run at once)")
    parser.add_argument("notebooks", nargs="*", default=["notebooks"], help="notebooks to run (default: all)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.only or SETTINGS:
        what, env, needs_kit = SETTINGS[name]
        if needs_kit:
            env = {**env, "COURSE_CACHE": str(other_kit(OUT / "kit"))}
        print(f"[portability] {name}: {what} ...", flush=True)
        result = run(name, env, args.workers, args.notebooks)
        shown = " ".join(f"{k}={v}" for k, v in env.items())
        rows.append((name, what, shown, result))
        print(f"[portability] {name}: {result['passed']} passed, {result['failed']} failed "
              f"({result['seconds']:.0f} s)", flush=True)
    lines = [f"# Portability: every notebook under other kernels, threads and kit ({time.strftime('%Y-%m-%d %H:%M')})",
             "", f"Machine: {cpu_flags()}; Python {platform.python_version()}.", "",
             "| setting | what | environment | passed | failed | time (s) |", "|---|---|---|---|---|---|"]
    for name, what, shown, result in rows:
        lines.append(f"| {name} | {what} | `{shown}` | {result['passed']} | {result['failed']} | "
                     f"{result['seconds']:.0f} |")
    for name, _, _, result in rows:
        lines += [f"- {name}: {failure}" for failure in result["failures"]]
    report = "\n".join(lines) + "\n"
    (OUT / "report.md").write_text(report)
    print(report)
    return 1 if any(result["failed"] for *_, result in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
