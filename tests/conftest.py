"""Shared fixtures: the built kit (make test builds it first) and a fixed thread count; the markers that
`make test-fast` leaves out (``-m "not kit and not notebooks and not site and not integration"``), so that it runs
unit tests only:

- ``kit``: needs the built model kit. Set on every test that asks for the ``kit`` fixture, so it cannot be forgotten.
- ``notebooks``: starts Jupyter kernels or a browser (the exercise test, the course build, JupyterLab).
- ``site``: builds the website with its own venv (.venv-site, installed from PyPI on first use). Set on every test
  that asks for test_site's ``built`` fixture.
- ``integration``: runs whole programs on a repository or package of its own (pre-commit and make lint, pip building
  and installing the helpers, every lesson module imported in a fresh interpreter).
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "kit: needs the built model kit (make models); set by the kit fixture")
    config.addinivalue_line("markers", "notebooks: starts Jupyter kernels or a browser")
    config.addinivalue_line("markers", "site: builds the website (.venv-site); set by test_site's built fixture")
    config.addinivalue_line("markers", "integration: runs whole programs (pre-commit, make, pip) on a copy")


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "kit" in fixtures:
            item.add_marker(pytest.mark.kit)
        if "built" in fixtures and item.module.__name__ == "test_site":
            item.add_marker(pytest.mark.site)


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
