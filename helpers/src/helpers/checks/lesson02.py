"""Checks for notebook 02 (tokenizers). Each computes its expected answer with the kit's tokenizers."""

from __future__ import annotations

import numbers
from typing import Any

from .core import Hint, call, exercise, expect_type, kit_tokenizer


def _tokenizer(name: str) -> Any:
    return kit_tokenizer(name)


def _rows(value: Any, what: str) -> list[list[int]]:
    """A 2-D batch (list of lists, tensor or array) as lists of ints, or a specific hint."""
    if value is None:
        raise Hint(f"{what} returned None: return the mask (a list of lists, a tensor or an array).")
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in value):
        raise Hint(f"{what} should return one row of 0s and 1s per sequence (2-D); got {type(value).__name__}.")
    try:
        return [[int(x) for x in row] for row in value]
    except (TypeError, ValueError):
        raise Hint(f"{what} should hold numbers 0 and 1.") from None


@exercise
def check_attention_mask(make_attention_mask: Any) -> str:
    tokenizer = _tokenizer("encoder")
    batches = [
        ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"],
        ["Short.", "A somewhat longer sentence, with a comma.", "Medium length one."],
        ["Nothing to pad here.", "Nothing to pad here."],
    ]
    for texts in batches:
        enc = tokenizer(texts, padding=True)
        want = enc["attention_mask"]
        got = _rows(call(make_attention_mask, enc["input_ids"], tokenizer.pad_token_id, what="make_attention_mask"),
                    "make_attention_mask")
        if len(got) != len(want) or any(len(g) != len(w) for g, w in zip(got, want)):
            shape = (len(got), len(got[0]) if got else 0)
            raise Hint(f"for a batch of shape {(len(want), len(want[0]))} your mask has shape {shape}: one 0/1 per id.")
        if got == [[1 - x for x in row] for row in want]:
            raise Hint("your mask is inverted: 1 marks a real token the model should attend to, 0 marks padding.")
        if got != want:
            row = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
            raise Hint(f"row {row} of the batch {texts!r} differs from the tokenizer's mask: "
                       f"got {got[row]}, expected 1 for every id except pad_token_id ({tokenizer.pad_token_id}).")
    return (f"your mask matches the tokenizer's on {len(batches)} batches: 1 for every real token, 0 for "
            f"{tokenizer.pad_token} ({tokenizer.pad_token_id}).")


@exercise
def check_token_at(token_at: Any, text: Any) -> str:
    expect_type(text, str, "TEXT")
    tokenizer = _tokenizer("encoder")
    enc = tokenizer(text, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    tested = 0
    for char_index, char in enumerate(text):
        want = enc.char_to_token(char_index)
        got = call(token_at, offsets, char_index, what="token_at")
        if got is not None and (isinstance(got, bool) or not isinstance(got, numbers.Integral)):
            raise Hint(f"token_at should return a token index (an int) or None; got {type(got).__name__}.")
        got = None if got is None else int(got)  # numpy and torch integers are fine too
        if got != want:
            if want is None:
                raise Hint(f"character {char_index} ({char!r}) belongs to no token: return None when no "
                           "(start, end) span contains it.")
            if got is not None and not 0 <= got < len(offsets):
                raise Hint(f"{got} is not a token index: TEXT has {len(offsets)} tokens (0 to {len(offsets) - 1}).")
            if got is not None and offsets[got][1] == char_index and offsets[got][0] != offsets[got][1]:
                raise Hint(f"off by one at character {char_index} ({char!r}): a span (start, end) contains start "
                           "but not end (end is the first character after the token).")
            if got is not None and tuple(offsets[got]) == (0, 0):
                raise Hint("you returned a special token: [CLS] and [SEP] have the span (0, 0) and cover no "
                           "character.")
            raise Hint(f"character {char_index} ({char!r}) is covered by token {want} "
                       f"({enc.tokens()[want] if want is not None else None!r}), not {got!r}.")
        tested += 1
    return f"token_at agrees with the fast tokenizer's char_to_token on all {tested} characters of TEXT."
