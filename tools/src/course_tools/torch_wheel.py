"""Which torch wheel ``make setup`` installs; run before the venv has anything: ``python -I torch_wheel.py``.

On Linux, ``pip install torch==2.13.0`` from PyPI is the CUDA build: 527 MB plus 2.2 GB of NVIDIA libraries and
triton (measured from PyPI's file sizes), even on a machine without a GPU. PyTorch's CPU wheel index has the CPU
build (192 MB). So, on Linux without an NVIDIA GPU, this asks the CPU index once, with a short timeout, and adds it
for pip when it answers; when it does not (offline mirrors, firewalls) pip uses PyPI as before, and so never hangs.
macOS and Windows wheels on PyPI are CPU builds already. One line on stderr says what was chosen; stdout is the
extra pip arguments (often none). Standard library only: it runs before anything is installed.

    COURSE_TORCH=cpu|pypi|auto (default auto) forces the choice; COURSE_TORCH_INDEX moves the CPU index.
"""

from __future__ import annotations

import glob
import os
import platform
import subprocess
import sys
import urllib.error
import urllib.request

CPU_INDEX = os.environ.get("COURSE_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")
TORCH = "2.13.0"
PROBE_TIMEOUT_S = 4.0
SIZES = "the CPU build is ~190 MB; PyPI's Linux build is CUDA: ~2.7 GB with its NVIDIA libraries"


def has_nvidia_gpu() -> bool:
    return os.path.exists("/proc/driver/nvidia/version") or bool(glob.glob("/dev/nvidia[0-9]*"))


def index_answers(url: str = CPU_INDEX, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True if the CPU index lists torch within ``timeout`` seconds (any network error or slowness: False)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/torch/", timeout=timeout) as r:
            return r.status == 200 and b"torch-" in r.read(1 << 16)
    except (OSError, ValueError):  # URLError, timeouts, refused, DNS failure, bad URL
        return False


def installed_torch() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return None


def local_cpu_wheel() -> str | None:
    """A torch 2.13.0 CPU wheel in pip's find-links folders (pip prefers it to PyPI's: its version sorts higher)."""
    places = os.environ.get("PIP_FIND_LINKS", "").split()
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                             timeout=20).stdout
        for line in out.splitlines():
            if line.split("=", 1)[0].endswith("find-links"):
                places += line.split("=", 1)[1].strip().strip("'\"").split()
    except (OSError, subprocess.SubprocessError):
        pass
    for place in places:
        found = glob.glob(os.path.join(place.removeprefix("file://"), f"torch-{TORCH}+cpu-*.whl"))
        if found:
            return found[0]
    return None


def choose(system: str | None = None, gpu: bool | None = None, probe=index_answers) -> tuple[list[str], str]:
    """(extra pip arguments, the one line saying what was chosen and why)."""
    system = system or platform.system()
    forced = os.environ.get("COURSE_TORCH", "auto").lower()
    cpu_args = ["--extra-index-url", CPU_INDEX]
    if forced == "cpu":
        return cpu_args, f"torch: the CPU build from {CPU_INDEX} (COURSE_TORCH=cpu)"
    if forced == "pypi":
        return [], "torch: PyPI's wheel (COURSE_TORCH=pypi)"
    if system != "Linux":
        return [], f"torch: PyPI's wheel (on {system} it is a CPU build)"
    have = installed_torch()
    if have is not None and have.split("+")[0] == TORCH:
        return [], f"torch: {have} is already installed, nothing to download"
    if gpu if gpu is not None else has_nvidia_gpu():
        return [], "torch: PyPI's wheel, the CUDA build (an NVIDIA GPU is present)"
    if probe():
        return cpu_args, f"torch: no NVIDIA GPU, so the CPU build from {CPU_INDEX} ({SIZES})"
    local = local_cpu_wheel()
    if local:
        return [], (f"torch: no NVIDIA GPU and {CPU_INDEX} did not answer within {PROBE_TIMEOUT_S:g} s; "
                    f"pip uses the local CPU wheel {os.path.basename(local)}")
    return [], (f"torch: no NVIDIA GPU, but {CPU_INDEX} did not answer within {PROBE_TIMEOUT_S:g} s: PyPI's wheel, "
                f"the CUDA build ({SIZES}; COURSE_TORCH=cpu forces the CPU index)")


def main() -> int:
    args, line = choose()
    print(f"[setup] {line}", file=sys.stderr, flush=True)
    print(" ".join(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
