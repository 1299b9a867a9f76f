"""Notebook 11's checks (steps 1 to 7) against plausible wrong answers and right alternatives.

Steps 1 to 4 (tokens, body, head, label) get the slips of a learner new to the library's objects (a tensor for the
tokenizer's output, the pooled vector for the hidden states, the raw [CLS] vector for the head, an index for the
label, ...). The wrong filters, steps and loops of steps 5 to 7 are the ones notebooks 08 and 09 save as negative
controls (the seed's zero-fill top-k, top-p before temperature, no per-row stopping, ...), plus other typical slips
(the argmax for a draw, the cache fed the whole sequence again); each must get its own hint. The right alternatives
(the lessons' own functions, transformers' processors, a loop without the cache, generate's own padding formula) must
each pass.
"""

from __future__ import annotations

import functools
from functools import partial

import torch
from transformers import DynamicCache

from answers import answer_tests, by_name, named
from helpers.checks import lesson11
from helpers.checks.core import kit_model, kit_tokenizer
from helpers.lessons.generate import (filter_logits, filter_logits_top_p_first, filter_logits_zero_fill,
                                      library_filters)
from helpers.lessons.generation_by_hand import sample, sample_pad_with_eos, sample_stop_on_any

REVIEW = "The acting was wooden and the ending made no sense at all."  # notebook 11's REVIEW
MESSAGES = [{"role": "system", "content": "Be brief."},  # notebook 11's SYSTEM and QUESTION
            {"role": "user", "content": "Write one sentence about the sea."}]
INF = float("-inf")


def _model():
    return kit_model("generator", "AutoModelForCausalLM")


@functools.lru_cache(maxsize=1)
def _prompt_ids():
    return kit_tokenizer("generator").apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt",
                                                          return_dict=True)["input_ids"]


@functools.lru_cache(maxsize=1)
def _prompt_logits():
    with torch.no_grad():
        return _model()(_prompt_ids()).logits[0]


# ---------------------------------------------------------------- steps 1 to 4: the sentiment path, part by part


def _sentiment():
    return kit_tokenizer("sentiment"), kit_model("sentiment", "AutoModelForSequenceClassification")


def _inputs():
    return _sentiment()[0](REVIEW, return_tensors="pt")


def _body(**kwargs):
    with torch.no_grad():
        return _sentiment()[1].bert(**_inputs(), **kwargs)


def _logits():
    with torch.no_grad():
        return _sentiment()[1](**_inputs()).logits


# Each entry builds the learner's answer from the kit (it needs the model), called when the test runs.
INPUTS_WRONG = {
    "still None": (lambda: None, "still None"),
    "input_ids alone": (lambda: _inputs()["input_ids"], "you have a tensor"),
    "Python lists": (lambda: _sentiment()[0](REVIEW), "Python list"),
    "no batch axis": (lambda: {k: v[0] for k, v in _inputs().items()}, "batch dimension"),
    "no special tokens": (lambda: _sentiment()[0](REVIEW, add_special_tokens=False, return_tensors="pt"),
                          "[CLS] and [SEP]"),
    "ids without the mask": (lambda: {"input_ids": _inputs()["input_ids"]}, "keep the attention_mask"),
    "the generator's tokenizer": (lambda: kit_tokenizer("generator")(REVIEW, return_tensors="pt"),
                                  "not the ids of the sentiment model's tokenizer"),
    "a string": (lambda: REVIEW, "BatchEncoding"),
}
INPUTS_RIGHT = {
    "the tokenizer's output": _inputs,
    "a list of one text": lambda: _sentiment()[0]([REVIEW], return_tensors="pt"),
    "truncation on": lambda: _sentiment()[0](REVIEW, truncation=True, return_tensors="pt"),
    "a plain dict": lambda: dict(_inputs()),
}
test_inputs_wrong, test_inputs_right = answer_tests(
    lesson11.check_inputs, INPUTS_WRONG, INPUTS_RIGHT, lambda answer: (answer(), REVIEW))


def _hidden_in_train_mode():
    model = _sentiment()[1]
    model.train()
    try:
        torch.manual_seed(0)
        with torch.no_grad():
            return model.bert(**_inputs()).last_hidden_state
    finally:
        model.eval()


HIDDEN_WRONG = {
    "the whole output": (lambda: _body(), "the body's whole output"),
    "pooler_output": (lambda: _body().pooler_output, "that is pooler_output"),
    "the logits": (_logits, "the shape of the head's logits"),
    "one token's vector": (lambda: _body().last_hidden_state[0, 0], "has shape"),
    "dropout on (train mode)": (_hidden_in_train_mode, "eval mode"),
    "still None": (lambda: None, "still None"),
}
HIDDEN_RIGHT = {
    "last_hidden_state": lambda: _body().last_hidden_state,
    "first item of the output": lambda: _body()[0],
    "hidden_states[-1] of the whole model": lambda: _sentiment()[1](**_inputs(), output_hidden_states=True)
    .hidden_states[-1].detach(),
}
test_hidden_wrong, test_hidden_right = answer_tests(
    lesson11.check_hidden_states, HIDDEN_WRONG, HIDDEN_RIGHT, lambda answer: (answer(), REVIEW))


def _head(vector):
    model = _sentiment()[1]
    with torch.no_grad():
        return model.classifier(model.dropout(vector))


LOGITS_WRONG = {
    "the head on every token": (lambda: _head(_body().last_hidden_state), "applied to every token"),
    "the raw [CLS] vector": (lambda: _head(_body().last_hidden_state[:, 0]), "raw [CLS] hidden state"),
    "probabilities": (lambda: torch.softmax(_logits(), dim=-1), "probabilities already"),
    "one row, no batch axis": (lambda: _logits()[0], "expected (1, 2)"),
    "another text's logits": (lambda: _sentiment()[1](**_sentiment()[0]("A wonderful film.", return_tensors="pt"))
                              .logits.detach(), "differ from model(**inputs).logits"),
}
LOGITS_RIGHT = {
    "classifier on pooler_output": lambda: _head(_body().pooler_output),
    "the whole model": _logits,
    "the pooler by hand": lambda: _head(_sentiment()[1].bert.pooler(_body().last_hidden_state)),
}
test_logits_wrong, test_logits_right = answer_tests(
    lesson11.check_logits, LOGITS_WRONG, LOGITS_RIGHT, lambda answer: (answer(), REVIEW))


def _probs():
    return torch.softmax(_logits(), dim=-1)


def _label(index):
    return _sentiment()[1].config.id2label[int(index)]


PREDICTION_WRONG = {
    "an index for the label": (lambda: (int(_probs().argmax()), _probs().max().item()), "is an index"),
    "a tensor index": (lambda: (_probs().argmax(dim=-1), _probs().max().item()), "is an index"),
    "both probabilities as the score": (lambda: (_label(_probs().argmax()), _probs()[0]), "has 2 numbers"),
    "softmax over the batch": (lambda: (_label(_probs().argmax()), torch.softmax(_logits(), dim=0).max().item()),
                               "exactly 1"),
    "the logit as the score": (lambda: (_label(_probs().argmax()), _logits().max().item()), "not a probability"),
    "argmin": (lambda: (_label(_probs().argmin()), _probs().min().item()), "the pipeline says"),
    "the other label's probability": (lambda: (_label(_probs().argmax()), _probs().min().item()),
                                      "the probability of that label"),
    "still None": (lambda: (None, None), "still None"),
    "a list for the label": (lambda: ([_label(_probs().argmax())], _probs().max().item()), "should be a string"),
}
PREDICTION_RIGHT = {
    "floats": lambda: (_label(_probs().argmax()), _probs().max().item()),
    "a 0-d tensor score": lambda: (_label(_probs().argmax()), _probs().max()),
    "a numpy score": lambda: (_label(_probs().argmax()), _probs().max().numpy()),
    "the pipeline's own answer": lambda: (lesson11._pipeline_answer(REVIEW)["label"],
                                          lesson11._pipeline_answer(REVIEW)["score"]),
}
test_prediction_wrong, test_prediction_right = answer_tests(
    lesson11.check_prediction, PREDICTION_WRONG, PREDICTION_RIGHT, lambda answer: (*answer(), REVIEW))


# ---------------------------------------------------------------- step 4b (transfer): a batch of reviews


def _as_dicts(model, probs):
    return [{"label": model.config.id2label[int(i)], "score": p.item()} for p, i in zip(*probs.max(dim=-1))]


@torch.no_grad()
def batch_lesson(model, tokenizer, texts):  # the reference solution
    inputs = tokenizer(texts, padding=True, return_tensors="pt")
    return _as_dicts(model, torch.softmax(model(**inputs).logits, dim=-1))


def batch_body_and_head(model, tokenizer, texts):  # steps 2 and 3 on the batch, with gradients on
    body = model.bert(**tokenizer(texts, padding="longest", truncation=True, return_tensors="pt"))
    probs = torch.softmax(model.classifier(model.dropout(body.pooler_output)), dim=-1)
    return [{"label": model.config.id2label[int(p.argmax())], "score": p.max()} for p in probs]  # 0-d tensors


@torch.no_grad()
def batch_tuple_of_dicts(model, tokenizer, texts):
    return tuple(batch_lesson(model, tokenizer, texts))


@torch.no_grad()
def batch_no_mask(model, tokenizer, texts):
    inputs = tokenizer(texts, padding=True, return_tensors="pt")
    return _as_dicts(model, model(input_ids=inputs["input_ids"]).logits.softmax(-1))


@torch.no_grad()
def batch_left_padding(model, tokenizer, texts):
    tokenizer.padding_side = "left"  # the check must put it back: the kit's tokenizer is shared
    return _as_dicts(model, model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(-1))


@torch.no_grad()
def batch_softmax_over_batch(model, tokenizer, texts):
    return _as_dicts(model, model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(0))


@torch.no_grad()
def batch_raw_cls(model, tokenizer, texts):
    hidden = model.bert(**tokenizer(texts, padding=True, return_tensors="pt")).last_hidden_state
    return _as_dicts(model, model.classifier(hidden[:, 0]).softmax(-1))


@torch.no_grad()
def batch_one_at_a_time(model, tokenizer, texts):  # right answers, but no batch: the point of the exercise missed
    return [batch_lesson(model, tokenizer, [text])[0] for text in texts]


@torch.no_grad()
def batch_no_padding(model, tokenizer, texts):
    return _as_dicts(model, model(**tokenizer(texts, return_tensors="pt")).logits.softmax(-1))


@torch.no_grad()
def batch_one_dict(model, tokenizer, texts):
    probs = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(-1)
    return {"label": [model.config.id2label[int(i)] for i in probs.argmax(-1)], "score": probs.max(-1).values}


@torch.no_grad()
def batch_index_labels(model, tokenizer, texts):
    probs = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(-1)
    return [{"label": int(p.argmax()), "score": p.max().item()} for p in probs]


@torch.no_grad()
def batch_first_review_only(model, tokenizer, texts):
    return batch_lesson(model, tokenizer, texts)[:1]


BATCH_WRONG = named([
    (batch_no_mask, "Pass the attention_mask"),
    (batch_left_padding, "you padded on the LEFT"),
    (batch_softmax_over_batch, "not over the batch (dim=0)"),
    (batch_raw_cls, "raw [CLS] hidden state"),
    (batch_one_at_a_time, "you ran the model 3 times for 3 reviews"),
    (batch_no_padding, "padding=True"),
    (batch_one_dict, "returned one dict"),
    (batch_index_labels, "is an index"),
    (batch_first_review_only, "a list of 3 dicts; got 1"),
])
test_batch_wrong, test_batch_right = answer_tests(
    lesson11.check_batch, BATCH_WRONG, by_name([batch_lesson, batch_body_and_head, batch_tuple_of_dicts]),
    lambda answer: (answer, REVIEW))


def test_batch_check_leaves_the_shared_tokenizer_as_it_was(capsys, kit):
    """A learner's padding_side = "left" must not change the tokenizer every later check (and step) uses."""
    lesson11.check_batch(batch_left_padding, REVIEW)
    capsys.readouterr()
    assert _sentiment()[0].padding_side == "right"


def test_batch_reviews_are_padded(kit):
    """The check's reviews have three different lengths, so the batch really is padded (the slips above show)."""
    lengths = {len(_sentiment()[0](text).input_ids) for text in (REVIEW, *lesson11.BATCH_REVIEWS)}
    assert len(lengths) == 3, lengths


# ---------------------------------------------------------------- step 5: the filters


def filter_big_negative(logits, temperature=1.0, top_k=0, top_p=1.0):
    return filter_logits(logits, temperature, top_k, top_p).nan_to_num(neginf=-1e9)


def filter_no_return(logits, temperature=1.0, top_k=0, top_p=1.0):
    filter_logits(logits, temperature, top_k, top_p)


def filter_top_k_zero_breaks(logits, temperature=1.0, top_k=0, top_p=1.0):  # no guard for top_k=0
    logits = logits / temperature
    kth = torch.topk(logits, top_k).values[..., -1:]
    return filter_logits(logits.masked_fill(logits < kth, INF), top_p=top_p)


def filter_no_temperature(logits, temperature=1.0, top_k=0, top_p=1.0):
    return filter_logits(logits, 1.0, top_k, top_p)


def _top_k(logits, top_k):
    if not top_k:
        return logits
    return logits.masked_fill(logits < torch.topk(logits, top_k).values[..., -1:], INF)


def filter_top_p_drops_the_crossing_token(logits, temperature=1.0, top_k=0, top_p=1.0):  # descending, no shift
    logits = _top_k(logits / temperature, top_k)
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        remove = sorted_logits.softmax(dim=-1).cumsum(dim=-1) > top_p
        logits = logits.masked_fill(remove.scatter(-1, order, remove), INF)
    return logits


def filter_top_p_mask_left_sorted(logits, temperature=1.0, top_k=0, top_p=1.0):  # no scatter back
    logits = _top_k(logits / temperature, top_k)
    if top_p < 1.0:
        sorted_logits, _ = torch.sort(logits)
        remove = sorted_logits.softmax(dim=-1).cumsum(dim=-1) <= 1 - top_p
        remove[..., -1] = False
        logits = logits.masked_fill(remove, INF)
    return logits


def filter_top_k_plus_one(logits, temperature=1.0, top_k=0, top_p=1.0):
    return filter_logits(_top_k(logits / temperature, top_k + 1 if top_k else 0), top_p=top_p)


def filter_top_k_below_or_equal(logits, temperature=1.0, top_k=0, top_p=1.0):  # <= removes the k-th too
    logits = logits / temperature
    if top_k:
        logits = logits.masked_fill(logits <= torch.topk(logits, top_k).values[..., -1:], INF)
    return filter_logits(logits, top_p=top_p)


WRONG_FILTERS = named([
    (filter_top_p_drops_the_crossing_token, "also removes the token that crosses top_p"),
    (filter_top_p_mask_left_sorted, "put it back in each row's own order"),
    (filter_top_k_plus_one, "top-k keeps the 10 largest"),
    (filter_top_k_below_or_equal, "top-k keeps the 10 largest"),
    (filter_logits_zero_fill, "hold 0 instead of -inf"),
    (filter_logits_top_p_first, "divide by the temperature after"),
    (filter_big_negative, "large finite number"),
    (filter_no_return, "returned None"),
    (filter_top_k_zero_breaks, "top_k=0 means top-k is switched off"),
    (filter_no_temperature, "divided by the temperature"),
])


def filter_with_library(logits, temperature=1.0, top_k=0, top_p=1.0):  # transformers' own processors
    return library_filters(temperature, top_k, top_p)(None, logits.clone())


def filter_always_divides(logits, temperature=1.0, top_k=0, top_p=1.0):  # divides by 1.0 too
    return filter_logits(logits / temperature, 1.0, top_k, top_p)

def filter_descending_shifted(logits, temperature=1.0, top_k=0, top_p=1.0):  # transformers 4's older top-p
    logits = _top_k(logits / temperature, top_k)
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        remove = sorted_logits.softmax(dim=-1).cumsum(dim=-1) > top_p
        remove[..., 1:] = remove[..., :-1].clone()  # shift right: keep the token that crosses top_p
        remove[..., 0] = False
        logits = logits.masked_fill(remove.scatter(-1, order, remove), INF)
    return logits


def filter_divides_in_place(logits, temperature=1.0, top_k=0, top_p=1.0):  # the check passes a copy
    logits /= temperature
    return filter_logits(logits, 1.0, top_k, top_p)


test_filter_wrong, test_filter_right = answer_tests(
    lesson11.check_filter, WRONG_FILTERS, by_name([filter_logits, filter_with_library, filter_always_divides,
                                                   filter_descending_shifted, filter_divides_in_place]),
    lambda answer: (answer, _prompt_logits()))


# ---------------------------------------------------------------- step 6: one sampling step


@torch.no_grad()
def step_lesson(model, ids, t, k, p):  # the reference solution
    probs = torch.softmax(filter_logits(model(ids).logits[:, -1].float(), t, k, p), dim=-1)
    return torch.multinomial(probs, num_samples=1).squeeze(1)


@torch.no_grad()
def step_library_processors(model, ids, t, k, p):  # (rows, 1), transformers' processors
    logits = model(ids).logits[:, -1]
    return torch.multinomial(torch.softmax(library_filters(t, k, p)(ids, logits), dim=-1), num_samples=1)


@torch.no_grad()
def step_logits_to_keep(model, ids, t, k, p):  # only the last position through the output layer
    logits = model(ids, logits_to_keep=1).logits[:, -1]
    return torch.multinomial(torch.softmax(filter_logits(logits, t, k, p), dim=-1), num_samples=1)[:, 0]


@torch.no_grad()
def step_argmax(model, ids, t, k, p):
    return filter_logits(model(ids).logits[:, -1], t, k, p).argmax(dim=-1)


@torch.no_grad()
def step_no_filter(model, ids, t, k, p):
    return torch.multinomial(torch.softmax(model(ids).logits[:, -1], dim=-1), num_samples=1)


@torch.no_grad()
def step_first_position(model, ids, t, k, p):
    return torch.multinomial(torch.softmax(filter_logits(model(ids).logits[:, 0], t, k, p), dim=-1), 1)


@torch.no_grad()
def step_temperature_only(model, ids, t, k, p):
    return torch.multinomial(torch.softmax(model(ids).logits[:, -1] / t, dim=-1), num_samples=1)


@torch.no_grad()
def step_no_temperature(model, ids, t, k, p):
    return torch.multinomial(torch.softmax(filter_logits(model(ids).logits[:, -1], 1.0, k, p), dim=-1), 1)


@torch.no_grad()
def step_draws_from_logits(model, ids, t, k, p):
    return torch.multinomial(filter_logits(model(ids).logits[:, -1], t, k, p), num_samples=1)


@torch.no_grad()
def step_returns_probabilities(model, ids, t, k, p):
    return torch.softmax(filter_logits(model(ids).logits[:, -1], t, k, p), dim=-1)


def step_returns_the_sequence(model, ids, t, k, p):
    return torch.cat([ids, step_lesson(model, ids, t, k, p)[:, None]], dim=-1)


def step_reseeds(model, ids, t, k, p):
    torch.manual_seed(0)
    return step_lesson(model, ids, t, k, p)


WRONG_STEPS = named([
    (step_argmax, "you took the most probable token (argmax)"),
    (step_no_filter, "draws from the raw softmax"),
    (step_first_position, "logits of the FIRST position"),
    (step_temperature_only, "only the temperature was applied"),
    (step_no_temperature, "never divided by the temperature"),
    (step_draws_from_logits, "torch.multinomial wants probabilities"),
    (step_returns_probabilities, "that is the whole distribution"),
    (step_returns_the_sequence, "returned the whole sequence"),
    (step_reseeds, "you seed torch inside your function"),
])
test_step_wrong, test_step_right = answer_tests(
    lesson11.check_next_token, WRONG_STEPS, by_name([step_lesson, step_library_processors, step_logits_to_keep]),
    lambda answer: (answer, _model(), _prompt_ids()))


# ---------------------------------------------------------------- step 7: the loop


def loop_no_eos(model, ids, n, t, k, p, eos, pad):  # no EOS or padding handling at all
    return sample(model, ids, n, t, k, p)


def loop_no_final_stop(model, ids, n, t, k, p, eos, pad):  # pads finished rows but never stops early
    out = sample(model, ids, n, t, k, p, eos, pad)
    missing = ids.shape[1] + n - out.shape[1]
    return torch.cat([out, torch.full((out.shape[0], missing), pad)], dim=-1) if missing else out


def loop_reseeds(model, ids, n, t, k, p, eos, pad):
    torch.manual_seed(0)
    return sample(model, ids, n, t, k, p, eos, pad)


def loop_new_tokens_only(model, ids, n, t, k, p, eos, pad):
    return sample(model, ids, n, t, k, p, eos, pad)[:, ids.shape[1]:]


def loop_no_return(model, ids, n, t, k, p, eos, pad):
    sample(model, ids, n, t, k, p, eos, pad)


def _stepwise(next_tokens):
    """A loop with the right stopping (pad after EOS, stop when every row has ended) around
    next_tokens(model, input_ids, t, k, p) -> one token per row: the wrong and right loops below differ only there."""
    @torch.no_grad()
    def loop(model, input_ids, n, t, k, p, eos, pad):
        finished = torch.zeros(input_ids.shape[0], dtype=torch.bool)
        for _ in range(n):
            new = torch.where(finished, pad, next_tokens(model, input_ids, t, k, p))
            finished |= new == eos
            input_ids = torch.cat([input_ids, new[:, None]], dim=-1)
            if finished.all():
                break
        return input_ids
    return loop


def loop_cache_fed_everything(model, input_ids, n, t, k, p, eos, pad):  # the cache gets the whole sequence again
    cache = DynamicCache(config=model.config)

    def next_tokens(model, ids, t, k, p):
        probs = torch.softmax(filter_logits(model(ids, cache=cache).logits[:, -1].float(), t, k, p), dim=-1)
        return torch.multinomial(probs, 1).squeeze(1)
    return _stepwise(next_tokens)(model, input_ids, n, t, k, p, eos, pad)


# greedy, with the right stopping
loop_argmax = _stepwise(lambda model, ids, t, k, p: filter_logits(model(ids).logits[:, -1].float(), t, k, p)
                        .argmax(dim=-1))


WRONG_LOOPS = {
    "no EOS": (loop_no_eos, "goes on sampling"),
    "zero-fill": (partial(sample, filters=filter_logits_zero_fill), "zero-fill"),
    "top-p first": (partial(sample, filters=filter_logits_top_p_first), "divide by the temperature after"),
    "stop on any": (sample_stop_on_any, "the whole batch stopped"),
    "pad with EOS": (sample_pad_with_eos, "generate gives them the pad token"),
    "no final stop": (loop_no_final_stop, "7 more: stop as soon as every row"),  # the last case of LOOP_CASES
    "reseeds": (loop_reseeds, "Do not reseed"),
    "new tokens only": (loop_new_tokens_only, "return the prompt followed by the new tokens"),
    "no return": (loop_no_return, "returned None"),
    "cache fed the whole sequence": (loop_cache_fed_everything, "feed the whole sequence at every step"),
    "argmax": (loop_argmax, "greedy decoding"),
}


@torch.no_grad()
def loop_generate_style(model, input_ids, max_new_tokens, temperature, top_k, top_p, eos_token_id, pad_token_id):
    """Without the cache, generate's own 0/1 flags and padding formula."""
    unfinished = torch.ones(input_ids.shape[0], dtype=torch.long)
    for _ in range(max_new_tokens):
        logits = model(input_ids).logits[:, -1].float()
        probs = torch.softmax(filter_logits(logits, temperature, top_k, top_p), dim=-1)
        tokens = torch.multinomial(probs, num_samples=1).squeeze(1)
        tokens = tokens * unfinished + pad_token_id * (1 - unfinished)
        input_ids = torch.cat([input_ids, tokens[:, None]], dim=-1)
        unfinished = unfinished & (tokens != eos_token_id).long()
        if unfinished.max() == 0:
            break
    return input_ids


loop_with_next_token = _stepwise(step_lesson)  # the notebook's solution of step 7: step 6's next_token, no cache


RIGHT_LOOPS = {
    "next_token in a loop": loop_with_next_token,
    "sample": sample,  # notebook 09's loop, with the cache
    "sample without cache": partial(sample, use_cache=False),
    "generate-style flags": loop_generate_style,
}
test_generation_wrong, test_generation_right = answer_tests(
    lesson11.check_generation, WRONG_LOOPS, RIGHT_LOOPS, lambda answer: (answer, _model(), _prompt_ids()))


def test_the_stopping_case_separates(kit):
    """The check's batch case really has rows that end early and a row that does not, with pad != EOS."""
    seed, t, k, p, n, which, n_new, pad = lesson11.LOOP_CASES[1]
    eos = kit_tokenizer("generator").eos_token_id
    batch = lesson11._prompt(which, _prompt_ids()).repeat(n, 1)
    torch.manual_seed(seed)
    out = _model().generate(batch, do_sample=True, temperature=t, top_k=k, top_p=p, max_new_tokens=n_new,
                            eos_token_id=eos, pad_token_id=pad)
    said_eos = (out[:, batch.shape[1]:] == eos).any(dim=-1)
    assert pad != eos and said_eos.any() and not said_eos.all()


def test_the_early_end_case_separates(kit):
    """The check's last case: every row says EOS, each at its own step, well before max_new_tokens, pad != EOS."""
    seed, t, k, p, n, which, n_new, pad = lesson11.LOOP_CASES[-1]
    eos = kit_tokenizer("generator").eos_token_id
    batch = lesson11._prompt(which, _prompt_ids()).repeat(n, 1)
    torch.manual_seed(seed)
    new = _model().generate(batch, do_sample=True, temperature=t, top_k=k, top_p=p, max_new_tokens=n_new,
                            eos_token_id=eos, pad_token_id=pad)[:, batch.shape[1]:]
    ends = [int((row == eos).nonzero()[0]) + 1 for row in new]  # raises if a row never says EOS
    assert pad != eos and len(set(ends)) == n and new.shape[1] == max(ends) <= n_new - 5, ends
