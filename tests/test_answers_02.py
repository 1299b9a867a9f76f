"""Notebook 02's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import numpy as np
import torch

from answers import answer_tests, by_hint
from helpers.checks import HINT
from helpers.checks import lesson02 as checks

TEXT = "Déjà vu: the naïve café owner loves tokenization 🤗!"  # the notebook's TEXT


def _leading_ones(ids, pad):  # assumes every pad is at the end of its row
    return [[1] * sum(t != pad for t in row) + [0] * sum(t == pad for t in row) for row in ids]


WRONG_MASKS = {
    "compared with 0": lambda ids, pad: [[int(t != 0) for t in row] for row in ids],
    "every entry is 1": lambda ids, pad: [[1] * len(row) for row in ids],
    "inverted": lambda ids, pad: [[int(t == pad) for t in row] for row in ids],
    "padded on the LEFT": _leading_ones,
    "did you forget `return`": lambda ids, pad: None,
    "one row of 0s and 1s per sequence": lambda ids, pad: [int(t != pad) for row in ids for t in row],
    "your mask has shape": lambda ids, pad: [[1] * sum(t != pad for t in row) for row in ids],
    "not written yet": lambda ids, pad: (_ for _ in ()).throw(NotImplementedError),
}

RIGHT_MASKS = {
    "list comprehension": lambda ids, pad: [[0 if t == pad else 1 for t in row] for row in ids],
    "torch, long": lambda ids, pad: (torch.tensor(ids) != pad).long(),
    "torch, bool": lambda ids, pad: torch.tensor(ids) != pad,
    "numpy": lambda ids, pad: (np.array(ids) != pad).astype(np.int64),
    "list of tuples": lambda ids, pad: [tuple(int(t != pad) for t in row) for row in ids],
}


test_wrong_masks_get_their_hint, test_right_masks_pass = answer_tests(
    checks.check_attention_mask, by_hint(WRONG_MASKS), RIGHT_MASKS)


def _first(offsets, c, rule):
    return next((i for i, (s, e) in enumerate(offsets) if rule(s, e, c)), None)


WRONG_TOKEN_AT = {
    "special token": lambda offsets, c: _first(offsets, c, lambda s, e, c: s <= c <= e),
    "is the first character of token": lambda offsets, c: _first(offsets, c, lambda s, e, c: s < c <= e),
    "return None when no (start, end) span": lambda offsets, c: next(
        (i for i, (s, e) in enumerate(offsets) if s <= c < e), -1),
    "one less than the token's": lambda offsets, c: next(
        (i for i, (s, e) in enumerate(offsets[1:]) if s <= c < e), None),
    "should be an int; got tuple": lambda offsets, c: next(((s, e) for s, e in offsets if s <= c < e), None),
}


def _no_return(offsets, c):
    for i, (s, e) in enumerate(offsets):
        if s <= c < e:
            i  # noqa: B018  (forgot `return i`)


WRONG_TOKEN_AT["did you forget `return`"] = _no_return


RIGHT_TOKEN_AT = {
    "loop": lambda offsets, c: _first(offsets, c, lambda s, e, c: s <= c < e),
    "numpy int": lambda offsets, c: (lambda hits: np.int64(hits[0]) if len(hits) else None)(
        np.nonzero([s <= c < e for s, e in offsets])[0]),
    "torch int": lambda offsets, c: (lambda t: None if not len(t) else t[0])(
        torch.nonzero(torch.tensor([s <= c < e for s, e in offsets])).flatten()),
    "last match": lambda offsets, c: max((i for i, (s, e) in enumerate(offsets) if s <= c < e), default=None),
}


test_wrong_token_at_gets_its_hint, test_right_token_at_passes = answer_tests(
    checks.check_token_at, by_hint(WRONG_TOKEN_AT), RIGHT_TOKEN_AT, lambda answer: (answer, TEXT))


def test_token_at_is_tested_beyond_a_trivial_text(kit, capsys):
    """TEXT is a knob: a learner's TEXT without spaces or split words must not make the check toothless."""
    wrong = WRONG_TOKEN_AT["is the first character of token"]
    assert not checks.check_token_at(wrong, "a")
    assert HINT in capsys.readouterr().out
