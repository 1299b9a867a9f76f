"""Checks for notebook 03 (tokenizers by hand). Expected answers come from the lesson's own code and the kit.

Each check also runs the typical wrong versions of the answer, so that a learner whose function behaves like one of
them gets the hint for that mistake (merging the most frequent pair, joining the tokens into a string and replacing,
training across word boundaries, a vocabulary without every byte, ...) instead of a bare "not equal".
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any, Callable, Iterable, Sequence

from .core import Hint, call, exercise


def _pieces(value: Any, what: str) -> list[str]:
    """A list (or tuple) of strings, or a specific hint."""
    if value is None:
        raise Hint(f"{what} returned None: return the list of tokens.")
    if isinstance(value, str):
        raise Hint(f"{what} returned one string ({value!r}): return a list of tokens, e.g. ['Ġto', 'ken'].")
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


# ---------------------------------------------------------------- exercise 1: one BPE merge step


def _merge(parts: Sequence[str], pair: tuple[str, str], first_only: bool = False, glue: str = "",
           right_to_left: bool = False, drop_last: bool = False) -> list[str]:
    seq = list(reversed(parts)) if right_to_left else list(parts)
    want = (pair[1], pair[0]) if right_to_left else pair
    out, i, done = [], 0, False
    while i < len(seq) - (1 if drop_last else 0):
        if i + 1 < len(seq) and (seq[i], seq[i + 1]) == want and not (first_only and done):
            a, b = (seq[i + 1], seq[i]) if right_to_left else (seq[i], seq[i + 1])
            out.append(a + glue + b)
            i, done = i + 2, True
        else:
            out.append(seq[i])
            i += 1
    return list(reversed(out)) if right_to_left else out


def _replace_merge(parts: Sequence[str], pair: tuple[str, str]) -> list[str]:
    """WRONG: the tokens joined with spaces and 'a b' replaced by 'ab', which also matches across token edges."""
    return " ".join(parts).replace(f"{pair[0]} {pair[1]}", pair[0] + pair[1]).split(" ")


def _known(parts: Sequence[str], ranks: dict) -> list[tuple[str, str]]:
    return [pair for pair in zip(parts, parts[1:]) if pair in ranks]


def _step(parts: Sequence[str], ranks: dict, choose: str = "lowest", merge: Callable[..., list[str]] = _merge,
          **how: Any) -> list[str]:
    """One merge step by the right rule (lowest rank) or a wrong one; unchanged if no pair is known."""
    if choose == "global":  # the lowest rank of the whole list, present in the word or not
        return merge(parts, min(ranks, key=ranks.__getitem__), **how) if ranks else list(parts)
    if choose == "default 0":  # a pair with no rank counted as rank 0
        pairs = list(zip(parts, parts[1:]))
        return merge(parts, min(pairs, key=lambda pair: ranks.get(pair, 0)), **how) if pairs else list(parts)
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
    return merge(parts, pair, **how)


def _full_bpe(parts: Sequence[str], ranks: dict) -> list[str]:
    parts = list(parts)
    while (nxt := _step(parts, ranks)) != parts:
        parts = nxt
    return parts


MERGE_MISTAKES: dict[str, Callable[[Sequence[str], dict], list[str]]] = {
    "most frequent": lambda p, r: _step(p, r, "frequent"),
    "highest rank": lambda p, r: _step(p, r, "highest"),
    "leftmost": lambda p, r: _step(p, r, "leftmost"),
    "global lowest": lambda p, r: _step(p, r, "global"),
    "default 0": lambda p, r: _step(p, r, "default 0"),
    "first only": lambda p, r: _step(p, r, first_only=True),
    "right to left": lambda p, r: _step(p, r, right_to_left=True),
    "with a space": lambda p, r: _step(p, r, glue=" "),
    "string replace": lambda p, r: _step(p, r, merge=_replace_merge),
    "drops the last": lambda p, r: _step(p, r, drop_last=True),
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
    "global lowest": "you took the lowest rank of the whole merge list, a pair that may not be in this word at all; "
                     "take the lowest rank among the pairs of neighbours present in THIS word.",
    "default 0": "a pair of neighbours that was never merged must come LAST (rank float('inf')), not first: with "
                 "ranks.get(pair, 0) you merged a pair that is not in the merge list.",
    "first only": "you merged only the first occurrence of the pair; a merge step joins it everywhere it occurs.",
    "right to left": "you joined the occurrences from the right; go left to right, so 'a a a' becomes 'aa a'.",
    "with a space": "a merged token is the two strings joined with nothing between them ('a' + 'b' = 'ab'); the "
                    "space only separates them in merges.txt.",
    "string replace": "you joined the tokens into one string and replaced 'a b' with 'ab': that also matches where a "
                      "token only ENDS in 'a' (as 'xa' + 'b' does). Compare whole tokens: walk the list and join "
                      "parts[i] and parts[i + 1] where (parts[i], parts[i + 1]) is the pair.",
    "drops the last": "the last token is missing: when your loop stops one before the end (to look at parts[i + 1]), "
                      "the last token still has to be kept.",
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
        (["xa", "b", "a", "b"], {("a", "b"): 0}),  # whole tokens: 'xa' + 'b' is not the pair ('a', 'b')
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


def _call_merge_step(merge_step: Any, parts: list[str], ranks: dict) -> list[str]:
    """The learner's step on a copy of parts. A KeyError (a rank looked up for a pair that has none) gets its own
    hint; everything else gets ``call``'s (not a function, not written yet, another error, a forgotten return)."""
    try:
        if callable(merge_step):
            merge_step(list(parts), ranks)
    except KeyError as exc:
        raise Hint(f"merge_step({parts}, ...) raised KeyError {exc}: a pair of neighbours that was never merged has "
                   "no rank. Skip such pairs (`if pair in ranks`), or give them rank float('inf') "
                   "(ranks.get(pair, float('inf'))).") from None
    except Exception:
        pass  # call() below turns it into its hint
    return _pieces(call(merge_step, list(parts), ranks, what="merge_step"), "merge_step")


@exercise
def check_merge_step(merge_step: Any) -> str:
    cases = _merge_cases()
    miss = _first_miss(cases, _step, lambda parts, ranks: _call_merge_step(merge_step, parts, ranks))
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


# ---------------------------------------------------------------- exercise 2: a byte-level BPE of your own

TRAIN_SNIPPETS = 200  # the first snippets of the corpus: the check's training texts
NUM_MERGES = 40
UNSEEN = ("Déjà vu: the naïve café owner loves tokenization 🤗!", "日本語のテキスト, ΟΔΟΣ, tab\tand\nnewline",
          "emoji 👍🏽👨‍👩‍👧 and a control byte \x04")


@functools.lru_cache(maxsize=1)
def _corpus() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(training texts, unseen texts): the first snippets, and the last ones plus texts with rare bytes."""
    from ..corpus import movie_reviews

    texts = [snippet["text"] for snippet in movie_reviews()]
    return tuple(texts[:TRAIN_SNIPPETS]), tuple(texts[-20:]) + UNSEEN


def _replay(merges: Sequence[tuple[str, str]], words: Counter) -> tuple[int, tuple, int, int] | None:
    """Replay merges on words ({word: count}): None if each was a most frequent pair at its step, else
    (step, its pair, its count, the highest count) of the first that was not."""
    from ..lessons.tokenizers_by_hand import merge_pair

    parts = {word: list(word) for word in words}
    for step, pair in enumerate(merges):
        counts: Counter = Counter()
        for word, tokens in parts.items():
            for neighbours in zip(tokens, tokens[1:]):
                counts[neighbours] += words[word]
        if not counts or counts[pair] != max(counts.values()):
            return step, pair, counts[pair], max(counts.values(), default=0)
        parts = {word: merge_pair(tokens, pair) for word, tokens in parts.items()}
    return None


def _words(texts: Iterable[str], how: str) -> Counter:
    """The training words as the lesson cuts them, or as the typical wrong versions do."""
    from ..lessons.tokenizers_by_hand import BYTE_TO_CHAR, gpt2_pre_tokenize

    def as_bytes(text: str) -> str:
        return "".join(BYTE_TO_CHAR[b] for b in text.encode("utf-8"))

    if how == "right":
        return Counter(word for text in texts for word in gpt2_pre_tokenize(text))
    if how == "once":
        return Counter(set(word for text in texts for word in gpt2_pre_tokenize(text)))
    if how == "split":
        return Counter(as_bytes(word) for text in texts for word in text.split())
    return Counter(as_bytes(text) for text in texts)  # "whole": every text one long word


TRAIN_HINTS = {
    "once": "you counted every distinct word once; a pair counts as often as its word occurs in the texts, so count "
            "the words (a Counter) and weight each pair by its word's count.",
    "split": "you cut the texts at spaces (str.split): the spaces are gone and punctuation sticks to words. Cut them "
             "as the byte-level tokenizer does, with gpt2_pre_tokenize, which keeps each word's leading space (Ġ).",
    "whole": "your merges cross word boundaries (a merge joins the end of one word to the next): cut each text into "
             "words first (gpt2_pre_tokenize) and count pairs inside words only.",
}


def _tokenizer(result: Any) -> Any:
    """The learner's tokenizer, or a hint naming what was returned instead."""
    if isinstance(result, (list, tuple, dict)):
        raise Hint(f"train_byte_level_bpe returned a {type(result).__name__}; return the tokenizer itself, "
                   "ByteLevelBPE(vocab, merges), so that it can encode and decode.")
    missing = [name for name in ("vocab", "ranks", "encode", "decode", "tokenize") if not hasattr(result, name)]
    if missing:
        raise Hint(f"train_byte_level_bpe returned a {type(result).__name__}, which has no {missing[0]}: build and "
                   "return a ByteLevelBPE(vocab, merges).")
    if not isinstance(result.vocab, dict) or not isinstance(result.ranks, dict):
        raise Hint("the tokenizer's vocab should be a dict token -> id (and its ranks a dict pair -> rank): build it "
                   "with ByteLevelBPE(vocab, merges).")
    return result


def _merges_of(tokenizer: Any) -> list[tuple[str, str]]:
    ranked = sorted(tokenizer.ranks.items(), key=lambda item: item[1])
    if [rank for _, rank in ranked] != list(range(len(ranked))):
        raise Hint("the merge ranks should run 0, 1, 2, ... in the order the merges were learned: pass the merges "
                   "to ByteLevelBPE as a list, first learned first.")
    if not all(isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(t, str) for t in pair)
               for pair, _ in ranked):
        raise Hint("each merge should be a pair of two tokens, such as ('Ġ', 't').")
    return [pair for pair, _ in ranked]


def _check_merges(merges: list[tuple[str, str]], train: Sequence[str]) -> None:
    from ..lessons.tokenizers_by_hand import CHAR_TO_BYTE

    if len(merges) != NUM_MERGES:
        raise Hint(f"asked for {NUM_MERGES} merges, your tokenizer has {len(merges)}: learn exactly num_merges "
                   "(there are plenty of pairs left in these texts).")
    not_bytes = sorted({c for pair in merges for token in pair for c in token if c not in CHAR_TO_BYTE})
    if not_bytes:
        raise Hint(f"your merges hold characters that are not byte characters ({not_bytes[:3]}): a byte-level BPE "
                   "works on each word's UTF-8 bytes shown as characters (a space is 'Ġ', 'é' is 'Ã©'), as "
                   "gpt2_pre_tokenize gives them.")
    failed = _replay(merges, _words(train, "right"))
    if failed is None:
        return
    for how, hint in TRAIN_HINTS.items():
        if _replay(merges, _words(train, how)) is None:
            raise Hint(hint)
    step, pair, count, best = failed
    if count == 0:
        raise Hint(f"merge {step} {pair} does not occur in the words at that step: after each merge, apply it to "
                   "the words (merge_pair) before counting the pairs again.")
    raise Hint(f"merge {step} {pair} occurs {count} times at that step, but another pair occurs {best} times: each "
               "merge must be the most frequent pair of neighbours, counted over all the words as merged so far.")


def _check_vocab(tokenizer: Any, merges: list[tuple[str, str]]) -> None:
    from ..lessons.tokenizers_by_hand import BYTE_TO_CHAR

    vocab = tokenizer.vocab
    no_token = [b for b, char in BYTE_TO_CHAR.items() if char not in vocab]
    if no_token:
        raise Hint(f"{len(no_token)} of the 256 byte values have no token (for example {no_token[0]:#04x}, "
                   f"{BYTE_TO_CHAR[no_token[0]]!r}): texts the training never saw contain them, and a byte without "
                   "a token is lost (section 5.5). Start the vocabulary with all 256 values of BYTE_TO_CHAR.")
    absent = [pair for pair in merges if pair[0] + pair[1] not in vocab]
    if absent:
        raise Hint(f"the token {absent[0][0] + absent[0][1]!r} that merge {absent[0]} makes has no id: every merge "
                   "adds its token to the vocabulary.")
    ids = list(vocab.values())
    if len(set(ids)) != len(ids) or not all(isinstance(i, int) for i in ids):
        raise Hint("two tokens share an id (or an id is not an int): give every token its own number, e.g. "
                   "{token: i for i, token in enumerate(tokens)}.")


@exercise
def check_train_byte_level_bpe(train_byte_level_bpe: Any) -> str:
    train, unseen = _corpus()
    what = "train_byte_level_bpe"
    tokenizer = _tokenizer(call(train_byte_level_bpe, list(train), NUM_MERGES, what=what))
    merges = _merges_of(tokenizer)
    _check_merges(merges, train)
    _check_vocab(tokenizer, merges)
    n_bytes = n_tokens = 0
    for text in unseen:
        ids = call(tokenizer.encode, text, what=f"your tokenizer's encode({text!r})")
        back = call(tokenizer.decode, ids, what="your tokenizer's decode")
        if back != text:
            raise Hint(f"{text!r} came back from your tokenizer as {back!r}: build it as ByteLevelBPE(vocab, merges), "
                       "whose encode and decode go through the byte table.")
        n_bytes, n_tokens = n_bytes + len(text.encode("utf-8")), n_tokens + len(ids)
    first = merges[0]
    return (f"{NUM_MERGES} merges, each the most frequent pair of its step (the first: {first[0]!r} + {first[1]!r}); "
            f"{len(unseen)} texts it never saw, {n_bytes:,} bytes in {n_tokens:,} tokens, all decoded back exactly.")
