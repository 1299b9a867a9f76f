"""nbval with a numeric tolerance: a printed number may differ from the stored one in its last printed digit.

A stored output shows learners real numbers, printed at a precision the float noise of another CPU (AVX2 vs AVX-512
kernels), another thread count or a kit re-built on another machine cannot reach, except at a rounding edge: 0.59005
prints as 0.5900 here and 0.5901 there. So, after nbval's sanitizers (tests/sanitize.cfg) have run on both texts,
two outputs match when they are equal once every decimal number of the new one that lies within one unit of the
stored one's last printed digit is replaced by the stored one. Everything else must match exactly: words, integers
(token ids, counts, labels), the layout, and any number further off than that. The proofs' asserts carry their own
tolerances; this only keeps the printout of a correct run from failing elsewhere.

Installed by tests/conftest.py (``install()``), so ``make test`` and the canary compare the same way.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

# A decimal number: digits with a point, or a mantissa with an exponent. Integers are not numbers to snap.
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+)(?![\w.])")


def last_digit(text: str) -> Decimal:
    """The value of one unit in the last printed digit: ``0.5900`` -> 0.0001, ``2.3e-06`` -> 1e-07."""
    mantissa, _, exponent = text.lower().lstrip("+-").partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Decimal(1).scaleb(int(exponent or 0) - decimals)


def close(new: str, stored: str) -> bool:
    """Two printed numbers that differ by at most one unit in the last digit of either."""
    unit = max(last_digit(new), last_digit(stored))
    return abs(Decimal(new) - Decimal(stored)) <= unit


def snap(new: str, stored: str) -> str:
    """``new`` with each of its numbers that is close to the stored one in the same place replaced by the stored
    one; unchanged when the two texts do not have the same words and layout around their numbers."""
    new_parts, stored_parts = NUMBER.split(new), NUMBER.split(stored)
    if new_parts != stored_parts:
        return new
    numbers = [s if close(n, s) else n for n, s in zip(NUMBER.findall(new), NUMBER.findall(stored))]
    out = [new_parts[0]]
    for number, text in zip(numbers, new_parts[1:]):
        out += [number, text]
    return "".join(out)


def _texts(output: dict) -> list[tuple[dict, str]]:
    """The (holder, key) pairs of an output's text fields: a stream's text, and each text MIME type of its data."""
    if output.get("output_type") == "stream":
        return [(output, "text")]
    data = output.get("data", {})
    return [(data, key) for key in data if key.startswith("text/")]


def _as_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else value


def tolerate(item: Any, test: list, ref: list) -> None:
    """Make each text of ``test`` equal to the stored one where they differ only by numbers within the tolerance."""
    for kind in {(o.get("output_type"), o.get("name")) for o in ref}:
        pairs = zip([o for o in test if (o.get("output_type"), o.get("name")) == kind],
                    [o for o in ref if (o.get("output_type"), o.get("name")) == kind])
        for new, stored in pairs:
            for (holder, key), (stored_holder, stored_key) in zip(_texts(new), _texts(stored)):
                if key != stored_key or not isinstance(holder.get(key), (str, list)):
                    continue
                mine, theirs = item.sanitize(_as_text(holder[key])), item.sanitize(_as_text(stored_holder[key]))
                if mine != theirs and snap(mine, theirs) == theirs:
                    holder[key] = stored_holder[key]


def install() -> None:
    """Wrap nbval's comparison (once) so that it tolerates last-digit differences in printed numbers."""
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to wrap
        return
    original = IPyNbCell.compare_outputs
    if getattr(original, "tolerant", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        tolerate(self, test, ref)
        return original(self, test, ref, skip_compare)

    compare_outputs.tolerant = True
    IPyNbCell.compare_outputs = compare_outputs


def pytest_configure(config: Any) -> None:  # loaded as a plugin (-p nbval_numbers): install the tolerance
    install()
