"""Notebook 03's exercise checks against plausible answers: each wrong one gets its own hint, each right one passes.

The wrong answers are the mistakes people make (forgetting ``##``, merging the most frequent pair, decoding without
the byte table, ...); the right ones are different ways of writing a correct answer, which must all pass.
"""

from __future__ import annotations

import pytest

from helpers.checks import HINT, PASS, lesson03


def _run(check, answer, capsys) -> str:
    result = check(answer)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"a check prints exactly one line; got {out!r}"
    assert bool(result) == out.startswith(PASS)
    return out


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


def wp_no_prefix(word, vocab):  # forgets ## when looking up (and writing) continuations
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            if word[start:end] in vocab:
                pieces.append(word[start:end])
                start = end
                break
        else:
            return ["[UNK]"]
    return pieces


def wp_prefix_not_written(word, vocab):  # looks up "##ing" but returns "ing"
    return [p[2:] if p.startswith("##") else p for p in wp_reference(word, vocab)]


def wp_shortest(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        for end in range(start + 1, len(word) + 1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(piece)
                start = end
                break
        else:
            return ["[UNK]"]
    return pieces


def wp_partial_unk(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(piece)
                start = end
                break
        else:
            return pieces + ["[UNK]"]
    return pieces


def wp_prefix_everywhere(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            if "##" + word[start:end] in vocab:
                pieces.append("##" + word[start:end])
                start = end
                break
        else:
            return ["[UNK]"]
    return pieces


@pytest.mark.parametrize("answer", [wp_reference, wp_recursive, wp_lesson], ids=lambda f: f.__name__)
def test_wordpiece_right_answers_pass(answer, capsys):
    assert PASS in _run(lesson03.check_wordpiece_word, answer, capsys)


@pytest.mark.parametrize("answer, hint", [
    (wp_no_prefix, "'##' prefix"),
    (wp_prefix_not_written, "return them without it"),
    (wp_shortest, "shortest piece"),
    (wp_partial_unk, "WHOLE word becomes"),
    (wp_prefix_everywhere, "first piece of a word has no '##'"),
    (lambda word, vocab: " ".join(wp_reference(word, vocab)), "one string"),
    (lambda word, vocab: None, "returned None"),
    (lambda word, vocab: 1 / 0, "ZeroDivisionError"),
    ("not a function", "should be a function"),
], ids=["no ##", "## not written", "shortest", "partial unk", "## first", "string", "None", "raises", "not callable"])
def test_wordpiece_wrong_answers_get_their_hint(answer, hint, capsys):
    out = _run(lesson03.check_wordpiece_word, answer, capsys)
    assert out.startswith(HINT) and hint in out, out


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


@pytest.mark.parametrize("answer", [ms_reference, ms_lesson, ms_sorted_ranks], ids=lambda f: f.__name__)
def test_merge_step_right_answers_pass(answer, capsys):
    assert PASS in _run(lesson03.check_merge_step, answer, capsys)


@pytest.mark.parametrize("answer, hint", [
    (ms_most_frequent, "That is how BPE is TRAINED"),
    (ms_highest_rank, "rank 0 is the first merge learned"),
    (ms_leftmost, "first known pair from the left"),
    (ms_first_only, "only the first occurrence"),
    (ms_with_space, "joined with nothing between them"),
    (ms_until_done, "one step applies exactly one merge"),
    (ms_none_when_done, "returned None"),
], ids=["most frequent", "highest rank", "leftmost", "first only", "space", "all merges", "None"])
def test_merge_step_wrong_answers_get_their_hint(answer, hint, capsys):
    out = _run(lesson03.check_merge_step, answer, capsys)
    assert out.startswith(HINT) and hint in out, out


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


@pytest.mark.parametrize("answer", [dt_reference, dt_bytearray_replace, dt_inverted_here], ids=lambda f: f.__name__)
def test_decode_right_answers_pass(answer, capsys):
    assert PASS in _run(lesson03.check_decode_tokens, answer, capsys)


@pytest.mark.parametrize("answer, hint", [
    (dt_without_table, "decoding without the byte table"),
    (lambda tokens: "".join(tokens), "the 'Ġ' are still there"),
    (dt_per_token, "decoded each token on its own"),
    (dt_per_token_strict, "decoded each token on its own"),
    (dt_latin1, "not latin-1"),
    (dt_wrong_direction, "BYTE_TO_CHAR goes the other way"),
    (dt_bytes, "returned bytes"),
], ids=["no table", "kept G", "per token", "per token strict", "latin-1", "wrong table", "bytes"])
def test_decode_wrong_answers_get_their_hint(answer, hint, capsys):
    out = _run(lesson03.check_decode_tokens, answer, capsys)
    assert out.startswith(HINT) and hint in out, out


def test_untouched_starters_get_a_hint(capsys):
    def starter(*args):
        raise NotImplementedError

    for check in (lesson03.check_wordpiece_word, lesson03.check_merge_step, lesson03.check_decode_tokens):
        out = _run(check, starter, capsys)
        assert out.startswith(HINT) and "not written yet" in out, out
