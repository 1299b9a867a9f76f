"""transformers' log messages, collected on purpose.

``helpers.setup()`` silences transformers' logs to keep the lessons' outputs tidy, which also hides the warnings a
lesson wants to show (a right-padded batch, a missing attention mask). :func:`transformers_warnings` collects what
transformers logs inside a ``with`` block into a list, and restores the silence afterwards::

    with transformers_warnings() as caught:
        model.generate(**batch)
    print(caught)
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator


@contextlib.contextmanager
def transformers_warnings() -> Iterator[list[str]]:
    """Collect the warnings transformers logs inside the block into a list (instead of printing them)."""
    from transformers.utils import logging as hf_logging

    caught: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: caught.append(record.getMessage())  # type: ignore[method-assign]
    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_warning()
    hf_logging.disable_default_handler()
    hf_logging.add_handler(handler)
    try:
        yield caught
    finally:
        hf_logging.remove_handler(handler)
        hf_logging.enable_default_handler()
        hf_logging.set_verbosity(before)
