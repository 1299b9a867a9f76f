"""Negative controls: a proof that cannot fail proves nothing, so the lessons run it on deliberately wrong versions.

::

    with must_fail("zero-fill top-k"):
        prove_filter(filter_logits_zero_fill)   # an assert inside must fire

The block is expected to raise ``AssertionError`` (the proof catching the wrong version): its reason is printed in one
line and the notebook goes on. If the block finishes instead, the proof let a wrong version through, and
:func:`must_fail` raises ``AssertionError`` itself, so the notebook (and CI) fails.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

CAUGHT = "✗ caught:"


@contextlib.contextmanager
def must_fail(what: str) -> Iterator[None]:
    """Run a proof on a wrong version (``what`` names it); it must fail with an ``AssertionError``."""
    try:
        yield
    except AssertionError as err:
        print(f"{CAUGHT} {what} fails the proof, as it must: {err}")
        return
    raise AssertionError(f"{what} passed a proof it should fail: this proof cannot tell it from the right version.")
