"""One clear sentence instead of a traceback.

Every mistake the course can foresee (an unknown model name, a missing kit, Hub mode without a network, an
exercise answer of the wrong type) raises :class:`CourseError` with a message that says what to do. In a notebook,
:func:`install_handler` makes IPython print that message on one line instead of a 40-line traceback; on the command
line, :func:`run_cli` does the same and exits with status 1.
"""

from __future__ import annotations

import sys
from typing import Any, Callable


class CourseError(Exception):
    """A foreseeable problem; its message is one sentence that tells the learner what to do."""


class KitError(CourseError):
    """The offline model kit is missing, incomplete or corrupt, or a model name is unknown."""


class HubError(CourseError):
    """Hub mode was asked for, but the Hugging Face Hub cannot be reached."""


def _ipython_handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
    print(f"❌ {value}", file=sys.stderr)


def install_handler() -> bool:
    """Show :class:`CourseError` as one line in IPython/Jupyter. Returns True when a shell was found."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to install
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((CourseError,), _ipython_handler)
    return True


def run_cli(main: Callable[[], int | None]) -> None:
    """Run a command-line entry point; a CourseError or Ctrl-C ends it with one line, not a traceback."""
    try:
        code = main()
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("interrupted: run the same command again to finish; nothing half-written is kept.", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(code or 0)
