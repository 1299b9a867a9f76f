"""The lessons' knobs (their papermill ``parameters`` cells), checked before any model sees them.

A learner edits a knob, or an instructor passes one with ``make course PARAMS=...``; an empty prompt or a number
where text belongs would otherwise surface many cells later as a long traceback from inside transformers. Each
lesson calls :func:`check_knobs` right after its parameters cell; a bad value raises :class:`CourseError`, which a
notebook shows as one sentence saying what to change.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

from .errors import CourseError

WHERE = "in the parameters cell near the top of the notebook"

# knob name -> kind; every knob of every lesson is listed (tests/test_knobs.py checks the notebooks against this)
KINDS: dict[str, str] = {
    **dict.fromkeys(["SENTENCES", "RAW_INPUTS", "EMBED_SENTENCES", "SHAPE_SENTENCES", "PROMPTS"], "texts"),
    **dict.fromkeys(["NEW_SENTENCE", "TASK", "PROMPT", "CHAT_QUESTION", "QUESTION", "CONTEXT", "EXERCISE_QUESTION",
                     "TEXT", "ATTENTION_SENTENCE", "FOCUS_TOKEN", "GEN_PROMPT", "SYSTEM", "LEAK_TEXT", "REVIEW"],
                    "text"),
    "FRENCH": "translations",
    **dict.fromkeys(["MAX_NEW_TOKENS", "MAX_LENGTH", "MAX_ANSWER_LEN", "SEED_LOOP_STEPS", "NEW_TOKENS",
                     "TIMING_TOKENS", "EVAL_SNIPPETS"], "count"),
    **dict.fromkeys(["SEED", "LAYER", "HEAD", "TOP_K"], "index"),
    "BIG_LOGITS": "numbers",
    "TEMPERATURES": "temperatures",
    "TEMPERATURE": "temperature",
    "TOP_P": "probability",
}

RULES = {  # kind -> what a good value is, said to the learner
    "text": "a non-empty string",
    "texts": "a non-empty list of non-empty strings",
    "translations": "a non-empty dict from French strings to English strings",
    "count": "a whole number of at least 1",
    "index": "a whole number of at least 0",
    "numbers": "a non-empty list of numbers",
    "temperature": "a number above 0",
    "temperatures": "a non-empty list of numbers above 0",
    "probability": "a number above 0 and at most 1",
}


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _good(kind: str, value: Any) -> bool:
    if kind == "text":
        return _is_text(value)
    if kind == "texts":
        return isinstance(value, (list, tuple)) and len(value) > 0 and all(_is_text(v) for v in value)
    if kind == "translations":
        return isinstance(value, dict) and len(value) > 0 and all(_is_text(k) and _is_text(v) for k, v in value.items())
    if kind == "count":
        return _is_int(value, 1)
    if kind == "index":
        return _is_int(value, 0)
    if kind == "numbers":
        return isinstance(value, (list, tuple)) and len(value) > 0 and all(_is_number(v) for v in value)
    if kind == "temperature":
        return _is_number(value) and value > 0
    if kind == "temperatures":
        return isinstance(value, (list, tuple)) and len(value) > 0 and all(_is_number(v) and v > 0 for v in value)
    if kind == "probability":
        return _is_number(value) and 0 < value <= 1
    raise ValueError(f"unknown kind of knob: {kind}")


def check_knobs(**knobs: Any) -> None:
    """Raise a one-sentence CourseError for the first knob whose value is not of its kind (see :data:`KINDS`)."""
    for name, value in knobs.items():
        kind = KINDS.get(name)
        if kind is None:
            raise ValueError(f"{name} is not a known knob: add it to helpers.knobs.KINDS")  # a course bug, not yours
        if not _good(kind, value):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise CourseError(f"{name} should be {RULES[kind]}, not {shown}: change it {WHERE} and run the "
                              f"notebook again from there.")


def check_choice(name: str, value: Any, choices: Sequence[Any], what: str) -> None:
    """One sentence unless ``value`` is one of ``choices``: knobs that only make sense for this model or this text
    (a layer index, a token of a sentence) are checked where the model or the text is at hand."""
    if isinstance(value, bool) or value not in choices:
        if isinstance(choices, range):
            shown = f"{choices.start} to {choices.stop - 1}"
        else:
            shown = ", ".join(repr(c) for c in list(choices)[:12]) + (", ..." if len(choices) > 12 else "")
        raise CourseError(f"{name} should be {what} ({shown}), not {value!r}: change it {WHERE} and run the "
                          f"notebook again from there.")
