"""requirements.txt, environment.yml and constraints.txt must agree, so Binder gets what CI tested."""

from __future__ import annotations

import re
from pathlib import Path

from course_tools import paths

ROOT = paths.root()
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)")


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        m = PIN.match(line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_matches_requirements():
    req, env = pins(ROOT / "requirements.txt"), pins(ROOT / "environment.yml")
    assert req, "requirements.txt pins nothing"
    assert env == req, f"drift: only in requirements {set(req.items()) - set(env.items())}, " \
                       f"only in environment.yml {set(env.items()) - set(req.items())}"


def test_requirements_agree_with_constraints():
    req, lock = pins(ROOT / "requirements.txt"), pins(ROOT / "constraints.txt")
    for name, version in req.items():
        assert lock.get(name) == version, f"{name}: requirements {version}, constraints {lock.get(name)}"


def test_every_requirement_is_pinned_exactly():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert PIN.match(line), f"not pinned with ==: {line}"


def test_installed_versions_are_the_pinned_ones():
    from importlib.metadata import version

    for name, pinned in pins(ROOT / "requirements.txt").items():
        assert version(name).split("+")[0] == pinned, name
