"""Checks for notebook 02 (tokenizers). Each computes its expected answer with the kit's tokenizers.

The padding batches come from two real tokenizers: BERT's (pad id 0, on the right) and SmolLM2's (pad id 2, on the
right and on the left). SmolLM2's pad token, ``<|im_end|>``, also ends every chat turn, so a chat batch holds real
tokens with the pad id: a mask computed by comparing ids with the pad id is caught there.
"""

from __future__ import annotations

from typing import Any

from .core import Hint, as_int, as_int_rows, call, exercise, expect_type, kit_tokenizer

CHATS = ["<|im_start|>user\nHi<|im_end|>\n",
         "<|im_start|>user\nWhat is a token?<|im_end|>\n<|im_start|>assistant\n"]
PAD_BATCHES = (  # (kit tokenizer, padding side, texts)
    ("encoder", "right", ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]),
    ("encoder", "right", ["Short.", "A somewhat longer sentence, with a comma.", "Medium length one."]),
    ("encoder", "right", ["Nothing to pad here.", "Nothing to pad here."]),
    ("generator", "right", ["The generator pads with id 2, not 0.", "Hi!"]),
    ("generator", "left", ["Padding can come first, too.", "Hi!", "Left padding, for generation."]),
    ("generator", "left", CHATS),  # <|im_end|>, id 2, is both the pad token and a real token here
    ("generator", "right", CHATS),
)
# a second text for token_at, whatever TEXT is: split words, spaces, punctuation and an emoji
TOKEN_AT_TEXT = "Tokenization isn't magic: naïve café 🤗 ok"


def _padded(rows: list[list[int]], pad: int, side: str, length: int | None = None) -> list[list[int]]:
    length = max(map(len, rows)) if length is None else length
    return [[pad] * (length - len(r)) + r if side == "left" else r + [pad] * (length - len(r)) for r in rows]


def _two_parts(result: Any) -> tuple[Any, Any]:
    """(input_ids, attention_mask) from the learner's result: a pair (also a stacked tensor or array of the two), or a
    dict with those two keys."""
    if isinstance(result, dict) or hasattr(result, "keys"):
        if "input_ids" in result and "attention_mask" in result:
            return result["input_ids"], result["attention_mask"]
        raise Hint("pad_batch returned a dict without 'input_ids' and 'attention_mask': return (input_ids, "
                   "attention_mask).")
    try:
        first, second = result  # a tuple, a list, or a tensor or array of shape (2, batch, length)
        rows = first.tolist() if hasattr(first, "tolist") else first
        two_d = bool(rows) and all(isinstance(row, (list, tuple)) for row in rows)
    except (TypeError, ValueError):
        two_d = False
    if not two_d:
        raise Hint("pad_batch should return two things, (input_ids, attention_mask): each one row per sequence.")
    return first, second


def _pad_hint(ids: list[list[int]], mask: list[list[int]], rows: list[list[int]], pad: int, side: str) -> None:
    """The hint of the typical mistake the learner's (ids, mask) shows, if any."""
    want_ids = _padded(rows, pad, side)
    want_mask = _padded([[1] * len(r) for r in rows], 0, side)
    longest = max(map(len, rows))
    if ids == want_mask and mask == want_ids:
        raise Hint("input_ids and attention_mask are swapped: return (input_ids, attention_mask), ids first.")
    lengths = {len(r) for r in ids} | {len(r) for r in mask}
    if len(ids) != len(rows) or len(mask) != len(rows):
        raise Hint(f"the batch has {len(rows)} rows; return one row of ids and one row of mask per row.")
    if lengths != {longest}:
        if max(lengths) > longest:
            raise Hint(f"pad every row to the longest one ({longest} ids here), no further.")
        raise Hint(f"every row must be as long as the longest ({longest} ids here): that is what makes a tensor of "
                   "the batch possible.")
    if ids != want_ids:
        if ids == _padded(rows, pad, "right" if side == "left" else "left"):
            raise Hint(f"this batch asks for side={side!r}: the padding goes {'before' if side == 'left' else 'after'} "
                       "the tokens.")
        if pad != 0 and ids == _padded(rows, 0, side):
            raise Hint(f"you padded with 0; this tokenizer's pad id is {pad}: pad with the pad_token_id you are given.")
        row = next(i for i, (g, w) in enumerate(zip(ids, want_ids)) if g != w)
        raise Hint(f"row {row} of input_ids is {ids[row]}; padded with {pad} on the {side} it is {want_ids[row]}.")
    if mask != want_mask:
        if mask == [[1 - x for x in row] for row in want_mask]:
            raise Hint("your mask is inverted: 1 marks a real token the model should attend to, 0 marks padding.")
        if mask == [[int(t != pad) for t in row] for row in want_ids]:
            raise Hint(f"a real token can have the pad id: SmolLM2 pads with <|im_end|> (id {pad}), which also ends "
                       "every chat turn, and those must stay 1. Mark the positions YOU padded, not every id equal "
                       "to pad_token_id.")
        if mask == [[1] * longest for _ in rows]:
            raise Hint("every entry of your mask is 1: the positions you padded must get 0.")
        if mask == _padded([[1] * len(r) for r in rows], 0, "right" if side == "left" else "left"):
            raise Hint(f"the mask must follow the padding: its 0s go where you put the pads ({side} here).")
        row = next(i for i, (g, w) in enumerate(zip(mask, want_mask)) if g != w)
        raise Hint(f"row {row} of attention_mask is {mask[row]}; expected {want_mask[row]}: 1 at each real token, 0 "
                   "at each pad you added.")


@exercise
def check_pad_batch(pad_batch: Any) -> str:
    for entry, side, texts in PAD_BATCHES:
        tokenizer = kit_tokenizer(entry)
        rows = [list(ids) for ids in tokenizer(texts)["input_ids"]]  # one text at a time: no padding yet
        pad = tokenizer.pad_token_id
        result = call(pad_batch, [list(r) for r in rows], pad, side, what="pad_batch")
        ids, mask = (as_int_rows(part, "pad_batch's " + name, values=kind) for part, name, kind in
                     zip(_two_parts(result), ("input_ids", "attention_mask"), ("ids", "0s and 1s")))
        want = tokenizer(texts, padding=True, padding_side=side)
        if ids != want["input_ids"] or mask != want["attention_mask"]:
            _pad_hint(ids, mask, rows, pad, side)
            raise Hint(f"for {texts!r} your batch differs from the tokenizer's padding=True.")  # not reached so far
    return (f"your ids and mask match the tokenizer's padding=True on {len(PAD_BATCHES)} batches: pad id 0 (BERT) and "
            "2 (SmolLM2), on the right and on the left, with real <|im_end|> tokens kept at 1.")


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
