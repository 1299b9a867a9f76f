"""`make canary`: the course against the newest libraries on PyPI, in a throwaway venv, with a report per notebook.

The course pins its libraries (requirements.txt, constraints.txt); learners on Colab and anyone who upgrades get
newer ones. This builds `build/canary/venv` with the newest transformers, tokenizers, torch (the CPU build where
PyTorch's CPU index answers; pip's own choice otherwise) and jupyterlab that PyPI offers, or the versions named with
`--pin` (e.g. `--pin transformers==5.25.0`), everything else as pinned, installs the course's helpers, and runs
every notebook (nbval, as `make test` does) and the exercise tests on the kit already built (the kit is data; its
build stays on the pinned versions). It writes build/canary/report.md: the versions it got, then for each notebook
*passed*, *changed output* (which cells, the first differing line) or *error* (the line that raised), and the
exercise tests' result.

Usage: python tests/canary.py [--pin NAME==VERSION ...] [--keep-venv]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "canary"
NEWEST = ("transformers", "tokenizers", "torch", "jupyterlab")  # what a canary upgrades unless pinned
REPORTED = NEWEST + ("huggingface_hub", "safetensors", "accelerate", "numpy", "nbval", "ipykernel")
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")  # the learner's, and the tests'
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def name_of(line: str) -> str:
    return re.split(r"[=<>!~\[; ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pinned_files(pins: dict[str, str]) -> tuple[Path, Path]:
    """The course's requirements and constraints with the upgraded packages unpinned (or pinned as asked)."""
    asked = {name_of(p): p for p in pins.values()}
    upgraded = {n.replace("_", "-") for n in NEWEST} | set(asked)
    reqs, seen = [], set()
    for file in REQUIREMENTS:
        for line in (ROOT / file).read_text().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name = name_of(line)
            seen.add(name)
            reqs.append(asked.get(name, name) if name in upgraded else line.strip())
    reqs += [spec for name, spec in asked.items() if name not in seen]
    cons = [line for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#") and name_of(line) not in upgraded]
    (OUT / "requirements.txt").write_text("\n".join(reqs) + "\n")
    (OUT / "constraints.txt").write_text("\n".join(cons) + "\n")
    return OUT / "requirements.txt", OUT / "constraints.txt"


def torch_args() -> tuple[list[str], str]:
    """The CPU build of torch when PyTorch's CPU index answers (as `make setup` decides), else pip's default."""
    sys.path.insert(0, str(ROOT / "tools" / "src" / "course_tools"))
    import torch_wheel  # standard library only

    if torch_wheel.index_answers():
        return ["--extra-index-url", torch_wheel.CPU_INDEX], f"torch from {torch_wheel.CPU_INDEX} (CPU build)"
    return [], "torch as pip chooses (PyTorch's CPU index did not answer)"


def make_venv(pins: dict[str, str], keep: bool) -> tuple[Path, list[str]]:
    venv, notes = OUT / "venv", []
    if venv.exists() and not keep:
        shutil.rmtree(venv)
    if not venv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    reqs, cons = pinned_files(pins)
    extra, why = torch_args()
    notes.append(why)
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *extra, "-r", str(reqs)]
    done = subprocess.run(pip + ["-c", str(cons)], capture_output=True, text=True)
    if done.returncode != 0:  # the new versions need newer dependencies than the course pins: let pip choose them
        notes.append("the course's other pins conflict with the new versions, so pip chose their dependencies: "
                     + (done.stderr.strip().splitlines() or ["?"])[-1][:200])
        subprocess.run(pip, check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT / "helpers"), "-e",
                    str(ROOT / "tools")], check=True)
    return py, notes


def versions(py: Path) -> dict[str, str]:
    out = subprocess.run([str(py), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True)
    have = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(out.stdout)}
    return {name: have.get(name.replace("_", "-"), "-") for name in REPORTED}


def what_failed(case: ET.Element) -> tuple[str, str] | None:
    """("changed output" | "error", the first differing line or the line that raised) for a failed test case."""
    bad = case.find("failure")
    bad = bad if bad is not None else case.find("error")
    if bad is None:
        return None
    text = ANSI.sub("", (bad.text or "") + "\n" + (bad.get("message") or ""))
    if "outputs differ" in text:
        diff = [line.strip() for line in text.splitlines() if re.match(r"\s+[-+] ", line)]
        return "changed output", " / ".join(diff[:2])[:300]
    raised = [line.strip() for line in text.splitlines() if re.match(r"\s*\w*(Error|Exception|Warning)\b", line)]
    return "error", (raised[-1] if raised else text.strip().splitlines()[-1] if text.strip() else "?")[:300]


def run_tests(py: Path) -> Path:
    junit = OUT / "results.xml"
    tests = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_answers_*.py"))
    cmd = [str(py), "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile", f"--junitxml={junit}",
           "tests/test_exercises.py", *tests, "notebooks", "--nbval", "--nbval-sanitize-with", "tests/sanitize.cfg",
           "--nbval-cell-timeout=600"]
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return junit


def report(junit: Path, got: dict[str, str], notes: list[str], seconds: float) -> tuple[str, bool]:
    notebooks: dict[str, list[tuple[str, str, str]]] = {}
    exercise = {"passed": 0, "failed": []}
    for case in ET.parse(junit).getroot().iter("testcase"):
        cls, name = case.get("classname", ""), case.get("name", "")
        failed = what_failed(case)
        if cls.endswith(".ipynb") or ".ipynb" in cls:
            nb = cls.split("notebooks.")[-1]
            notebooks.setdefault(nb, [])
            if failed:
                notebooks[nb].append((name, *failed))
        elif case.find("skipped") is None:
            if failed:
                exercise["failed"].append(f"{cls.split('.')[-1]}::{name}: {failed[1]}")
            else:
                exercise["passed"] += 1
    lines = [f"# Canary: the course on the newest libraries ({time.strftime('%Y-%m-%d')})", "",
             "| package | " + " | ".join(got) + " |", "|---" * (len(got) + 1) + "|",
             "| version | " + " | ".join(got.values()) + " |", "", *[f"- {note}" for note in notes],
             f"- {seconds / 60:.0f} minutes; the kit as built with the pinned versions.", "",
             "| notebook | result | cells |", "|---|---|---|"]
    for nb, failures in sorted(notebooks.items()):
        kinds = sorted({kind for _, kind, _ in failures})
        result = "passed" if not failures else " and ".join(kinds)
        cells = "<br>".join(f"{cell}: {kind}: `{line}`" for cell, kind, line in failures) or ""
        lines.append(f"| {nb} | {result} | {cells.replace('|', '/')} |")
    lines += ["", f"Exercise tests: {exercise['passed']} passed, {len(exercise['failed'])} failed."]
    lines += [f"- {f}" for f in exercise["failed"]]
    green = not exercise["failed"] and not any(notebooks.values()) and bool(notebooks)
    return "\n".join(lines) + "\n", green


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pin", nargs="*", default=[], help="NAME==VERSION instead of the newest (e.g. "
                                                              "transformers==5.25.0)")
    parser.add_argument("--keep-venv", action="store_true", help="reuse build/canary/venv if it exists")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    py, notes = make_venv({name_of(p): p for p in args.pin}, args.keep_venv)
    got = versions(py)
    print("[canary] " + ", ".join(f"{k} {v}" for k, v in got.items()), flush=True)
    junit = run_tests(py)
    text, green = report(junit, got, notes, time.perf_counter() - t0)
    (OUT / "report.md").write_text(text)
    print(text)
    return 0 if green else 1


if __name__ == "__main__":
    sys.exit(main())
