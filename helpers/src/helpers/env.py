"""The notebook set-up every lesson starts with, and the environment report of notebook 00."""

from __future__ import annotations

import os
import platform
import sys
import warnings
from pathlib import Path
from typing import Any

from .display import Table
from .errors import install_handler


def quiet() -> None:
    """Silence what would make outputs differ run to run: progress bars and the LOAD REPORT of transformers 5."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    # torch's own advice (e.g. about TF32) is not the lesson
    warnings.filterwarnings("ignore", message=".*TypedStorage is deprecated.*")


def set_threads(n: int | None = None) -> int:
    """Fix torch's thread count (``COURSE_THREADS`` or ``n``); returns the count in force."""
    import torch

    n = n or int(os.environ.get("COURSE_THREADS", "0") or 0)
    if n > 0:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def setup(seed: int = 0) -> None:
    """Call once at the top of a lesson: quiet logs, fixed threads, seeded RNGs, one-line course errors."""
    quiet()
    set_threads()
    import torch

    torch.manual_seed(seed)
    install_handler()


def report() -> Table:
    """Python, torch and transformers versions, device and thread count, as a table."""
    import torch
    import transformers

    from .models import cache_dir, mode

    device = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    rows: list[dict[str, Any]] = [
        {"item": "Python", "value": platform.python_version()},
        {"item": "torch", "value": torch.__version__},
        {"item": "transformers", "value": transformers.__version__},
        {"item": "device", "value": device},
        {"item": "torch threads", "value": torch.get_num_threads()},
        {"item": "CPU cores", "value": os.cpu_count()},
        {"item": "model source (COURSE_MODELS)", "value": mode()},
        {"item": "kit cache (COURSE_CACHE)", "value": str(cache_dir()).replace(str(Path.home()), "~", 1)},
        {"item": "running in", "value": where()},
    ]
    return Table(rows, title="Environment")


def where() -> str:
    """'colab', 'binder' or 'local'."""
    if "google.colab" in sys.modules:
        return "colab"
    if os.environ.get("BINDER_SERVICE_HOST") or os.environ.get("BINDER_LAUNCH_HOST"):
        return "binder"
    return "local"
