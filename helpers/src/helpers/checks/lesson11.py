"""Checks for notebook 11 (putting it together): each step of the rebuilt path against the library's own call.

Sentiment steps (tokens, body, head, softmax and label) are checked against the kit's sentiment model and the
``sentiment-analysis`` pipeline, loaded here. Generation steps (the filters, one sampling step, the sampling loop) are
checked against transformers' logits processors and ``generate``, run on the generator the notebook passes in (so the
kernel does not hold two copies of it).
"""

from __future__ import annotations

import functools
from typing import Any

from .core import Hint, as_tensor, call, exercise, expect_neg_inf, expect_shape, kit_model, kit_tokenizer

# (seed, temperature, top_k, top_p, rows, prompt, max new tokens, pad): the check runs your loop and generate on each.
# "yours" is the notebook's own chat prompt. "france" is notebook 09's (system "Be brief.", "What is the capital of
# France?"), on which these seeds were chosen (tests/test_answers_11.py keeps them honest):
# - the first batch case: row 0 ends early and the others do not, with a pad id (0, <|endoftext|>) that is not EOS;
# - the hot top-k case is one where the seed's zero-fill top-k changes the sampled tokens;
# - top-p at T = 0.7 is where the wrong order shows;
# - the last case: every row ends, each at its own step (8, 11 and 17 new tokens), well before max_new_tokens, so a
#   loop that pads finished rows but never stops early makes 7 tokens too many.
LOOP_CASES = (
    (0, 0.7, 50, 0.9, 1, "yours", 10, None),
    (1, 0.7, 50, 0.9, 3, "france", 12, 0),
    (4, 1.5, 50, 1.0, 2, "france", 12, None),
    (1, 1.0, 0, 0.8, 2, "yours", 10, None),
    (0, 1.0, 50, 0.9, 3, "france", 24, 0),
)
FRANCE = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is the capital of France?"}]


def _sentiment() -> tuple[Any, Any]:
    return kit_tokenizer("sentiment"), kit_model("sentiment", "AutoModelForSequenceClassification")


@functools.lru_cache(maxsize=8)
def _reference(text: str) -> dict[str, Any]:
    """Every intermediate of the sentiment path for ``text``, computed with the library."""
    import torch

    tokenizer, model = _sentiment()
    inputs = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        body = model.bert(**inputs)
        logits = model(**inputs).logits
    return {"inputs": inputs, "hidden": body.last_hidden_state, "pooled": body.pooler_output, "logits": logits}


@functools.lru_cache(maxsize=8)
def _pipeline_answer(text: str) -> dict[str, Any]:
    from transformers import pipeline

    from ..models import checkpoint

    return pipeline("sentiment-analysis", model=checkpoint("sentiment"))(text)[0]


def _text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise Hint("pass the review itself (the REVIEW string of the parameters cell) as the last argument.")
    return text


@exercise
def check_inputs(inputs: Any, text: Any) -> str:
    """Step 1: ``inputs = tokenizer(text, return_tensors="pt")`` with the sentiment model's tokenizer."""
    import torch

    text = _text(text)
    ref = _reference(text)["inputs"]
    tokenizer, _ = _sentiment()
    if inputs is None:
        raise Hint("inputs is still None: call the sentiment tokenizer on REVIEW, with return_tensors='pt'.")
    if isinstance(inputs, torch.Tensor):
        raise Hint("you have a tensor; keep the tokenizer's whole output (input_ids AND attention_mask, "
                   "token_type_ids): the body takes all of them as `model.bert(**inputs)`.")
    if not hasattr(inputs, "keys") or "input_ids" not in inputs:
        raise Hint(f"inputs should be what the tokenizer returns (a dict-like BatchEncoding with input_ids); "
                   f"got {type(inputs).__name__}.")
    ids = inputs["input_ids"]
    if not isinstance(ids, torch.Tensor):
        raise Hint("input_ids is a Python list: ask the tokenizer for PyTorch tensors with return_tensors='pt'.")
    if ids.ndim == 1:
        raise Hint(f"input_ids has shape {tuple(ids.shape)}: the model wants a batch dimension, (1, tokens); "
                   "return_tensors='pt' on a single string gives it.")
    want = ref["input_ids"]
    if ids.shape == want.shape and torch.equal(ids, want):
        if "attention_mask" not in inputs:
            raise Hint("the ids are right, but keep the attention_mask too: call the tokenizer, not just its encode.")
        tokens = tokenizer.convert_ids_to_tokens(want[0])
        return f"{len(tokens)} tokens, the same ids the pipeline feeds its model: {' '.join(tokens)}"
    if ids.shape[-1] == want.shape[-1] - 2 and torch.equal(ids[0], want[0, 1:-1]):
        raise Hint("the [CLS] and [SEP] special tokens are missing: leave add_special_tokens at its default (True).")
    if ids.shape[0] != 1:
        raise Hint(f"input_ids has {ids.shape[0]} rows: tokenize the one review (a string), not a list of pieces.")
    raise Hint("these are not the ids of the sentiment model's tokenizer for REVIEW: load it with "
               "AutoTokenizer.from_pretrained(checkpoint('sentiment')) and call it on REVIEW itself.")


@exercise
def check_hidden_states(hidden_states: Any, text: Any) -> str:
    """Step 2: the body's last hidden state, ``model.bert(**inputs).last_hidden_state``."""
    import torch

    ref = _reference(_text(text))
    if hidden_states is not None and hasattr(hidden_states, "last_hidden_state"):
        raise Hint("that is the body's whole output: take its .last_hidden_state (one vector per token).")
    t = as_tensor(hidden_states, "hidden_states")
    want = ref["hidden"]
    if tuple(t.shape) == tuple(ref["pooled"].shape) and torch.allclose(t, ref["pooled"], atol=1e-4):
        raise Hint("that is pooler_output, one vector for the whole review; step 2 wants last_hidden_state, "
                   "one vector per token (step 3 uses the pooled one).")
    if tuple(t.shape) == tuple(ref["logits"].shape):
        raise Hint("that has the shape of the head's logits (1, 2): step 2 stops at the body, model.bert.")
    expect_shape(t, want.shape, "hidden_states (batch, tokens, hidden size)")
    diff = (t.float() - want).abs().max().item()
    if diff > 1e-4:
        raise Hint(f"hidden_states is off by up to {diff:.3g}: run model.bert (the fine-tuned sentiment body, in eval "
                   "mode: no model.train()) on the inputs of step 1.")
    return (f"hidden states of shape {tuple(want.shape)}: {want.shape[1]} tokens, each a vector of "
            f"{want.shape[2]} numbers.")


@exercise
def check_logits(logits: Any, text: Any) -> str:
    """Step 3: the head on the pooled vector, ``model.classifier(model.dropout(pooler_output))``."""
    import torch

    ref = _reference(_text(text))
    _, model = _sentiment()
    t = as_tensor(logits, "logits").float()
    want = ref["logits"]
    if t.ndim == 3:
        raise Hint(f"logits has shape {tuple(t.shape)}: the head was applied to every token. BERT's classification "
                   "head reads one vector per review: body_output.pooler_output.")
    expect_shape(t, want.shape, "logits (batch, labels)")
    if torch.allclose(t, want, atol=1e-4):
        return f"logits {[round(v, 4) for v in want[0].tolist()]}, equal to model(**inputs).logits."
    with torch.no_grad():
        from_cls = model.classifier(ref["hidden"][:, 0])
    if torch.allclose(t, from_cls, atol=1e-4):
        raise Hint("you fed the raw [CLS] hidden state to the classifier; BERT's head reads pooler_output "
                   "(the [CLS] vector through the pooler's dense layer and tanh).")
    if torch.allclose(t, torch.softmax(want, -1), atol=1e-4):
        raise Hint("those are probabilities already: step 3 stops at the logits (softmax is step 4).")
    raise Hint("the logits differ from model(**inputs).logits: apply model.dropout (a no-op in eval mode) and "
               "model.classifier to body_output.pooler_output.")


@exercise
def check_prediction(label: Any, score: Any, text: Any) -> str:
    """Step 4: softmax, argmax and id2label give the pipeline's label and score."""
    import torch

    text = _text(text)
    answer = _pipeline_answer(text)
    _, model = _sentiment()
    if label is None or score is None:
        raise Hint("label or score is still None: softmax the logits, take the argmax, map it with "
                   "model.config.id2label, and take its probability as the score.")
    if isinstance(label, torch.Tensor) or isinstance(label, int):
        raise Hint(f"label is an index ({label!r}); turn it into a name with model.config.id2label[int(index)].")
    if not isinstance(label, str):
        raise Hint(f"label should be a string such as {list(model.config.id2label.values())}; "
                   f"got {type(label).__name__}.")
    if isinstance(score, torch.Tensor) or (hasattr(score, "dtype") and hasattr(score, "size")):  # torch or numpy
        count = score.numel() if isinstance(score, torch.Tensor) else score.size
        if count != 1:
            raise Hint(f"score has {count} numbers: keep the probability of the predicted label only.")
        score = score.item()
    if not isinstance(score, (int, float)):
        raise Hint(f"score should be a number; got {type(score).__name__}.")
    if abs(score - 1.0) < 1e-6:
        raise Hint("score is exactly 1: softmax over the labels (dim=-1), not over the batch (dim=0).")
    if not 0.0 <= score <= 1.0:
        raise Hint(f"score {score:.4f} is not a probability: apply torch.softmax to the logits first.")
    if label != answer["label"]:
        raise Hint(f"the pipeline says {answer['label']}, you say {label}: take the argmax of the probabilities and "
                   "look it up in model.config.id2label.")
    if abs(score - answer["score"]) > 1e-4:
        raise Hint(f"right label, but the pipeline's score is the probability of that label; yours is off by "
                   f"{abs(score - answer['score']):.3g}.")
    return f"the pipeline says {answer['label']} with score {answer['score']:.4f}, and so do your parts."


# Step 4b's reviews besides the learner's REVIEW: each of another length, so a batch of them is padded.
BATCH_REVIEWS = ("Loved it.", "A slow start, but the last hour is gripping, funny and beautifully shot; I would "
                 "happily watch it again.")


def _batch_variants(texts: list[str]) -> dict[str, Any]:
    """The (labels, scores) a padded batch gives with the usual slips, each named by its hint."""
    import torch

    tokenizer, model = _sentiment()
    right = tokenizer(texts, padding=True, return_tensors="pt")
    tokenizer.padding_side = "left"
    try:
        left = tokenizer(texts, padding=True, return_tensors="pt")
    finally:
        tokenizer.padding_side = "right"
    with torch.no_grad():
        outputs = {
            "the padded reviews' scores come out as if [PAD] were words: the model was not told which tokens are "
            "padding. Pass the attention_mask with the ids (model(**inputs)).":
                model(input_ids=right["input_ids"], token_type_ids=right["token_type_ids"]).logits.softmax(-1),
            "you padded on the LEFT: BERT's position embeddings count from the first token, so every padded review's "
            "tokens sit at other positions than in the pipeline. Pad on the right (this tokenizer's default).":
                model(**left).logits.softmax(-1),
            "your scores do not sum to 1 over the labels of a review: softmax over the labels (dim=-1), not over "
            "the batch (dim=0).": model(**right).logits.softmax(0),
            "you fed the raw [CLS] hidden state to the classifier; BERT's head reads pooler_output (step 3).":
                model.classifier(model.bert(**right).last_hidden_state[:, 0]).softmax(-1),
        }
    return {hint: (probs.argmax(-1).tolist(), probs.max(-1).values.tolist()) for hint, probs in outputs.items()}


@exercise
def check_batch(classify_batch: Any, text: Any) -> str:
    """Step 4b: ``classify_batch(model, tokenizer, texts)`` gives ``classifier(texts)`` from ONE padded batch."""
    import torch

    from .core import kit_pipeline

    texts = [_text(text), *BATCH_REVIEWS]
    tokenizer, model = _sentiment()
    runs = []
    hook = model.bert.register_forward_pre_hook(lambda module, args: runs.append(1))
    side = tokenizer.padding_side
    try:
        result = call(classify_batch, model, tokenizer, list(texts), what="classify_batch")
    finally:
        hook.remove()
        tokenizer.padding_side = side  # the kit's tokenizer is shared by every check
    if isinstance(result, dict):
        raise Hint("classify_batch returned one dict: return a list with one {'label': ..., 'score': ...} dict per "
                   "review, in order, as classifier(texts) does.")
    if not isinstance(result, (list, tuple)) or len(result) != len(texts):
        size = len(result) if isinstance(result, (list, tuple)) else type(result).__name__
        raise Hint(f"for {len(texts)} reviews classify_batch should return a list of {len(texts)} dicts; got {size}.")
    labels, scores = [], []
    for i, item in enumerate(result):
        if not isinstance(item, dict) or not {"label", "score"} <= set(item):
            raise Hint(f"item {i} is {item!r:.60}: each should be a dict {{'label': ..., 'score': ...}}.")
        label, score = item["label"], item["score"]
        if isinstance(label, torch.Tensor) or isinstance(label, int):
            raise Hint(f"label {label!r} is an index; turn it into a name with model.config.id2label[int(index)].")
        if isinstance(score, torch.Tensor):
            if score.numel() != 1:
                raise Hint(f"review {i}'s score has {score.numel()} numbers: keep the probability of its label only.")
            score = score.item()
        labels.append(label)
        scores.append(float(score))
    answers = kit_pipeline("sentiment-analysis", "sentiment")(list(texts))
    wrong = [i for i, (answer, label, score) in enumerate(zip(answers, labels, scores))
             if answer["label"] != label or abs(answer["score"] - score) > 1e-4]
    if wrong:
        names = [model.config.id2label[i] for i in range(len(model.config.id2label))]
        for hint, (ids, probs) in _batch_variants(list(texts)).items():
            if [names[i] for i in ids] == labels and all(abs(p - s) < 1e-4 for p, s in zip(probs, scores)):
                raise Hint(hint)
        i = wrong[0]
        raise Hint(f"review {i} ({texts[i][:30]!r}...): the pipeline says {answers[i]['label']} "
                   f"{answers[i]['score']:.4f}, you say {labels[i]} {scores[i]:.4f}.")
    if len(runs) != 1:
        raise Hint(f"right answers, but you ran the model {len(runs)} times for {len(texts)} reviews: tokenize the "
                   "list at once, padded, and run the model ONCE on the batch.")
    return (f"{len(texts)} reviews of {sorted({len(tokenizer(t).input_ids) for t in texts})} tokens in one padded "
            "batch, one run of the model: the pipeline's labels and scores.")


# ---------------------------------------------------------------- generation


# In the order of the starter's three parts, so a filter written part by part is told which part fails: temperature
# alone, then top-k, then top-p, then all three.
FILTER_SETTINGS = ((0.5, 0, 1.0), (1.3, 10, 1.0), (1.0, 0, 0.8), (0.7, 50, 0.9))


@exercise
def check_filter(filter_logits: Any, logits: Any) -> str:
    """Step 5: ``filter_logits(logits, temperature, top_k, top_p)`` equals generate's processors, in their order."""
    import torch

    from ..lessons.generate import library_filters  # notebook 08's chain of transformers' processors

    if logits is None:
        raise Hint("pass the generator's logits of section 5 (prompt_logits) as the second argument.")
    rows = as_tensor(logits, "prompt_logits")
    if rows.ndim != 2 or not rows.is_floating_point() or not torch.isfinite(rows).all():
        raise Hint(f"pass the raw prompt_logits of section 5 (shape (positions, vocabulary)); got shape "
                   f"{tuple(rows.shape)}.")
    rows = rows.float()
    for t, k, p in FILTER_SETTINGS:
        what = f"filter_logits(logits, temperature={t}, top_k={k}, top_p={p})"
        try:
            mine = as_tensor(call(filter_logits, rows.clone(), t, k, p, what="filter_logits"), what).float()
        except Hint as hint:
            if k == 0 and "raised" in str(hint):
                raise Hint(f"{what}: {hint} top_k=0 means top-k is switched off: skip the top-k step when top_k "
                           "is 0.") from None
            raise
        expect_shape(mine, rows.shape, what)
        if (mine >= 0).all() and (mine <= 1).all() and mine.sum(-1).sub(1).abs().max() < 1e-3:
            raise Hint(f"{what} looks like probabilities (each row sums to 1): return the filtered LOGITS, with -inf "
                       "for removed tokens; softmax comes later, in the sampling loop.")
        ref = library_filters(t, k, p)(None, rows.clone())
        removed = ~torch.isfinite(ref)
        expect_neg_inf(mine, removed, what, fill_only=True)
        if torch.equal(torch.isfinite(mine), torch.isfinite(ref)) and torch.allclose(
                mine[~removed], ref[~removed], rtol=1e-5, atol=1e-5):
            continue
        kept_mine, kept_ref = int(torch.isfinite(mine).sum()), int((~removed).sum())
        if k == 0 and kept_mine <= rows.shape[0] < kept_ref:
            raise Hint(f"{what} keeps {kept_mine} tokens over all rows, the library {kept_ref}: top_k=0 means "
                       "top-k is switched off (keep everything it would touch).")
        if p == 1.0 and k == 0 and kept_mine != kept_ref:
            raise Hint(f"{what}: with top_k=0 and top_p=1.0 only the temperature applies; nothing is removed.")
        undivided = library_filters(1.0, k, p)(None, rows.clone())
        kept = torch.isfinite(undivided)
        if t != 1.0 and torch.equal(torch.isfinite(mine), kept) and torch.allclose(mine[kept], undivided[kept]):
            raise Hint(f"{what}: the logits are never divided by the temperature: logits / temperature comes first.")
        wrong_order = undivided / t
        if torch.equal(torch.isfinite(mine), torch.isfinite(wrong_order)) and not torch.equal(
                torch.isfinite(wrong_order), ~removed):
            raise Hint(f"{what}: you filter first and divide by the temperature after. generate divides by the "
                       "temperature first, then top-k, then top-p (notebook 09, section 5).")
        if torch.equal(torch.isfinite(mine), ~removed):
            raise Hint(f"{what} keeps the right tokens but changes their values: kept logits are the logits divided "
                       "by the temperature, nothing else.")
        _explain_kept(mine, ref, what, k, p)
        raise Hint(f"{what} keeps {kept_mine} tokens over all rows; generate's processors keep {kept_ref}. "
                   "Top-p: sort ascending, softmax, cumsum, remove where the cumulative sum <= 1 - top_p, always "
                   "keep the best token.")
    return ("your filters equal generate's TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper, in "
            f"generate's order, for {len(FILTER_SETTINGS)} settings.")


def _explain_kept(mine: Any, ref: Any, what: str, k: int, p: float) -> None:
    """Hints for a filter that keeps the wrong set of tokens: top-k's count, the token that crosses top_p, the mask
    left in sorted order."""
    import torch

    kept_mine, kept_ref = torch.isfinite(mine), torch.isfinite(ref)
    if p == 1.0 and k > 0:
        raise Hint(f"{what} keeps {kept_mine.sum(-1).float().mean():.1f} tokens per row on average, generate {k}: "
                   f"top-k keeps the {k} largest logits of each row (and ties with the k-th). Remove the logits below "
                   "the k-th largest, torch.topk(logits, k).values[..., -1:], nothing more, nothing less.")
    lowest = torch.where(kept_ref, ref, float("inf")).argmin(dim=-1, keepdim=True)  # the token that crosses top_p
    without_crossing = kept_ref.scatter(-1, lowest, False)
    best_kept = without_crossing | (kept_ref.sum(-1, keepdim=True) == 1) & kept_ref  # with "keep the best" added
    if torch.equal(kept_mine, without_crossing) or torch.equal(kept_mine, best_kept):
        raise Hint(f"{what} also removes the token that crosses top_p: top-p keeps the smallest set of most likely "
                   "tokens whose probabilities add up to at least top_p, the one that crosses the line included "
                   "(ascending: remove where the cumulative sum <= 1 - top_p).")
    if torch.equal(kept_mine.sum(-1), kept_ref.sum(-1)):
        raise Hint(f"{what} keeps as many tokens per row as generate but not the same ones: the mask was made in "
                   "sorted order; put it back in each row's own order, remove.scatter(-1, order, remove).")


# (seed, temperature, top_k, top_p, rows, prompt) of the one-step check: each draw is compared with generate's
# max_new_tokens=1. Over the four cases together, the draws of the typical wrong steps (_step_mistakes) differ from
# generate's and from each other, so each gets its own hint (tests/test_answers_11.py keeps them honest).
STEP_CASES = (
    (0, 0.7, 50, 0.9, 1, "yours"),
    (2, 1.5, 50, 1.0, 1, "yours"),
    (3, 1.0, 0, 0.8, 3, "france"),
    (0, 2.0, 0, 1.0, 3, "france"),
)


def _generator_and_prompt(model: Any, prompt_ids: Any) -> Any:
    """The notebook's generator and prompt, or a hint saying what to pass."""
    import torch

    if not hasattr(model, "generate") or getattr(model.config, "model_type", None) != "llama":
        raise Hint("pass the generator of section 1 (the model whose .generate made the target) as the second "
                   "argument.")
    prompt = as_tensor(prompt_ids, "prompt_ids")
    if prompt.ndim != 2 or prompt.shape[0] != 1 or prompt.dtype != torch.long:
        raise Hint(f"pass prompt_ids from section 1 (token ids, shape (1, length)); got shape {tuple(prompt.shape)}.")
    return prompt


def _step_mistakes(logits: Any, settings: tuple, seed: int) -> dict[str, tuple]:
    """The tokens of the typical wrong steps on ``logits`` (rows, positions, vocabulary), drawn under ``seed``."""
    import torch

    from ..lessons.generate import filter_logits

    t, k, p = settings
    out = {"argmax": tuple(logits[:, -1].argmax(dim=-1).tolist())}
    for name, rows in (("no filter", logits[:, -1]), ("first position", filter_logits(logits[:, 0], t, k, p)),
                       ("temperature only", logits[:, -1] / t),
                       ("no temperature", filter_logits(logits[:, -1], 1.0, k, p)),
                       ("reseeded", filter_logits(logits[:, -1], t, k, p))):
        torch.manual_seed(0 if name == "reseeded" else seed)  # "reseeded": torch.manual_seed(0) inside the step
        out[name] = tuple(torch.multinomial(torch.softmax(rows, dim=-1), num_samples=1)[:, 0].tolist())
    return out


STEP_HINTS = {
    "argmax": "you took the most probable token (argmax): sampling DRAWS one token from the filtered probabilities, "
              "torch.multinomial(probs, num_samples=1). The argmax is greedy decoding (do_sample=False).",
    "no filter": "those are draws from the raw softmax: divide by the temperature and filter (your filter_logits of "
                 "step 5) first, then softmax, then draw.",
    "first position": "you drew from the logits of the FIRST position: the next token comes from the last one, "
                      "logits[:, -1].",
    "temperature only": "only the temperature was applied: top-k and top-p remove tokens too. Use your filter_logits "
                        "of step 5 with all three settings.",
    "no temperature": "the logits were filtered but never divided by the temperature: filter_logits(logits, "
                      "temperature, top_k, top_p) does that first.",
    "reseeded": "you seed torch inside your function: the check seeds before calling it (as a caller of generate "
                "does), and a seed inside makes every call draw the same way. Remove the torch.manual_seed.",
}


def _one_step(next_token: Any, model: Any, batch: Any, settings: tuple, what: str) -> tuple:
    """The learner's tokens for one case, as a tuple of ids (one per row), or a hint about the result's form."""
    n = batch.shape[0]
    try:
        mine = as_tensor(call(next_token, model, batch.clone(), *settings, what="next_token"), f"{what}'s result")
    except Hint as hint:
        if "multinomial" in str(hint) or "probability tensor" in str(hint):
            raise Hint(f"{what}: torch.multinomial wants probabilities (>= 0, no -inf): softmax the filtered "
                       "logits first, then draw.") from None
        raise
    if mine.ndim == 2 and mine.shape == (n, 1):
        mine = mine[:, 0]  # (rows, 1) is fine too
    if mine.ndim == 2 and mine.shape[0] == n and mine.shape[1] == batch.shape[1] + 1:
        raise Hint(f"{what} returned the whole sequence; return only the new token of each row, shape ({n},).")
    if mine.ndim == 2 and mine.shape[0] == n and mine.shape[1] > 1000:
        raise Hint(f"{what} returned a row of {mine.shape[1]:,} numbers per row: that is the whole distribution. "
                   "Draw ONE token from it: torch.multinomial(probs, num_samples=1).")
    if tuple(mine.shape) != (n,) or mine.is_floating_point():
        raise Hint(f"{what} returned shape {tuple(mine.shape)} ({mine.dtype}); return one token id per row: "
                   f"shape ({n},) or ({n}, 1).")
    return tuple(mine.tolist())


@exercise
def check_next_token(next_token: Any, model: Any, prompt_ids: Any) -> str:
    """Step 6: ``next_token(model, input_ids, temperature, top_k, top_p)``: one draw per row, as generate makes it."""
    import torch

    prompt = _generator_and_prompt(model, prompt_ids)
    eos = kit_tokenizer("generator").eos_token_id
    mine, ref, wrong, first_differing = [], [], {}, None
    for seed, t, k, p, n, which in STEP_CASES:
        batch = _prompt(which, prompt).repeat(n, 1)
        what = f"next_token(model, input_ids, temperature={t}, top_k={k}, top_p={p}) on {n} row(s), seed {seed}"
        torch.manual_seed(seed)
        mine.append(_one_step(next_token, model, batch, (t, k, p), what))
        torch.manual_seed(seed)
        with torch.no_grad():
            ref.append(tuple(model.generate(batch, do_sample=True, temperature=t, top_k=k, top_p=p, max_new_tokens=1,
                                            eos_token_id=eos, pad_token_id=eos)[:, -1].tolist()))
            logits = model(batch).logits.float()
        first_differing = first_differing or (what if mine[-1] != ref[-1] else None)
        for name, tokens in _step_mistakes(logits, (t, k, p), seed).items():
            wrong.setdefault(name, []).append(tokens)
    if mine == ref:
        return (f"your step draws generate's next token for {len(STEP_CASES)} seeds and settings (one row and a "
                "batch): the last position's logits, filtered, softmax, one draw per row.")
    for name, tokens in wrong.items():  # a mistake is named when it gives the learner's tokens in every case
        if tokens == mine and tokens != ref:
            raise Hint(f"{first_differing}: {STEP_HINTS[name]}")
    raise Hint(f"{first_differing}: your token differs from generate's. The last position's logits, your "
               "filter_logits, softmax, then ONE torch.multinomial(probs, num_samples=1) for the whole batch; do not "
               "reseed.")


def _prompt(name: str, yours: Any) -> Any:
    if name == "yours":
        return yours
    return kit_tokenizer("generator").apply_chat_template(FRANCE, add_generation_prompt=True, return_tensors="pt",
                                                          return_dict=True)["input_ids"]


def _diagnose(mine: Any, model: Any, batch: Any, seed: int, settings: tuple, eos: int, pad: int) -> None:
    """Name the typical mistake whose tokens the learner's loop reproduces (notebooks 08 and 09 save each one)."""
    import torch
    from functools import partial

    from ..lessons.generate import filter_logits_top_p_first, filter_logits_zero_fill
    from ..lessons.generation_by_hand import sample, sample_pad_with_eos, sample_stop_on_any

    t, k, p, n = settings
    wrong = (
        ("you took the most probable token (argmax) at each step: that is greedy decoding. Sampling DRAWS one token "
         "from the filtered probabilities: torch.multinomial(probs, num_samples=1).", _greedy),
        ("removed tokens hold 0, not -inf (the seed's zero-fill top-k): at this high temperature the leaked "
         "probability changes the draws.", partial(sample, filters=filter_logits_zero_fill)),
        ("you filter first and divide by the temperature after: generate divides by the temperature first, then "
         "top-k, then top-p.", partial(sample, filters=filter_logits_top_p_first)),
        ("a row that said EOS goes on sampling: keep one finished flag per row, give finished rows the pad token, "
         "and stop when every row has finished.", lambda *a: sample(*a[:6])),
        ("the whole batch stopped when one row said EOS: rows stop one by one; a finished row gets the pad token "
         "while the others go on.", sample_stop_on_any),
        (f"finished rows get the end-of-sequence token; generate gives them the pad token (pad_token_id={pad} here, "
         "not EOS).", sample_pad_with_eos),
        ("you feed the whole sequence at every step although the cache already holds the earlier tokens: they enter "
         "twice, at the wrong positions. With a cache, feed the prompt once, then only the new token.", _refeeding),
    )
    for hint, loop in wrong:
        if loop is sample_pad_with_eos and pad == eos:
            continue
        torch.manual_seed(seed)
        theirs = loop(model, batch.clone(), n, t, k, p, eos, pad)
        if mine.shape == theirs.shape and torch.equal(mine, theirs):
            raise Hint(hint)


def _refeeding(model: Any, input_ids: Any, n: int, t: float, k: int, p: float, eos: int, pad: int) -> Any:
    """WRONG on purpose: a loop with a KV cache that feeds the whole sequence again at every step."""
    import torch
    from transformers import DynamicCache

    from ..lessons.generate import filter_logits

    cache, finished = DynamicCache(config=model.config), torch.zeros(input_ids.shape[0], dtype=torch.bool)
    for _ in range(n):
        with torch.no_grad():
            logits = model(input_ids, cache=cache, logits_to_keep=1).logits[:, -1].float()
        tokens = torch.multinomial(torch.softmax(filter_logits(logits, t, k, p), dim=-1), num_samples=1).squeeze(1)
        tokens = torch.where(finished, pad, tokens)
        finished |= tokens == eos
        input_ids = torch.cat([input_ids, tokens[:, None]], dim=-1)
        if finished.all():
            break
    return input_ids


def _greedy(model: Any, input_ids: Any, n: int, t: float, k: int, p: float, eos: int, pad: int) -> Any:
    """WRONG for sampling: the argmax at each step (what generate(do_sample=False) does)."""
    import torch

    with torch.no_grad():
        return model.generate(input_ids, do_sample=False, max_new_tokens=n, eos_token_id=eos, pad_token_id=pad,
                              temperature=None, top_k=None, top_p=None)


@exercise
def check_generation(generate_by_hand: Any, model: Any, prompt_ids: Any) -> str:
    """Step 7: the learner's sampling loop gives generate's tokens under the same seed (several seeds and settings)."""
    import torch

    prompt = _generator_and_prompt(model, prompt_ids)
    eos = kit_tokenizer("generator").eos_token_id
    for seed, t, k, p, n, which, n_new, pad in LOOP_CASES:
        pad = kit_tokenizer("generator").pad_token_id if pad is None else pad
        batch = _prompt(which, prompt).repeat(n, 1)
        what = (f"generate_by_hand(..., temperature={t}, top_k={k}, top_p={p}) on {n} row(s), seed {seed}"
                + ("" if which == "yours" else f", notebook 09's prompt, pad id {pad}"))
        torch.manual_seed(seed)
        mine = call(generate_by_hand, model, batch.clone(), n_new, t, k, p, eos, pad, what="generate_by_hand")
        mine = as_tensor(mine, "the result of generate_by_hand")
        torch.manual_seed(seed)
        with torch.no_grad():
            ref = model.generate(batch, do_sample=True, temperature=t, top_k=k, top_p=p, max_new_tokens=n_new,
                                 eos_token_id=eos, pad_token_id=pad)
        if mine.shape == ref.shape and torch.equal(mine, ref):
            continue
        _explain_shape(mine, batch, what)
        if mine.shape[1] > ref.shape[1] and torch.equal(mine[:, :ref.shape[1]], ref):  # cheap: before _diagnose
            _explain_length(mine, ref, batch, what)
        _diagnose(mine, model, batch, seed, (t, k, p, n_new), eos, pad)
        _explain_length(mine, ref, batch, what)
        raise Hint(f"{what}: your tokens differ from generate's. A finished row must get the pad token; one "
                   "multinomial draw per step for the whole batch; filters in generate's order; nothing else random.")
    return (f"your loop gives generate's tokens for {len(LOOP_CASES)} seeds and settings, one row and batches (rows "
            "that stop at different steps, a batch that ends before max_new_tokens, a pad id that is not EOS): the "
            "same filters, the same order, the same draws.")


def _explain_shape(mine: Any, batch: Any, what: str) -> None:
    """Hints about the shape of the result: one row per prompt row, the prompt kept in front."""
    import torch

    if mine.ndim != 2 or mine.shape[0] != batch.shape[0]:
        raise Hint(f"{what} returned shape {tuple(mine.shape)}; return (rows, prompt + new tokens), like generate.")
    if mine.shape[1] < batch.shape[1] or not torch.equal(mine[:, :batch.shape[1]], batch):
        raise Hint(f"{what}: return the prompt followed by the new tokens, as generate does "
                   "(torch.cat the new tokens onto input_ids).")


def _explain_length(mine: Any, ref: Any, batch: Any, what: str) -> None:
    """Hints when the tokens agree with generate's as far as both go, or not from the first new token on."""
    import torch

    limit = min(mine.shape[1], ref.shape[1])
    if torch.equal(mine[:, :limit], ref[:, :limit]):
        if mine.shape[1] > ref.shape[1]:
            raise Hint(f"{what}: the same tokens as generate, then {mine.shape[1] - ref.shape[1]} more: stop as soon "
                       "as every row has produced the end-of-sequence token.")
        raise Hint(f"{what}: the same tokens as generate, but you stopped {ref.shape[1] - mine.shape[1]} early: "
                   "make max_new_tokens tokens unless every row has finished.")
    if not torch.equal(mine[:, batch.shape[1]], ref[:, batch.shape[1]]):
        raise Hint(f"{what}: the very first new token differs. Do not reseed inside your function (the check "
                   "seeds before calling it), filter in generate's order, and draw once per step with "
                   "torch.multinomial(probs, num_samples=1).")
