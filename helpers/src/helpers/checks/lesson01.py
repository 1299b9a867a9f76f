"""Checks for notebook 01 (pipelines). Each computes its expected answer from the kit or the installed library."""

from __future__ import annotations

from typing import Any

from .core import Hint, exercise, expect, expect_type, kit_pipeline, kit_tokenizer


def _classifier() -> Any:
    return kit_pipeline("sentiment-analysis", "sentiment")


def _generator_tokenizer() -> Any:
    return kit_tokenizer("generator")


def _as_label_list(all_scores: Any) -> list[dict[str, Any]]:
    """The learner's scores as a list of {'label', 'score'} dicts, or a specific hint."""
    if all_scores is None:
        raise Hint("all_scores is still None: call the classifier on your sentence with top_k=None.")
    if isinstance(all_scores, dict):
        raise Hint("all_scores is a single dict, so you got only the top label: pass top_k=None to get every label.")
    if not isinstance(all_scores, (list, tuple)) or not all_scores:
        raise Hint(f"all_scores should be the list the classifier returns; got {type(all_scores).__name__}.")
    if isinstance(all_scores[0], (list, tuple)):
        if len(all_scores) != 1:
            raise Hint("all_scores holds results for several sentences: classify only NEW_SENTENCE.")
        all_scores = all_scores[0]  # the learner passed [NEW_SENTENCE]: one result per sentence
    if not all(isinstance(d, dict) and {"label", "score"} <= set(d) for d in all_scores):
        raise Hint("each item of all_scores should be a dict with 'label' and 'score', as the classifier returns.")
    return list(all_scores)


@exercise
def check_all_labels(sentence: Any, all_scores: Any, top_label: Any) -> str:
    expect_type(sentence, str, "NEW_SENTENCE")
    mine = _as_label_list(all_scores)
    truth = _classifier()(sentence, top_k=None)
    labels = sorted(d["label"] for d in truth)
    if len(mine) == 1 and len(truth) > 1:
        raise Hint(f"you have 1 label out of {len(truth)}: pass top_k=None to get them all.")
    if sorted(d["label"] for d in mine) != labels:
        raise Hint(f"the labels should be {labels}; got {sorted(d['label'] for d in mine)}. "
                   "Use the sentiment classifier on NEW_SENTENCE.")
    want = {d["label"]: d["score"] for d in truth}
    worst = max(abs(float(d["score"]) - want[d["label"]]) for d in mine)
    if worst > 1e-4:
        raise Hint("the scores differ from the classifier's on NEW_SENTENCE: did you classify another sentence?")
    best = max(truth, key=lambda d: d["score"])["label"]
    if isinstance(top_label, dict):
        raise Hint("top_label is a dict: take its 'label' (a string).")
    expect_type(top_label, str, "top_label")
    expect(top_label == best, f"{top_label!r} is not the label with the highest score; look at the 'score' values "
                              "(the list comes sorted by score, highest first).")
    return f"every label with its score; the top one is {best} ({want[best]:.4f}), and the scores sum to 1."


def _default_for(task: Any) -> tuple[str, str]:
    """(model, revision) that pipeline(task) would load, read from the installed library; a hint for a bad task."""
    from transformers.pipelines import check_task, get_default_model_and_revision

    try:
        _, targeted, options = check_task(expect_type(task, str, "TASK"))
        return get_default_model_and_revision(targeted, options)
    except Hint:
        raise
    except Exception as err:  # a removed or unknown task: no default to find
        raise Hint(f"the library has no default for {task!r} ({type(err).__name__}); pick a task that "
                   "transformers 5 still supports, such as 'text-generation'.") from None


@exercise
def check_default_model(task: Any, answer: Any) -> str:
    model, revision = _default_for(task)
    if answer is None:
        raise Hint("default is still None: read it from the library with check_task and "
                   "get_default_model_and_revision.")
    if isinstance(answer, str):
        if answer == model:
            raise Hint("that is the model; pin the revision too: give (model, revision) as a tuple.")
        raise Hint("give (model, revision) as a tuple of two strings, read from the library.")
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Hint(f"default should be a (model, revision) pair; got {type(answer).__name__}.")
    if tuple(answer) == (revision, model):
        raise Hint("model and revision are swapped: (model, revision).")
    if answer[0] != model:
        raise Hint(f"{answer[0]!r} is not the default model transformers {_version()} names for {task!r}.")
    if answer[1] != revision:
        raise Hint(f"the model is right but {answer[1]!r} is not the pinned revision.")
    return f"pipeline({task!r}) with no model would load {model} at revision {revision}."


def _version() -> str:
    import transformers

    return transformers.__version__


@exercise
def check_chat_prompt(question: Any, prompt: Any) -> str:
    expect_type(question, str, "EXERCISE_QUESTION")
    tokenizer = _generator_tokenizer()
    messages = [{"role": "user", "content": question}]
    want = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    without = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    if prompt is None:
        raise Hint("prompt is still None: build it with tokenizer.apply_chat_template(...).")
    if not isinstance(prompt, str):
        raise Hint(f"prompt is a {type(prompt).__name__}, not text: pass tokenize=False to apply_chat_template.")
    if prompt == want:
        n = len(tokenizer(want, add_special_tokens=False)["input_ids"])
        return (f"that is the exact text the generator sees ({n} tokens), ending with the cue for the assistant "
                "to answer.")
    if prompt == without:
        raise Hint("close: add add_generation_prompt=True so the prompt ends by opening the assistant's turn.")
    if question not in prompt:
        raise Hint("your prompt does not contain EXERCISE_QUESTION as the user's message.")
    if prompt.strip() == question.strip():
        raise Hint("that is the bare question: wrap it in a chat with apply_chat_template.")
    raise Hint("not the template's output: use messages = [{'role': 'user', 'content': EXERCISE_QUESTION}] "
               "and apply_chat_template(messages, tokenize=False, add_generation_prompt=True).")
