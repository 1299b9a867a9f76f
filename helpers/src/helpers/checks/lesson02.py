"""Checks for notebook 02 (tokenizers). Each computes its expected answer with the kit's tokenizers.

The attention-mask batches come from two real tokenizers: BERT's (pad id 0, padding on the right) and SmolLM2's (pad id
2, also padded on the left), so a mask that compares with 0, or assumes the padding is at the end, is caught.
"""

from __future__ import annotations

from typing import Any

from .core import Hint, as_int, as_int_rows, call, exercise, expect_type, kit_tokenizer

MASK_BATCHES = (  # (kit tokenizer, padding side, texts)
    ("encoder", "right", ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]),
    ("encoder", "right", ["Short.", "A somewhat longer sentence, with a comma.", "Medium length one."]),
    ("encoder", "right", ["Nothing to pad here.", "Nothing to pad here."]),
    ("generator", "right", ["The generator pads with id 2, not 0.", "Hi!"]),
    ("generator", "left", ["Padding can come first, too.", "Hi!", "Left padding, for generation."]),
)
# a second text for token_at, whatever TEXT is: split words, spaces, punctuation and an emoji
TOKEN_AT_TEXT = "Tokenization isn't magic: naïve café 🤗 ok"


def _mask_mistakes(got: list[list[int]], ids: list[list[int]], pad: int, side: str) -> None:
    """A specific hint for each typical wrong mask."""
    if got == [[int(t != 0) for t in row] for row in ids] and pad != 0:
        raise Hint(f"you compared with 0, BERT's pad id; this batch pads with id {pad}: compare with the "
                   "pad_token_id argument, not a number typed in.")
    if got == [[1] * len(row) for row in ids]:
        raise Hint("every entry is 1: the padding positions (id == pad_token_id) must get 0.")
    if side == "left":
        raise Hint(f"this batch is padded on the LEFT (pad id {pad} first): do not assume the padding is at the end; "
                   "look at each id.")


@exercise
def check_attention_mask(make_attention_mask: Any) -> str:
    for entry, side, texts in MASK_BATCHES:
        tokenizer = kit_tokenizer(entry)
        enc = tokenizer(texts, padding=True, padding_side=side)
        want, ids, pad = enc["attention_mask"], enc["input_ids"], tokenizer.pad_token_id
        got = as_int_rows(call(make_attention_mask, [list(r) for r in ids], pad, what="make_attention_mask"),
                          "make_attention_mask", values="0s and 1s")
        if len(got) != len(want) or any(len(g) != len(w) for g, w in zip(got, want)):
            shape = (len(got), len(got[0]) if got else 0)
            raise Hint(f"for a batch of shape {(len(want), len(want[0]))} your mask has shape {shape}: one 0/1 per id.")
        if got == [[1 - x for x in row] for row in want]:
            raise Hint("your mask is inverted: 1 marks a real token the model should attend to, 0 marks padding.")
        if got != want:
            _mask_mistakes(got, ids, pad, side)
            row = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
            raise Hint(f"row {row} of the batch {texts!r} differs from the tokenizer's mask: "
                       f"got {got[row]}, expected 1 for every id except pad_token_id ({pad}).")
    return (f"your mask matches the tokenizer's on {len(MASK_BATCHES)} batches, padded with id 0 (BERT) and id 2 "
            "(SmolLM2), on the right and on the left.")


def _token_at_hint(got: int | None, want: int | None, offsets: list, char_index: int, char: str, tokens: list) -> str:
    """The hint for one character where token_at disagrees with char_to_token."""
    if want is None:
        return (f"character {char_index} ({char!r}) belongs to no token: return None when no (start, end) span "
                "contains it.")
    if got is None and offsets[want][0] == char_index:
        return (f"character {char_index} ({char!r}) is the first character of token {want} ({tokens[want]!r}): a span "
                "(start, end) contains its start, start <= char_index < end.")
    if got is not None and tuple(offsets[got]) == (0, 0):
        return "you returned a special token: [CLS] and [SEP] have the span (0, 0) and cover no character."
    if got is not None and not 0 <= got < len(offsets):
        return f"{got} is not a token index: the text has {len(offsets)} tokens (0 to {len(offsets) - 1})."
    if got is not None and offsets[got][1] == char_index and offsets[got][0] != offsets[got][1]:
        return (f"off by one at character {char_index} ({char!r}): a span (start, end) contains start but not end "
                "(end is the first character after the token).")
    return f"character {char_index} ({char!r}) is covered by token {want} ({tokens[want]!r}), not {got!r}."


def _shifted(token_at: Any, offsets: list) -> bool:
    """Whether token_at answers one token too early inside a word too (it skipped [CLS] when counting)."""
    for index, (start, end) in enumerate(offsets):
        if end - start >= 2:
            return call(token_at, list(offsets), start + 1, what="token_at", allow_none=True) == index - 1
    return False


@exercise
def check_token_at(token_at: Any, text: Any) -> str:
    expect_type(text, str, "TEXT")
    tokenizer = kit_tokenizer("encoder")
    tested = 0
    for sample in dict.fromkeys([text, TOKEN_AT_TEXT]):  # TEXT first, then the check's own traps
        enc = tokenizer(sample, return_offsets_mapping=True)
        offsets = [tuple(span) for span in enc["offset_mapping"]]
        for char_index, char in enumerate(sample):
            want = enc.char_to_token(char_index)
            got = call(token_at, list(offsets), char_index, what="token_at", allow_none=True)
            if got is not None:  # numpy and torch integers are fine too
                got = as_int(got, f"token_at(offsets, {char_index})")
            if got is None and want is not None and all(
                    call(token_at, list(offsets), i, what="token_at", allow_none=True) is None
                    for i in range(len(sample))):
                raise Hint("token_at returned None for every character: did you forget `return`?")
            if got is not None and want is not None and got == want - 1 and _shifted(token_at, offsets):
                raise Hint(f"your index is one less than the token's ({want}, {enc.tokens()[want]!r}): count the "
                           "tokens from [CLS], position 0 of offsets (enumerate(offsets)).")
            if got != want:
                raise Hint(f"in {sample!r}: " + _token_at_hint(got, want, offsets, char_index, char, enc.tokens()))
            tested += 1
    return (f"token_at agrees with the fast tokenizer's char_to_token on all {tested} characters of TEXT and of a "
            "test text.")
