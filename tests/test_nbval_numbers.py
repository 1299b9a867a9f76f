"""The numeric tolerance nbval compares with (tests/nbval_numbers.py): last-digit noise passes, anything else fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nbval_numbers import close, snap

SANITIZE = re.findall(r"^regex: (.*)$\n^replace: (.*)$", (Path(__file__).parent / "sanitize.cfg").read_text(),
                      flags=re.MULTILINE)


def sanitized(text: str) -> str:
    for regex, replace in SANITIZE:  # as nbval applies them
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize("new, stored", [
    ("0.5901", "0.5900"),  # a rounding edge: 0.59005 on one CPU, 0.59004 on another
    ("9.75e-01", "9.76e-01"),
    ("-1.23", "-1.24"),
    ("1.0", "0.99"),  # printed with %g: one unit of the coarser of the two
])
def test_last_digit_noise_is_close(new, stored):
    assert close(new, stored)


@pytest.mark.parametrize("new, stored", [("0.5902", "0.5900"), ("0.61", "0.59"), ("9.7e-01", "9.9e-01"),
                                         ("2.0", "-2.0")])
def test_more_than_the_last_digit_is_not(new, stored):
    assert not close(new, stored)


def test_snap_keeps_words_integers_and_layout_exact():
    assert snap("P(POSITIVE) = 0.5901 | 0.5899", "P(POSITIVE) = 0.5900 | 0.5900") == "P(POSITIVE) = 0.5900 | 0.5900"
    assert snap("ids [12, 14] p=0.5901", "ids [12, 13] p=0.5900") == "ids [12, 14] p=0.5901"  # an id changed
    assert snap("NEGATIVE 0.5900", "POSITIVE 0.5900") == "NEGATIVE 0.5900"  # a label changed
    assert snap("p = 0.6000", "p = 0.5900") == "p = 0.6000"  # too far off: left as it is, so nbval fails


def test_sanitizers_hide_float_noise_but_not_the_number():
    assert sanitized("max |difference| = 3.81e-06 (allowed 1e-05)") == sanitized("max |difference| = 1.9e-05 "
                                                                                  "(allowed 1e-05)")
    assert sanitized("max |difference| = 0.0e+00") == sanitized("max |difference| = 4.1e-07")
    assert sanitized("max |difference| = 2.1e-02") != sanitized("max |difference| = 3.8e-06")
    raw_a, raw_b = "{'score': 0.5900464057922363}", "{'score': 0.5900462865829468}"
    assert sanitized(raw_a) == sanitized(raw_b) == "{'score': 0.5900…}"
    assert snap(sanitized("{'score': 0.5901000357922363}"), sanitized(raw_a)) == sanitized(raw_a)
    assert sanitized("{'score': 0.6100464057922363}") != sanitized(raw_a)
