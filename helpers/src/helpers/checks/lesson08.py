"""Checks for notebook 08 (text generation with generate())."""

from __future__ import annotations

import functools
import warnings
from typing import Any

from .core import Hint, as_int, as_int_rows, exercise, expect, expect_type, kit_model, kit_tokenizer

SAMPLING_ONLY = ("temperature", "top_k", "top_p", "min_p", "typical_p")
INPUTS = ("input_ids", "attention_mask", "inputs")


def _generator() -> tuple[Any, Any]:
    return kit_tokenizer("generator"), kit_model("generator", "AutoModelForCausalLM")


def _chat_inputs(question: str) -> Any:
    tokenizer, _ = _generator()
    return tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                         return_dict=True, return_tensors="pt")


@functools.lru_cache(maxsize=4)
def _greedy_references(question: str, n_new: int) -> tuple[Any, Any]:
    """The two right answers' outputs: EOS forbidden until the end, or EOS not a stop at all."""
    _, model = _generator()
    inputs = _chat_inputs(question)
    greedy = dict(do_sample=False, max_new_tokens=n_new)
    return (model.generate(**inputs, **greedy, min_new_tokens=n_new),
            model.generate(**inputs, **greedy, eos_token_id=None))


@exercise
def check_greedy_kwargs(kwargs: Any, question: str, n_new: int) -> str:
    """``model.generate(**chat_inputs, **kwargs)`` must decode greedily and return exactly ``n_new`` new tokens."""
    import torch

    expect_type(kwargs, dict, "greedy_kwargs")
    given = [k for k in kwargs if k in INPUTS]
    expect(not given, f"leave out {given}: the check passes the chat inputs itself; greedy_kwargs holds only the "
                      "generation settings.")
    top_1 = kwargs.get("do_sample", False) is True and kwargs.get("top_k") == 1  # sampling from one token is greedy
    expect(kwargs.get("do_sample", False) is False or top_1,
           "do_sample=True samples; greedy decoding takes the most likely token every step (do_sample=False).")
    ignored = [k for k in SAMPLING_ONLY if k in kwargs]
    expect(not ignored or top_1, f"{ignored} only matter when sampling; greedy decoding ignores them (transformers "
                                 "warns that they are not valid), so leave them out.")
    expect(kwargs.get("num_return_sequences", 1) == 1,
           "greedy decoding gives one answer per prompt: num_return_sequences must stay 1.")
    expect("max_length" not in kwargs, "max_length counts the prompt's tokens too; ask for new tokens with "
                                       "max_new_tokens.")
    expect("max_new_tokens" in kwargs, "say how many new tokens you want: max_new_tokens.")
    expect(kwargs["max_new_tokens"] == n_new, f"max_new_tokens is {kwargs['max_new_tokens']!r}; the exercise asks for "
                                              f"{n_new}.")
    tokenizer, model = _generator()
    inputs = _chat_inputs(question)
    start = inputs["input_ids"].shape[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = model.generate(**inputs, **kwargs)
        except Exception as exc:
            raise Hint(f"generate() refused these settings: {type(exc).__name__}: {str(exc)[:200]}") from None
    if caught:
        raise Hint(f"generate() warned: {str(caught[0].message)[:200]}")
    new = out.shape[1] - start
    if new < n_new:
        raise Hint(f"the model stopped after {new} new tokens: it produced its end-of-sequence token "
                   f"({tokenizer.eos_token!r}). A minimum length (min_new_tokens) forbids it until then; or "
                   "eos_token_id=None lets generation run past it.")
    expect(new == n_new, f"you got {new} new tokens; the exercise asks for exactly {n_new}.")
    held_off, run_past = _greedy_references(question, n_new)
    if torch.equal(out, run_past) and not torch.equal(out, held_off):
        answer = tokenizer.decode(out[0, start:])
        return f"exactly {n_new} greedy new tokens, running past the end-of-sequence token: {answer!r}"
    expect(torch.equal(out, held_off), "you got the right number of tokens but not the greedy ones: with "
                                       "do_sample=False every step takes the most likely token.")
    answer = tokenizer.decode(out[0, start:])
    how = " (sampling from top_k=1, a single token, is greedy too)" if top_1 else ""
    return f"exactly {n_new} greedy new tokens, with the end-of-sequence token held off{how}: {answer!r}"


def _kept(prompt: str, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> int:
    import torch

    from ..lessons.generate import library_filters  # the lesson's chain of transformers' processors

    tokenizer, model = _generator()
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[:, -1, :]
    return int(torch.isfinite(library_filters(temperature, top_k, top_p)(inputs["input_ids"], logits)).sum())


@exercise
def check_top_p_count(answer: Any, prompt: str, top_p: float = 0.9) -> str:
    """How many tokens top-p keeps for the next token after ``prompt``, at temperature 1 and without top-k."""
    n = as_int(answer, "n_kept", whole_floats=True)
    truth = _kept(prompt, top_p=top_p)
    if n == truth:
        return (f"top-p={top_p:g} keeps {truth} tokens after {prompt!r}: the fewest most-likely tokens whose "
                f"probabilities add up to at least {top_p:g}.")
    if n == truth - 1:
        raise Hint(f"one short: the token that takes the running total past {top_p:g} is kept too (transformers "
                   "removes only the tail whose total is at most 1 - top_p).")
    if n == _kept(prompt, temperature=0.7, top_p=top_p):
        raise Hint("that is the count at temperature 0.7; this exercise uses temperature 1 (the raw logits).")
    if n == min(50, truth) or n == _kept(prompt, top_k=50, top_p=top_p):
        raise Hint("top-k is not part of this exercise: use the raw logits and top-p alone.")
    raise Hint(f"{n} is not it. Sort the probabilities from largest to smallest, take the cumulative sum, and count "
               f"the tokens up to and including the first one where it reaches {top_p:g}; or count the finite logits "
               "left by filter_logits(logits, 1.0, 0, top_p).")


# ---------------------------------------------------------------- exercise 3: two chat questions in one batch


def _conversations(questions: tuple[str, ...]) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": q}] for q in questions]


@functools.lru_cache(maxsize=8)
def _alone(question: str, n_new: int) -> Any:
    """The greedy new tokens of one chat question generated on its own (no padding at all)."""
    _, model = _generator()
    inputs = _chat_inputs(question)
    return model.generate(**inputs, do_sample=False, max_new_tokens=n_new)[0, inputs["input_ids"].shape[1]:]


@functools.lru_cache(maxsize=4)
def _batch_output(questions: tuple[str, ...], n_new: int, mask: bool = True) -> Any:
    """generate's greedy output for the right batch (chat template, generation prompt, left padding), with its
    attention mask or, with ``mask=False``, from the input_ids alone."""
    tokenizer, model = _generator()
    texts = tokenizer.apply_chat_template(_conversations(questions), add_generation_prompt=True, tokenize=False)
    batch = tokenizer(texts, padding=True, padding_side="left", add_special_tokens=False, return_tensors="pt")
    greedy = dict(do_sample=False, max_new_tokens=n_new, pad_token_id=tokenizer.pad_token_id)
    return model.generate(**batch, **greedy) if mask else model.generate(batch["input_ids"], **greedy)


def _rows(batch: Any, questions: tuple[str, ...]) -> tuple[Any, Any]:
    """The batch's input_ids and attention_mask as tensors, after the hints for a batch of the wrong kind."""
    import torch

    if batch is None:
        raise Hint("batch is still None: fill in the starter cell and run it.")
    if isinstance(batch, str) or (isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], str)):
        raise Hint("batch holds text: apply_chat_template(..., tokenize=False) writes strings; tokenize them "
                   "(tokenizer(texts, padding=True, ...)) or let apply_chat_template tokenize (return_dict=True).")
    if not hasattr(batch, "keys"):
        raise Hint("batch is only the token ids, with no attention mask: generate cannot tell the pads from the text. "
                   "Keep the whole encoding (return_dict=True gives input_ids AND attention_mask).")
    expect("input_ids" in batch, "batch has no input_ids: it should be what the tokenizer returns.")
    expect("attention_mask" in batch, "batch has no attention_mask: generate cannot tell the pads from the text. "
                                      "Keep the whole encoding (return_dict=True).")
    ids = torch.as_tensor(batch["input_ids"])
    mask = torch.as_tensor(batch["attention_mask"])
    if ids.ndim == 1 or ids.shape[0] == 1:
        raise Hint("only one question in the batch: pass the list of both conversations, one row per question.")
    expect(ids.shape[0] == len(questions), f"batch has {ids.shape[0]} rows; one per question makes "
                                           f"{len(questions)}.")
    expect(mask.shape == ids.shape, "the attention_mask does not have the shape of input_ids.")
    return ids, mask


def _check_row(content: list[int], question: str, row: int) -> None:
    """One row's unpadded ids must be the chat template of its question, with the generation prompt."""
    tokenizer, _ = _generator()
    conversation = [{"role": "user", "content": question}]

    def template(prompt: bool) -> list[int]:
        return tokenizer.apply_chat_template(conversation, add_generation_prompt=prompt, return_dict=True)["input_ids"]

    if content == template(True):
        return
    if content == template(False):
        raise Hint(f"row {row} ends with the question's <|im_end|>: without add_generation_prompt=True the "
                   "assistant's turn is not opened, and the model writes '<|im_start|>assistant' itself first.")
    if content in (tokenizer(question)["input_ids"], tokenizer(question, add_special_tokens=False)["input_ids"]):
        raise Hint(f"row {row} is the bare question: a plain tokenizer call skips the chat template. Use "
                   "apply_chat_template on the conversations (with add_generation_prompt=True).")
    raise Hint(f"row {row} (where the attention mask is 1) is not the chat template of question {row} with the "
               "generation prompt: apply_chat_template([[{'role': 'user', 'content': q}] for q in questions], "
               "add_generation_prompt=True, ...), the questions in their order.")


@exercise
def check_chat_batch(batch: Any, answers: Any, questions: Any, n_new: int) -> str:
    """``batch``: both chat questions, with the generation prompt, left-padded, with their attention mask; ``answers``:
    ``model.generate(**batch, do_sample=False, max_new_tokens=n_new)``. Each row's new tokens must equal its question
    generated alone."""
    import torch

    questions = tuple(questions)
    tokenizer, _ = _generator()
    ids, mask = _rows(batch, questions)
    for row, (q, r, m) in enumerate(zip(questions, ids.tolist(), mask.tolist())):
        _check_row([t for t, keep in zip(r, m) if keep], q, row)
        if 0 in m and m[-1] == 0:
            raise Hint(f"row {row} is padded on the RIGHT (its attention mask ends with 0): generation would start "
                       "after the pads. Set tokenizer.padding_side = 'left' before the call (apply_chat_template "
                       "ignores a padding_side= argument).")
        expect(m == sorted(m), f"row {row}'s attention mask has 0s in the middle: only the left pads get 0.")
    if answers is None:
        raise Hint("answers is still None: generate from the batch, model.generate(**batch, do_sample=False, "
                   f"max_new_tokens={n_new}).")
    out = torch.as_tensor(as_int_rows(getattr(answers, "sequences", answers), "answers", "token ids"))
    start = ids.shape[1]
    expect(out.shape[0] == ids.shape[0] and out.shape[1] > start and torch.equal(out[:, :start], ids),
           "answers should be generate's output for this batch: each row starts with the batch's input_ids "
           "(keep the whole output, prompt included).")
    reference = _batch_output(questions, n_new)
    if out.shape[1] != reference.shape[1]:
        raise Hint(f"answers has {out.shape[1] - start} new tokens; the exercise asks for max_new_tokens={n_new}.")
    new = out[:, start:]
    if not torch.equal(new, reference[:, -new.shape[1]:]):
        if torch.equal(new, _batch_output(questions, n_new, mask=False)[:, -new.shape[1]:]):
            raise Hint("the batch is right, but generate did not get its attention mask (only input_ids), so the "
                       "model read the pads: pass both, model.generate(**batch, ...).")
        raise Hint("these are not the greedy tokens: generate with do_sample=False (each step takes the most likely "
                   "token), from **batch.")
    texts = []
    for row, q in zip(new, questions):
        alone = _alone(q, n_new)
        expect(torch.equal(row[:len(alone)], alone), "a row differs from its question generated alone.")
        texts.append(repr(tokenizer.decode(alone, skip_special_tokens=True)))
    return (f"{len(questions)} left-padded chat prompts; each row's new tokens equal its question generated alone: "
            + " | ".join(texts))
