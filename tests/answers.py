"""The one pattern every tests/test_answers_NN.py follows, written once.

For each exercise check: a table of plausible WRONG answers, each of which must get its own hint (a substring of the
one printed line), and a table of plausible RIGHT alternatives, each of which must pass; either way the check prints
exactly one line, never a traceback, and its result is truthy exactly when that line is a pass::

    WRONG = {"no scale": (answer, "forgot the scale"), ...}   # case name -> (answer, hint substring)
    RIGHT = {"einsum": answer, ...}                           # case name -> answer
    test_wrong_attention, test_right_attention = answer_tests(lesson05.check_causal_attention, WRONG, RIGHT)

``arguments(answer)`` turns a table's entry into the check's arguments (by default the answer alone), so an entry may
be a value, a function the check calls, or a function of no arguments that builds the check's arguments from the kit.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import pytest

from helpers.checks import HINT, PASS


def printed(capsys: Any, check: Callable[..., Any], *args: Any) -> str:
    """The line ``check(*args)`` prints: exactly one (never a traceback), a pass exactly when it returns truthy."""
    result = check(*args)
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1, f"a check prints exactly one line; got {out!r}"
    assert bool(result) == out.startswith(PASS), out
    return out


def by_hint(table: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    """A wrong-answer table keyed by its hints ({hint: answer}) in the (answer, hint) form of :func:`answer_tests`."""
    return {hint: (answer, hint) for hint, answer in table.items()}


def by_name(answers: Iterable[Any]) -> dict[str, Any]:
    """A right-answer table from functions, each named by its ``__name__``."""
    return {answer.__name__: answer for answer in answers}


def named(cases: Iterable[tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    """A wrong-answer table from ``(function, hint)`` pairs, each case named by the function's ``__name__``."""
    return {getattr(answer, "__name__", repr(answer)): (answer, hint) for answer, hint in cases}


def answer_tests(check: Callable[..., Any], wrong: Mapping[str, tuple[Any, str]], right: Mapping[str, Any],
                 arguments: Callable[[Any], tuple] = lambda answer: (answer,), kit: bool = True) -> tuple:
    """The two parametrized tests of one check: every ``wrong`` case gets its hint, every ``right`` case passes.

    ``kit``: the tests need the built model kit (they then carry the ``kit`` fixture and marker)."""

    @pytest.mark.parametrize("name", list(wrong))
    def test_wrong(capsys, name):
        answer, hint = wrong[name]
        out = printed(capsys, check, *arguments(answer))
        assert out.startswith(HINT) and hint in out, out

    @pytest.mark.parametrize("name", list(right))
    def test_right(capsys, name):
        out = printed(capsys, check, *arguments(right[name]))
        assert out.startswith(PASS), out

    if kit:
        test_wrong, test_right = (pytest.mark.usefixtures("kit")(test) for test in (test_wrong, test_right))
    return test_wrong, test_right
