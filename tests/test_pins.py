"""Who needs which library, pinned once: requirements.txt (the learner's), requirements-dev.txt (the contributor's),
requirements-instructor.txt (the instructor's) and constraints.txt (everything) agree; Binder (environment.yml) and
Colab (helpers.colab.PINS) get the learner's."""

from __future__ import annotations

import re
from pathlib import Path

from course_tools import paths
from helpers import colab

ROOT = paths.root()
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)")
ROLES = ("requirements.txt", "requirements-dev.txt", "requirements-instructor.txt")


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line (requirements files, environment.yml), names normalised."""
    out = {}
    for line in path.read_text().splitlines():
        m = PIN.match(line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_is_the_learners_requirements():
    req, env = pins(ROOT / "requirements.txt"), pins(ROOT / "environment.yml")
    assert env == req, f"drift: only in requirements {set(req.items()) - set(env.items())}, " \
                       f"only in environment.yml {set(env.items()) - set(req.items())}"


def test_colab_pins_are_the_learners_requirements():
    """helpers.colab.PINS is the one list Colab installs; each is requirements.txt's pin; torch is Colab's own."""
    req = pins(ROOT / "requirements.txt")
    for pin in colab.PINS:
        name, version = pin.split("==")
        assert req.get(name) == version, f"{pin} is not requirements.txt's pin ({name}=={req.get(name)})"
    assert {p.split("==")[0] for p in colab.PINS} == {"transformers", "tokenizers", "safetensors", "accelerate", "gguf"}


def test_each_library_is_pinned_once_and_as_constraints_pins_it():
    lock, seen = pins(ROOT / "constraints.txt"), {}
    for role in ROLES:
        for name, version in pins(ROOT / role).items():
            assert name not in seen, f"{name} is pinned in {seen.get(name)} and in {role}: keep it where it is needed"
            seen[name] = role
            assert lock.get(name) == version, f"{name}: {role} {version}, constraints {lock.get(name)}"


def test_the_learner_gets_no_tooling():
    """What `make lab` installs is what the lessons need: no test runner, linter, browser driver or hub."""
    learner = set(pins(ROOT / "requirements.txt"))
    tooling = {"pytest", "nbval", "ruff", "pre-commit", "playwright", "jupyterhub", "papermill"}
    assert not learner & tooling, f"tooling in the learner's requirements: {learner & tooling}"


def test_every_requirement_is_pinned_exactly():
    for role in ROLES:
        for line in (ROOT / role).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                assert PIN.match(line), f"{role}: not pinned with ==: {line}"


def test_installed_versions_are_the_pinned_ones():
    from importlib.metadata import version

    for role in ROLES:
        for name, pinned in pins(ROOT / role).items():
            assert version(name).split("+")[0] == pinned, f"{name} ({role})"


def test_setup_chooses_the_wheel_of_the_pinned_torch():
    from course_tools import torch_wheel

    assert torch_wheel.TORCH == pins(ROOT / "requirements.txt")["torch"]
