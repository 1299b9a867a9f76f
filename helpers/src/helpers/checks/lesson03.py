"""Checks for notebook 03 (tokenizers by hand). Expected answers come from the lesson's own code and the kit.

Each check also runs the typical wrong versions of the answer, so that a learner whose function behaves like one of
them gets the hint for that mistake (forgetting ``##``, merging the most frequent pair, decoding without the byte
table, ...) instead of a bare "not equal".
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .core import Hint, call, exercise, kit_tokenizer

UNK = "[UNK]"


def _pieces(value: Any, what: str) -> list[str]:
    """A list (or tuple) of strings, or a specific hint."""
    if value is None:
        raise Hint(f"{what} returned None: return the list of tokens.")
    if isinstance(value, str):
        raise Hint(f"{what} returned one string ({value!r}): return a list of tokens, e.g. ['token', '##ization'].")
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
        raise Hint(f"{what} should return a list of strings; got {type(value).__name__}.")
    return list(value)


def _first_miss(cases: Sequence[tuple], want_of: Callable[..., Any], got_of: Callable[..., Any]) -> tuple | None:
    """``(case, expected, learner's)`` for the first case where the learner's answer differs, or None."""
    for case in cases:
        want, got = want_of(*case), got_of(*case)
        if got != want:
            return case, want, got
    return None


def _which(got: Any, mistakes: dict[str, Callable[..., Any]], hints: dict[str, str], *args: Any) -> str | None:
    """The hint of the first typical mistake (``mistakes[name](*args)``) that gives ``got``, if any."""
    return next((hints[name] for name, wrong in mistakes.items() if wrong(*args) == got), None)


# ---------------------------------------------------------------- exercise 1: WordPiece for one word


def _longest_first(word: str, vocab: Any, prefix: str = "##", glue: str = "##", shortest: bool = False,
                   partial: bool = False, first_prefix: str = "") -> list[str]:
    """WordPiece and its typical wrong versions: look up with ``prefix``, write continuations with ``glue``."""
    pieces, start = [], 0
    while start < len(word):
        ends = range(start + 1, len(word) + 1) if shortest else range(len(word), start, -1)
        for end in ends:
            look = (prefix if start else first_prefix) + word[start:end]
            if look in vocab:
                pieces.append((glue if start else first_prefix) + word[start:end])
                start = end
                break
        else:
            return pieces + [UNK] if partial else [UNK]
    return pieces


WORDPIECE_MISTAKES: dict[str, Callable[[str, Any], list[str]]] = {
    "forgot ##": lambda w, v: _longest_first(w, v, prefix="", glue=""),
    "## missing in the output": lambda w, v: _longest_first(w, v, glue=""),
    "## on the first piece": lambda w, v: _longest_first(w, v, first_prefix="##"),
    "shortest match": lambda w, v: _longest_first(w, v, shortest=True),
    "partial [UNK]": lambda w, v: _longest_first(w, v, partial=True),
}
WORDPIECE_HINTS = {
    "forgot ##": "a piece after the first must be looked up (and written) with the '##' prefix: 'ing' at the start "
                 "of a word and '##ing' inside one are different entries of the vocabulary.",
    "## missing in the output": "you look continuations up with '##' but return them without it: the token is "
                                "'##ization', prefix included (that is what makes its id).",
    "## on the first piece": "the first piece of a word has no '##': only continuations are glued to a previous piece.",
    "shortest match": "you take the shortest piece that fits; WordPiece takes the longest one first (try the end of "
                      "the word first and move it left).",
    "partial [UNK]": "when no piece fits, the WHOLE word becomes ['[UNK]'], not the pieces found so far plus '[UNK]'.",
}
SMALL_VOCAB = frozenset({"token", "##ization", "##ize", "##s", "un", "##believ", "##able", "a", "##a", "##b"})


@functools.lru_cache(maxsize=1)
def _wordpiece_cases() -> list[tuple[str, Any]]:
    bert_vocab = kit_tokenizer("encoder").get_vocab()
    play = frozenset({"play", "##play", "##ing", "ing", "##er", "s", "##s"})
    short = frozenset({"a", "ab", "abc", "##b", "##c", "##bc", "##d"})
    # "players" tells looking up without ## from writing without ##; "abcd" tells shortest from longest
    cases = [("players", play), ("playing", play), ("abcd", short), ("ab", short), ("tokenization", SMALL_VOCAB),
             ("tokens", SMALL_VOCAB), ("unbelievable", SMALL_VOCAB), ("aab", SMALL_VOCAB), ("tokenx", SMALL_VOCAB),
             ("", SMALL_VOCAB)]
    words = ["tokenization", "huggingface", "unaffable", "transformers", "naive", "cafe", "gpt", "🤗", "xqzvk"]
    return cases + [(w, bert_vocab) for w in words]


@exercise
def check_wordpiece_word(wordpiece_word: Any) -> str:
    from ..lessons.tokenizers_by_hand import wordpiece

    cases = _wordpiece_cases()
    miss = _first_miss(cases, lambda word, vocab: wordpiece(word, vocab, max_chars=10**9), lambda word, vocab: _pieces(
        call(wordpiece_word, word, set(vocab) if len(vocab) < 50 else vocab, what="wordpiece_word"), "wordpiece_word"))
    if miss:
        (word, vocab), want, got = miss
        shown = sorted(vocab) if len(vocab) < 50 else "BERT's vocabulary"
        if hint := _which(got, WORDPIECE_MISTAKES, WORDPIECE_HINTS, word, vocab):
            raise Hint(f"for {word!r} with {shown} you return {got}, expected {want}: {hint}")
        if not word and got:
            raise Hint(f"an empty word has no pieces: return [] for '', not {got}.")
        raise Hint(f"for {word!r} with {shown} you return {got}; greedy longest match gives {want}.")
    return (f"wordpiece_word splits all {len(cases)} words like the lesson's wordpiece: longest piece first, '##' "
            "for continuations, one [UNK] for a word it cannot spell.")


# ---------------------------------------------------------------- exercise 2: one BPE merge step


def _merge(parts: Sequence[str], pair: tuple[str, str], first_only: bool = False, glue: str = "",
           right_to_left: bool = False) -> list[str]:
    seq = list(reversed(parts)) if right_to_left else list(parts)
    want = (pair[1], pair[0]) if right_to_left else pair
    out, i, done = [], 0, False
    while i < len(seq):
        if i + 1 < len(seq) and (seq[i], seq[i + 1]) == want and not (first_only and done):
            a, b = (seq[i + 1], seq[i]) if right_to_left else (seq[i], seq[i + 1])
            out.append(a + glue + b)
            i, done = i + 2, True
        else:
            out.append(seq[i])
            i += 1
    return list(reversed(out)) if right_to_left else out


def _known(parts: Sequence[str], ranks: dict) -> list[tuple[str, str]]:
    return [pair for pair in zip(parts, parts[1:]) if pair in ranks]


def _step(parts: Sequence[str], ranks: dict, choose: str = "lowest", **how: Any) -> list[str]:
    """One merge step by the right rule (lowest rank) or a wrong one; unchanged if no pair is known."""
    known = _known(parts, ranks)
    if not known:
        return list(parts)
    if choose == "lowest":
        pair = min(known, key=ranks.__getitem__)
    elif choose == "highest":
        pair = max(known, key=ranks.__getitem__)
    elif choose == "frequent":
        pair = max(known, key=known.count)
    else:  # "leftmost"
        pair = known[0]
    return _merge(parts, pair, **how)


def _full_bpe(parts: Sequence[str], ranks: dict) -> list[str]:
    parts = list(parts)
    while (nxt := _step(parts, ranks)) != parts:
        parts = nxt
    return parts


MERGE_MISTAKES: dict[str, Callable[[Sequence[str], dict], list[str]]] = {
    "most frequent": lambda p, r: _step(p, r, "frequent"),
    "highest rank": lambda p, r: _step(p, r, "highest"),
    "leftmost": lambda p, r: _step(p, r, "leftmost"),
    "first only": lambda p, r: _step(p, r, first_only=True),
    "right to left": lambda p, r: _step(p, r, right_to_left=True),
    "with a space": lambda p, r: _step(p, r, glue=" "),
    "all merges": _full_bpe,
}
MERGE_HINTS = {
    "most frequent": "you merged the pair that occurs most often in the word. That is how BPE is TRAINED; to "
                     "tokenize, merge the pair with the LOWEST rank (the merge learned first), however often it "
                     "occurs.",
    "highest rank": "you merged the pair with the highest rank; rank 0 is the first merge learned, and the lowest "
                    "rank wins.",
    "leftmost": "you merged the first known pair from the left; the pair to merge is the one with the lowest rank, "
                "wherever it is in the word.",
    "first only": "you merged only the first occurrence of the pair; a merge step joins it everywhere it occurs.",
    "right to left": "you joined the occurrences from the right; go left to right, so 'a a a' becomes 'aa a'.",
    "with a space": "a merged token is the two strings joined with nothing between them ('a' + 'b' = 'ab'); the "
                    "space only separates them in merges.txt.",
    "all merges": "you applied merges until none was left; one step applies exactly one merge (the whole loop is "
                  "the lesson's bpe).",
}


@functools.lru_cache(maxsize=1)
def _gpt2_tables() -> tuple[dict, dict]:
    from ..lessons.tokenizers_by_hand import BYTE_TO_CHAR, load_byte_level_bpe
    from ..models import checkpoint_folder

    return load_byte_level_bpe(checkpoint_folder("gpt2-tokenizer")).ranks, BYTE_TO_CHAR


def _merge_cases() -> list[tuple[list[str], dict]]:
    ranks, byte_to_char = _gpt2_tables()
    small = [  # the first case alone tells the right rule from most frequent, highest rank, leftmost and a space
        (list("pqababhixy"), {("p", "q"): 5, ("a", "b"): 3, ("h", "i"): 9, ("x", "y"): 0}),
        (list("abababc"), {("a", "b"): 1, ("b", "c"): 0}),
        (list("abxab"), {("a", "b"): 0}),  # every occurrence
        (list("aaa"), {("a", "a"): 0}),  # left to right
        (list("abc"), {("a", "b"): 0, ("ab", "c"): 1}),  # one step, not all
        (list("xyz"), {("a", "b"): 0}),  # nothing to merge
        (["x"], {("a", "b"): 0}),  # one part
    ]
    real = []
    for text in (" tokenization", " unbelievable", " Mississippi", "!!!!"):
        parts = list("".join(byte_to_char[b] for b in text.encode("utf-8")))  # single bytes, as characters
        while True:  # every intermediate state of the word, as the lesson's bpe goes through them
            real.append((parts, ranks))
            nxt = _step(parts, ranks)
            if nxt == parts:
                break
            parts = nxt
    return small + real


@exercise
def check_merge_step(merge_step: Any) -> str:
    cases = _merge_cases()
    miss = _first_miss(cases, _step, lambda parts, ranks: _pieces(call(merge_step, list(parts), ranks,
                                                                         what="merge_step"), "merge_step"))
    if miss:
        (parts, ranks), want, got = miss
        shown = ranks if len(ranks) < 10 else "GPT-2's ranks"
        if hint := _which(got, MERGE_MISTAKES, MERGE_HINTS, parts, ranks):
            raise Hint(f"for {parts} with ranks {shown} you return {got}, expected {want}: {hint}")
        if not _known(parts, ranks):
            raise Hint(f"no pair of neighbours in {parts} has a rank: return the parts unchanged, not {got}.")
        raise Hint(f"for {parts} with ranks {shown} you return {got}; one merge of the lowest-ranked pair gives "
                   f"{want}.")
    return (f"merge_step agrees with the lowest-rank rule on {len(cases)} cases, including every step of four words "
            "through GPT-2's 50,000 merges.")


# ---------------------------------------------------------------- exercise 3: decode byte-level tokens

DECODE_TEXTS = ("Hello world", "Déjà vu 🤗!", " naïve café",  # the emoji tells the mistakes apart
                "tab\there\nnew line", "Ελληνικά και 日本語")


def _decode_mistakes(char_to_byte: dict) -> dict[str, Callable[[list[str]], Any]]:
    def per_token(tokens: list[str]) -> str:
        return "".join(bytes(char_to_byte[c] for c in t).decode("utf-8", errors="replace") for t in tokens)

    return {
        "no table": lambda tokens: "".join(tokens).replace("Ġ", " ").replace("Ċ", "\n").replace("ĉ", "\t"),
        "kept Ġ": lambda tokens: "".join(tokens),
        "per token": per_token,
        "latin-1": lambda tokens: bytes(char_to_byte[c] for t in tokens for c in t).decode("latin-1"),
    }


DECODE_HINTS = {
    "no table": "that is decoding without the byte table: turning 'Ġ' into a space works for spaces only. Every "
                "character of a token stands for one BYTE (CHAR_TO_BYTE[char]); 'Ã©' is the two bytes of 'é'. "
                "Collect the bytes, then decode them as UTF-8.",
    "kept Ġ": "the 'Ġ' are still there: each character of a token stands for a byte (CHAR_TO_BYTE), 'Ġ' for the "
              "space byte 32. Turn the characters into bytes, then decode them as UTF-8.",
    "per token": "you decoded each token on its own, so a character whose bytes are spread over two tokens (an "
                 "emoji, here) becomes '�'. Collect the bytes of ALL the tokens first, then decode once.",
    "latin-1": "the bytes are UTF-8: decode them with .decode('utf-8'), not latin-1 (which reads 'é' as 'Ã©').",
}


@exercise
def check_decode_tokens(decode_tokens: Any) -> str:
    from ..lessons.tokenizers_by_hand import CHAR_TO_BYTE

    if not callable(decode_tokens):
        raise Hint(f"decode_tokens should be a function; got {type(decode_tokens).__name__}.")
    gpt2 = kit_tokenizer("gpt2-tokenizer")
    for text in DECODE_TEXTS:
        tokens = gpt2.convert_ids_to_tokens(gpt2(text)["input_ids"])
        try:
            got = decode_tokens(list(tokens))
        except NotImplementedError:
            raise Hint("decode_tokens is not written yet: replace the `raise NotImplementedError` with your code.") \
                from None
        except UnicodeDecodeError:
            raise Hint(f"decoding the tokens of {text!r} raised UnicodeDecodeError: "
                       f"{DECODE_HINTS['per token']}") from None
        except KeyError as exc:
            raise Hint(f"decoding the tokens of {text!r} raised KeyError {exc}: look each CHARACTER of a token up in "
                       "CHAR_TO_BYTE (character -> byte); BYTE_TO_CHAR goes the other way.") from None
        except Exception as exc:
            raise Hint(f"calling decode_tokens raised {type(exc).__name__}: {exc}") from None
        if isinstance(got, (bytes, bytearray)):
            raise Hint("decode_tokens returned bytes: turn them into text with .decode('utf-8').")
        if got == text:
            continue
        hint = _which(got, _decode_mistakes(CHAR_TO_BYTE), DECODE_HINTS, list(tokens))  # a known mistake, if any
        raise Hint(f"{tokens} came back as {got!r}, not {text!r}: {hint}" if hint else
                   f"the tokens {tokens} stand for {text!r}; decode_tokens returns {got!r}.")
    return (f"decode_tokens gives back all {len(DECODE_TEXTS)} texts exactly, accents, emoji, newlines, Greek and "
            "kanji included: characters -> bytes -> UTF-8.")
