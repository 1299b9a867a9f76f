"""Notebook 02's checks against plausible wrong answers (each gets its hint) and right alternatives (each passes)."""

from __future__ import annotations

import numpy as np
import torch

from answers import answer_tests, by_hint, printed
from helpers.checks import HINT
from helpers.checks import lesson02 as checks

TEXT = "Déjà vu: the naïve café owner loves tokenization 🤗!"  # the notebook's TEXT


def pb_reference(rows, pad, side="right"):
    longest = max(len(row) for row in rows)
    input_ids, attention_mask = [], []
    for row in rows:
        fill = longest - len(row)
        if side == "left":
            input_ids.append([pad] * fill + list(row))
            attention_mask.append([0] * fill + [1] * len(row))
        else:
            input_ids.append(list(row) + [pad] * fill)
            attention_mask.append([1] * len(row) + [0] * fill)
    return input_ids, attention_mask


def _pad_right(rows, pad, longest=None):
    longest = max(map(len, rows)) if longest is None else longest
    return [list(r) + [pad] * (longest - len(r)) for r in rows]


def pb_mask_from_ids(rows, pad, side="right"):  # the old exercise's answer: 0 wherever the id is the pad id
    ids, _ = pb_reference(rows, pad, side)
    return ids, [[int(t != pad) for t in row] for row in ids]


def pb_always_right(rows, pad, side="right"):
    return pb_reference(rows, pad, "right")


def pb_pad_with_zero(rows, pad, side="right"):
    return pb_reference(rows, 0, side)


def pb_inverted(rows, pad, side="right"):
    ids, mask = pb_reference(rows, pad, side)
    return ids, [[1 - m for m in row] for row in mask]


def pb_all_ones(rows, pad, side="right"):
    ids, _ = pb_reference(rows, pad, side)
    return ids, [[1] * len(row) for row in ids]


def pb_mask_on_the_right(rows, pad, side="right"):  # ids padded on the side asked, the mask always on the right
    ids, _ = pb_reference(rows, pad, side)
    return ids, _pad_right([[1] * len(r) for r in rows], 0)


def pb_one_too_long(rows, pad, side="right"):
    longest = max(map(len, rows)) + 1
    return _pad_right(rows, pad, longest), _pad_right([[1] * len(r) for r in rows], 0, longest)


def pb_not_padded(rows, pad, side="right"):
    return [list(r) for r in rows], [[1] * len(r) for r in rows]


def pb_swapped(rows, pad, side="right"):
    ids, mask = pb_reference(rows, pad, side)
    return mask, ids


WRONG_PADS = {
    "a real token can have the pad id": pb_mask_from_ids,
    "this batch asks for side='left'": pb_always_right,
    "you padded with 0": pb_pad_with_zero,
    "your mask is inverted": pb_inverted,
    "every entry of your mask is 1": pb_all_ones,
    "the mask must follow the padding": pb_mask_on_the_right,
    "no further": pb_one_too_long,
    "as long as the longest": pb_not_padded,
    "are swapped": pb_swapped,
    "should return two things": lambda rows, pad, side="right": pb_reference(rows, pad, side)[0],
    "did you forget `return`": lambda rows, pad, side="right": None,
    "not written yet": lambda rows, pad, side="right": (_ for _ in ()).throw(NotImplementedError),
}


def pb_torch(rows, pad, side="right"):
    seqs = [torch.tensor(r) for r in rows]
    ids = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=pad, padding_side=side)
    ones = [torch.ones(len(r), dtype=torch.long) for r in rows]
    return ids, torch.nn.utils.rnn.pad_sequence(ones, batch_first=True, padding_value=0, padding_side=side)


def pb_numpy(rows, pad, side="right"):
    longest = max(map(len, rows))
    ids, mask = np.full((len(rows), longest), pad), np.zeros((len(rows), longest), dtype=np.int64)
    for i, row in enumerate(rows):
        cut = slice(longest - len(row), longest) if side == "left" else slice(0, len(row))
        ids[i, cut], mask[i, cut] = row, 1
    return ids, mask


def pb_dict(rows, pad, side="right"):
    ids, mask = pb_reference(rows, pad, side)
    return {"input_ids": ids, "attention_mask": mask}


def pb_bool_mask_tuples(rows, pad, side="right"):
    ids, mask = pb_reference(rows, pad, side)
    return [tuple(r) for r in ids], [[bool(m) for m in row] for row in mask]


RIGHT_PADS = {"reference": pb_reference, "torch pad_sequence": pb_torch, "numpy": pb_numpy, "dict": pb_dict,
              "tuples and bools": pb_bool_mask_tuples,
              "one stacked tensor": lambda rows, pad, side="right": torch.tensor(pb_reference(rows, pad, side))}

test_wrong_pads_get_their_hint, test_right_pads_pass = answer_tests(
    checks.check_pad_batch, by_hint(WRONG_PADS), RIGHT_PADS)


def test_the_old_mask_answer_is_caught_on_a_chat_batch(kit, capsys):
    """Comparing ids with the pad id passes every batch without a real <|im_end|> (the old exercise's solution)."""
    out = printed(capsys, checks.check_pad_batch, pb_mask_from_ids)
    assert out.startswith(HINT) and "<|im_end|>" in out, out


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
