"""Notebook 03's exercise checks against plausible answers: each wrong one gets its own hint, each right one passes.

The wrong answers are the mistakes people make (merging the most frequent pair, joining the tokens into a string and
replacing, training across word boundaries, a vocabulary without every byte, ...); the right ones are different ways
of writing a correct answer, which must all pass.
"""

from __future__ import annotations

from collections import Counter

from answers import answer_tests, by_hint, by_name, printed
from helpers.checks import HINT, lesson03


# ---------------------------------------------------------------- exercise 1: one BPE merge step


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


def _merge_all(parts, pair, first_only=False, glue="", drop_last=False):
    out, i, done = [], 0, False
    while i < len(parts) - drop_last:
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
    parts = list(parts)
    while (nxt := list(ms_lesson(parts, ranks))) != parts:  # compare lists: ms_lesson returns a tuple
        parts = nxt
    return parts


def ms_none_when_done(parts, ranks):
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return ms_lesson(parts, ranks) if known else None


def ms_string_replace(parts, ranks):  # the issue's example: 'xa b a b' -> 'xab ab'
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    if not known:
        return list(parts)
    a, b = min(known, key=ranks.get)
    return " ".join(parts).replace(f"{a} {b}", a + b).split()


def ms_drops_last(parts, ranks):  # stops one before the end, to look at parts[i + 1]
    known = [pair for pair in zip(parts, parts[1:]) if pair in ranks]
    return _merge_all(parts, min(known, key=ranks.get), drop_last=True) if known else list(parts)


def ms_global_lowest(parts, ranks):  # the lowest rank of the whole list, in the word or not
    return _merge_all(parts, min(ranks, key=ranks.get))


def ms_key_error(parts, ranks):  # looks up the rank of every pair of neighbours
    if len(parts) < 2:
        return list(parts)
    best = min(zip(parts, parts[1:]), key=lambda pair: ranks[pair])
    return _merge_all(parts, best)


def ms_default_zero(parts, ranks):  # ranks.get(pair, 0): a pair never merged ranks first
    if len(parts) < 2:
        return list(parts)
    return _merge_all(parts, min(zip(parts, parts[1:]), key=lambda pair: ranks.get(pair, 0)))


def ms_indices(parts, ranks):  # a right one: find the positions first, then rebuild
    pairs = [(ranks[p], p) for p in zip(parts, parts[1:]) if p in ranks]
    if not pairs:
        return parts[:]
    _, best = min(pairs)
    out, skip = [], False
    for i, part in enumerate(parts):
        if skip:
            skip = False
        elif i + 1 < len(parts) and (part, parts[i + 1]) == best:
            out, skip = out + [part + parts[i + 1]], True
        else:
            out.append(part)
    return out


WRONG_MERGE_STEP = by_hint({
    "That is how BPE is TRAINED": ms_most_frequent,
    "rank 0 is the first merge learned": ms_highest_rank,
    "first known pair from the left": ms_leftmost,
    "only the first occurrence": ms_first_only,
    "joined with nothing between them": ms_with_space,
    "one step applies exactly one merge": ms_until_done,
    "returned None": ms_none_when_done,
    "you joined the tokens into one string and replaced 'a b'": ms_string_replace,
    "the last token is missing": ms_drops_last,
    "present in THIS word": ms_global_lowest,
    "never merged has no rank": ms_key_error,
    "must come LAST": ms_default_zero,
    "not written yet": lambda parts, ranks: (_ for _ in ()).throw(NotImplementedError),
    "should be a function": "not a function",
})
test_merge_step_wrong_answers_get_their_hint, test_merge_step_right_answers_pass = answer_tests(
    lesson03.check_merge_step, WRONG_MERGE_STEP, by_name([ms_lesson, ms_sorted_ranks, ms_indices]))


def test_string_replace_merge_is_caught_on_the_issues_case(capsys):
    """The case that used to pass: ['xa', 'b', 'a', 'b'] with {('a', 'b'): 0} is ['xa', 'b', 'ab'], not
    ['xab', 'ab'] (the issue's example)."""
    assert ms_string_replace(["xa", "b", "a", "b"], {("a", "b"): 0}) == ["xab", "ab"]
    out = printed(capsys, lesson03.check_merge_step, ms_string_replace)
    assert out.startswith(HINT) and "['xa', 'b', 'a', 'b']" in out and "['xab', 'ab']" in out, out


# ---------------------------------------------------------------- exercise 2: a byte-level BPE of your own


def _lesson():
    from helpers.lessons import tokenizers_by_hand

    return tokenizers_by_hand


def _byte_words(texts):
    lesson = _lesson()
    return Counter(word for text in texts for word in lesson.gpt2_pre_tokenize(text))


def _tokenizer(merges, tokens=None):
    lesson = _lesson()
    tokens = [*lesson.BYTE_TO_CHAR.values(), *(a + b for a, b in merges)] if tokens is None else tokens
    return lesson.ByteLevelBPE({token: i for i, token in enumerate(dict.fromkeys(tokens))}, merges)


def tr_reference(texts, num_merges):
    return _tokenizer(_lesson().train_bpe(_byte_words(texts), num_merges))


def tr_own_trainer(texts, num_merges):  # written from scratch; ties go to the smallest pair
    words = {tuple(word): n for word, n in _byte_words(texts).items()}
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                counts[pair] += n
        best = max(counts.values())
        pair = min(p for p, c in counts.items() if c == best)
        merges.append(pair)
        words = {tuple(_lesson().merge_pair(list(word), pair)): n for word, n in words.items()}
    return _tokenizer(merges)


def tr_merges_as_lines(texts, num_merges):  # merges.txt lines ("Ġ t") and the merged tokens first in the vocabulary
    lesson = _lesson()
    merges = lesson.train_bpe(_byte_words(texts), num_merges)
    tokens = dict.fromkeys([*(a + b for a, b in merges), *lesson.BYTE_TO_CHAR.values()])
    return lesson.ByteLevelBPE({t: i for i, t in enumerate(tokens)}, [f"{a} {b}" for a, b in merges])


def tr_merges_only(texts, num_merges):
    return _lesson().train_bpe(_byte_words(texts), num_merges)


def tr_seen_bytes_only(texts, num_merges):  # the vocabulary: only the byte characters the training texts contain
    merges = _lesson().train_bpe(_byte_words(texts), num_merges)
    seen = sorted({c for word in _byte_words(texts) for c in word})
    return _tokenizer(merges, [*seen, *(a + b for a, b in merges)])


def tr_no_merged_tokens(texts, num_merges):
    merges = _lesson().train_bpe(_byte_words(texts), num_merges)
    return _tokenizer(merges, list(_lesson().BYTE_TO_CHAR.values()))


def tr_each_word_once(texts, num_merges):
    return _tokenizer(_lesson().train_bpe(dict.fromkeys(_byte_words(texts), 1), num_merges))


def tr_split_at_spaces(texts, num_merges):
    table = _lesson().BYTE_TO_CHAR
    words = Counter("".join(table[b] for b in word.encode("utf-8")) for text in texts for word in text.split())
    return _tokenizer(_lesson().train_bpe(words, num_merges))


def tr_whole_texts(texts, num_merges):
    table = _lesson().BYTE_TO_CHAR
    return _tokenizer(_lesson().train_bpe(Counter("".join(table[b] for b in t.encode("utf-8")) for t in texts),
                                          num_merges))


def tr_characters(texts, num_merges):  # the regex's words, but as characters, not bytes
    words = Counter(word for text in texts for word in _lesson().GPT2_PATTERN.findall(text))
    return _tokenizer(_lesson().train_bpe(words, num_merges))


def tr_one_short(texts, num_merges):
    return tr_reference(texts, num_merges - 1)


def tr_recount_from_scratch(texts, num_merges):  # counts the original characters every time, never applies a merge
    words = _byte_words(texts)
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                if pair not in merges:
                    counts[pair] += n
        merges.append(max(counts, key=counts.get))
    return _tokenizer(merges)


def tr_shared_ids(texts, num_merges):
    merges = _lesson().train_bpe(_byte_words(texts), num_merges)
    return _lesson().ByteLevelBPE({t: 0 for t in [*_lesson().BYTE_TO_CHAR.values(), *(a + b for a, b in merges)]},
                                  merges)


WRONG_TRAIN = by_hint({
    "return the tokenizer itself": tr_merges_only,
    "have no token": tr_seen_bytes_only,
    "every merge adds its token to the vocabulary": tr_no_merged_tokens,
    "you counted every distinct word once": tr_each_word_once,
    "str.split": tr_split_at_spaces,
    "cross word boundaries": tr_whole_texts,
    "not byte characters": tr_characters,
    "asked for 40 merges": tr_one_short,
    "counted over all the words as merged so far": tr_recount_from_scratch,
    "two tokens share an id": tr_shared_ids,
    "not written yet": lambda texts, num_merges: (_ for _ in ()).throw(NotImplementedError),
    "did you forget `return`": lambda texts, num_merges: None,
})
test_train_wrong_answers_get_their_hint, test_train_right_answers_pass = answer_tests(
    lesson03.check_train_byte_level_bpe, WRONG_TRAIN, by_name([tr_reference, tr_own_trainer, tr_merges_as_lines]))




def test_untouched_starters_get_a_hint(capsys):
    def starter(*args):
        raise NotImplementedError

    for check in (lesson03.check_merge_step, lesson03.check_train_byte_level_bpe):
        out = printed(capsys, check, starter)
        assert out.startswith(HINT) and "not written yet" in out, out
