"""Checks for notebook 00 (setup and tour)."""

from __future__ import annotations

from typing import Any

from .core import Hint, exercise, expect_type


@exercise
def check_vocab_size(answer: Any) -> str:
    from transformers import AutoTokenizer

    from ..models import checkpoint

    expect_type(answer, int, "gpt2_vocab_size")
    truth = len(AutoTokenizer.from_pretrained(checkpoint("gpt2-tokenizer")))
    if answer == truth - 1:
        raise Hint("off by one: count the special token <|endoftext|> too (len(tokenizer) does).")
    if answer != truth:
        raise Hint(f"{answer} is not it: use len(tokenizer) on the GPT-2 tokenizer, "
                   "not the vocabulary of another model.")
    return f"GPT-2 knows {truth:,} tokens: 50,000 merges on top of 256 bytes, plus <|endoftext|>."
