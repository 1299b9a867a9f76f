"""Notebook 03's exercise checks against plausible answers: each wrong one gets its own hint, each right one passes.

The wrong answers are the mistakes people make (forgetting ``##``, merging the most frequent pair, decoding without
the byte table, ...); the right ones are different ways of writing a correct answer, which must all pass.
"""

from __future__ import annotations

from answers import answer_tests, by_hint, by_name, named, printed
from helpers.checks import HINT, lesson03


# ---------------------------------------------------------------- exercise 1: WordPiece for one word


def wp_reference(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start and (word[start:end] if start == 0 else "##" + word[start:end]) not in vocab:
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(word[start:end] if start == 0 else "##" + word[start:end])
        start = end
    return pieces


def wp_recursive(word, vocab, first=True):
    if not word:
        return []
    for end in range(len(word), 0, -1):
        piece = word[:end] if first else "##" + word[:end]
        if piece in vocab:
            rest = wp_recursive(word[end:], vocab, first=False)
            return ["[UNK]"] if rest == ["[UNK]"] else [piece] + rest
    return ["[UNK]"]


def wp_lesson(word, vocab):
    from helpers.lessons.tokenizers_by_hand import wordpiece

    return tuple(wordpiece(word, vocab, max_chars=10**6))  # a tuple is fine too


def _wp_variant(word, vocab, prefix=lambda start: "##" if start else "", shortest=False, partial_unk=False):
    """Greedy WordPiece with one slip switched on: the continuation prefix, the shortest piece, a partial [UNK]."""
    pieces, start = [], 0
    while start < len(word):
        ends = range(start + 1, len(word) + 1) if shortest else range(len(word), start, -1)
        end = next((end for end in ends if prefix(start) + word[start:end] in vocab), None)
        if end is None:
            return pieces + ["[UNK]"] if partial_unk else ["[UNK]"]
        pieces.append(prefix(start) + word[start:end])
        start = end
    return pieces


def wp_no_prefix(word, vocab):  # forgets ## when looking up (and writing) continuations
    return _wp_variant(word, vocab, prefix=lambda start: "")


def wp_prefix_not_written(word, vocab):  # looks up "##ing" but returns "ing"
    return [p[2:] if p.startswith("##") else p for p in wp_reference(word, vocab)]


def wp_shortest(word, vocab):
    return _wp_variant(word, vocab, shortest=True)


def wp_partial_unk(word, vocab):
    return _wp_variant(word, vocab, partial_unk=True)


def wp_prefix_everywhere(word, vocab):
    return _wp_variant(word, vocab, prefix=lambda start: "##")


WRONG_WORDPIECE = {
    "no ##": (wp_no_prefix, "'##' prefix"),
    "## not written": (wp_prefix_not_written, "return them without it"),
    "shortest": (wp_shortest, "shortest piece"),
    "partial unk": (wp_partial_unk, "WHOLE word becomes"),
    "## first": (wp_prefix_everywhere, "first piece of a word has no '##'"),
    "string": (lambda word, vocab: " ".join(wp_reference(word, vocab)), "one string"),
    "None": (lambda word, vocab: None, "returned None"),
    "raises": (lambda word, vocab: 1 / 0, "ZeroDivisionError"),
    "not callable": ("not a function", "should be a function"),
}
test_wordpiece_wrong_answers_get_their_hint, test_wordpiece_right_answers_pass = answer_tests(
    lesson03.check_wordpiece_word, WRONG_WORDPIECE, by_name([wp_reference, wp_recursive, wp_lesson]))


# ---------------------------------------------------------------- exercise 2: one BPE merge step


def ms_reference(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    if not known:
        return list(parts)
    best = min(known, key=ranks.get)
    out, i = [], 0
    while i < len(parts):
        if tuple(parts[i:i + 2]) == best:
            out.append(parts[i] + parts[i + 1])
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return out


def ms_lesson(parts, ranks):
    from helpers.lessons.tokenizers_by_hand import NEVER, merge_pair

    best = min(zip(parts, parts[1:]), key=lambda pair: ranks.get(pair, NEVER), default=None)
    return tuple(merge_pair(parts, best)) if best in ranks else tuple(parts)


def ms_sorted_ranks(parts, ranks):
    present = set(zip(parts, parts[1:]))
    for pair in sorted(present & ranks.keys(), key=lambda p: ranks[p])[:1]:  # the lowest rank, if any
        merged, i = [], 0
        while i < len(parts):
            if i < len(parts) - 1 and parts[i] == pair[0] and parts[i + 1] == pair[1]:
                merged.append(pair[0] + pair[1])
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        return merged
    return parts


def _merge_all(parts, pair, first_only=False, glue=""):
    out, i, done = [], 0, False
    while i < len(parts):
        if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair and not (first_only and done):
            out.append(parts[i] + glue + parts[i + 1])
            i, done = i + 2, True
        else:
            out.append(parts[i])
            i += 1
    return out


def ms_most_frequent(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return _merge_all(parts, max(known, key=known.count)) if known else list(parts)


def ms_highest_rank(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return _merge_all(parts, max(known, key=ranks.get)) if known else list(parts)


def ms_leftmost(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return _merge_all(parts, known[0]) if known else list(parts)


def ms_first_only(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return _merge_all(parts, min(known, key=ranks.get), first_only=True) if known else list(parts)


def ms_with_space(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return _merge_all(parts, min(known, key=ranks.get), glue=" ") if known else list(parts)


def ms_until_done(parts, ranks):
    while (nxt := ms_reference(parts, ranks)) != list(parts):
        parts = nxt
    return list(parts)


def ms_none_when_done(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return ms_reference(parts, ranks) if known else None


WRONG_MERGE_STEP = by_hint({
    "That is how BPE is TRAINED": ms_most_frequent,
    "rank 0 is the first merge learned": ms_highest_rank,
    "first known pair from the left": ms_leftmost,
    "only the first occurrence": ms_first_only,
    "joined with nothing between them": ms_with_space,
    "one step applies exactly one merge": ms_until_done,
    "returned None": ms_none_when_done,
})
test_merge_step_wrong_answers_get_their_hint, test_merge_step_right_answers_pass = answer_tests(
    lesson03.check_merge_step, WRONG_MERGE_STEP, by_name([ms_reference, ms_lesson, ms_sorted_ranks]))


# ---------------------------------------------------------------- exercise 3: decode byte-level tokens


def _table():
    from helpers.lessons.tokenizers_by_hand import BYTE_TO_CHAR, CHAR_TO_BYTE

    return BYTE_TO_CHAR, CHAR_TO_BYTE


def dt_reference(tokens):
    return bytes(_table()[1][c] for t in tokens for c in t).decode("utf-8")


def dt_bytearray_replace(tokens):
    data = bytearray()
    for token in tokens:
        data.extend(_table()[1][c] for c in token)
    return data.decode("utf-8", errors="replace")


def dt_inverted_here(tokens):
    back = {char: byte for byte, char in _table()[0].items()}  # turn the table round itself
    return bytes(back[c] for c in "".join(tokens)).decode()


def dt_without_table(tokens):
    return "".join(tokens).replace("Ġ", " ").replace("Ċ", "\n")


def dt_per_token(tokens):
    return "".join(bytes(_table()[1][c] for c in t).decode("utf-8", errors="replace") for t in tokens)


def dt_per_token_strict(tokens):
    return "".join(bytes(_table()[1][c] for c in t).decode("utf-8") for t in tokens)


def dt_latin1(tokens):
    return bytes(_table()[1][c] for t in tokens for c in t).decode("latin-1")


def dt_wrong_direction(tokens):
    return bytes(_table()[0][c] for t in tokens for c in t).decode("utf-8")


def dt_bytes(tokens):
    return bytes(_table()[1][c] for t in tokens for c in t)


def dt_kept_marks(tokens):  # the byte-level characters joined as they are
    return "".join(tokens)


WRONG_DECODE = named([
    (dt_without_table, "decoding without the byte table"),
    (dt_kept_marks, "the 'Ġ' are still there"),
    (dt_per_token, "decoded each token on its own"),
    (dt_per_token_strict, "decoded each token on its own"),
    (dt_latin1, "not latin-1"),
    (dt_wrong_direction, "BYTE_TO_CHAR goes the other way"),
    (dt_bytes, "returned bytes"),
])
test_decode_wrong_answers_get_their_hint, test_decode_right_answers_pass = answer_tests(
    lesson03.check_decode_tokens, WRONG_DECODE, by_name([dt_reference, dt_bytearray_replace, dt_inverted_here]))


def test_untouched_starters_get_a_hint(capsys):
    def starter(*args):
        raise NotImplementedError

    for check in (lesson03.check_wordpiece_word, lesson03.check_merge_step, lesson03.check_decode_tokens):
        out = printed(capsys, check, starter)
        assert out.startswith(HINT) and "not written yet" in out, out
