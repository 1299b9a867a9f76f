"""The sentiment fine-tune's shortcut: the last layer computed at [CLS] only equals the library's layer there.

A small random-weight BERT (shapes only, no kit needed): the proof is about the arithmetic, not the weights.
"""

from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from helpers.train_sentiment import cls_only


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, num_labels=2)
    return BertForSequenceClassification(config).eval()


def batch(padded: bool) -> dict[str, torch.Tensor]:
    second = [1, 9, 10, 2, 0, 0] if padded else [1, 9, 10, 11, 12, 2]
    ids = torch.tensor([[1, 5, 6, 7, 8, 2], second])
    return {"input_ids": ids, "attention_mask": (ids != 0).long()}


def pooled(model, enc) -> torch.Tensor:
    with torch.no_grad():
        return model.bert(**enc).pooler_output  # what the classifier reads: tanh(dense(last layer at [CLS]))


def swapped(model, replacement, enc) -> torch.Tensor:
    layers = model.bert.encoder.layer
    full = layers[-1]
    layers[-1] = replacement(full)
    try:
        return pooled(model, enc)
    finally:
        layers[-1] = full


class ClsAlone(torch.nn.Module):
    """The tempting wrong shortcut: run the last layer on the [CLS] vector alone (keys and values from it only)."""

    def __init__(self, full):
        super().__init__()
        self.full = full

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        mask = None if attention_mask is None else attention_mask[:, :, :1, :1]
        return self.full(hidden_states[:, :1], mask)


class MaskDropped(torch.nn.Module):
    """The shortcut without the padding mask: [CLS] attends to the padding too."""

    def __init__(self, full):
        super().__init__()
        self.inner = cls_only(full)

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        return self.inner(hidden_states, None)


@pytest.mark.parametrize("padded", [False, True])
def test_cls_only_equals_the_library_layer_at_cls(model, padded):
    enc = batch(padded)
    assert torch.allclose(swapped(model, cls_only, enc), pooled(model, enc), atol=1e-6)


@pytest.mark.parametrize("wrong", [ClsAlone, MaskDropped])
def test_the_wrong_shortcuts_fail_the_same_proof(model, wrong):
    enc = batch(padded=True)
    assert not torch.allclose(swapped(model, wrong, enc), pooled(model, enc), atol=1e-3)


def test_gradients_match_too(model):
    """Training uses it: the loss's gradient for every weight is the library's."""
    enc, labels = batch(padded=True), torch.tensor([0, 1])

    def grads(replace: bool) -> list[torch.Tensor]:
        model.zero_grad()
        layers = model.bert.encoder.layer
        full = layers[-1]
        if replace:
            layers[-1] = cls_only(full)
        try:
            model(**enc, labels=labels).loss.backward()
        finally:
            layers[-1] = full
        return [p.grad.clone() for p in model.parameters() if p.grad is not None]

    ours, theirs = grads(True), grads(False)
    assert len(ours) == len(theirs)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(ours, theirs))
