"""Shared fixtures: the built kit (make test builds it first) and a fixed thread count."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@pytest.fixture(scope="session", autouse=True)
def _threads():
    import torch

    torch.set_num_threads(int(os.environ.get("COURSE_THREADS", "2")))


@pytest.fixture(scope="session")
def kit():
    """The kit directory; the suite needs it built (make test runs make models first)."""
    from helpers.models import MODELS, cache_dir, entry_problem

    missing = [n for n in MODELS if entry_problem(cache_dir() / n)]
    if missing:
        pytest.fail(f"kit entries {missing} are not built in {cache_dir()}: run `make models` (make test does).")
    return cache_dir()
