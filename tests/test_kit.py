"""The offline kit: real pretrained behaviour, provenance, and one-sentence errors."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch

from helpers.errors import HubError, KitError
from helpers.models import MODELS, checkpoint, checkpoint_folder, kit_folder, manifest, manifest_table

COURSE_SENTENCES = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]


def test_sentiment_pipeline_labels_the_course_sentences(kit):
    from transformers import pipeline

    clf = pipeline("sentiment-analysis", model=checkpoint("sentiment"))
    labels = [r["label"] for r in clf(COURSE_SENTENCES)]
    assert labels == ["POSITIVE", "NEGATIVE"]


def test_sentiment_records_heldout_accuracy(kit):
    training = manifest()["sentiment"]["training"]
    assert training["heldout_size"] > 1000
    assert training["heldout_accuracy"] >= 0.85


def test_sentiment_built_by_the_current_recipe(kit):
    """The kit's record names the recipe of helpers.train_sentiment.train (a kit built by an older one is stale)."""
    import inspect

    from helpers.train_sentiment import train

    defaults = {k: p.default for k, p in inspect.signature(train).parameters.items() if p.default is not p.empty}
    training = manifest()["sentiment"]["training"]
    recorded = {"epochs": training["epochs"], "batch_size": training["batch_size"], "lr": training["learning_rate"],
                "threads": training["threads"], "frozen_layers": training.get("frozen_layers"),
                "warmup": training.get("warmup"), "max_length": training.get("max_length"),
                "cls_last": training.get("last_layer_at_cls_only"), "dropout": training.get("dropout"),
                "train_fraction": training.get("train_fraction")}
    stale = "the kit's sentiment model is stale: python -m helpers.kit --force sentiment"
    assert recorded == {k: defaults[k] for k in recorded}, stale


def test_encoder_tokenizer_reproduces_bert_base_uncased_ids(kit):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(checkpoint("encoder"))
    # bert-base-uncased ids for the course sentence, as printed in the Hugging Face course (chapter 2).
    assert tok(COURSE_SENTENCES[0])["input_ids"] == [
        101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102]
    assert tok(COURSE_SENTENCES[1])["input_ids"] == [101, 1045, 5223, 2023, 2061, 2172, 999, 102]
    assert len(tok) == 30522


def test_encoder_is_minilm(kit):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(checkpoint("encoder"))
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6
    assert 22_000_000 < sum(p.numel() for p in model.parameters()) < 23_000_000


def test_generator_says_paris(kit):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(checkpoint("generator"))
    model = AutoModelForCausalLM.from_pretrained(checkpoint("generator"))
    with torch.no_grad():
        logits = model(**tok("The capital of France is", return_tensors="pt")).logits
    assert tok.decode(logits[0, -1].argmax()) == " Paris"
    assert tok.chat_template, "the instruct model needs its chat template"


def test_generator_is_plain_safetensors(kit):
    files = {p.name for p in (kit / "generator").iterdir()}
    assert "model.safetensors" in files
    assert not any(f.endswith((".bin", ".gguf", ".pt")) for f in files)
    config = json.loads((kit / "generator" / "config.json").read_text())
    assert "quantization_config" not in config


def test_gpt2_tokenizer_hello_world(kit):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(checkpoint("gpt2-tokenizer"))
    assert tok("Hello world")["input_ids"] == [15496, 995]
    assert len(tok) == 50257


def test_manifest_records_provenance(kit):
    m = manifest()
    assert set(m) == set(MODELS)
    for name, rec in m.items():
        for key in ("package", "version", "source_sha256", "file_used_sha256", "license", "stands_in_for"):
            assert rec[key], (name, key)
    table = manifest_table()
    assert [r["name"] for r in table] == list(MODELS)
    assert "stands in for" in repr(table)


def test_unknown_name_is_one_sentence():
    with pytest.raises(KitError, match="Unknown model 'gpt5'.*encoder"):
        checkpoint("gpt5")
    with pytest.raises(KitError, match="as a string"):
        checkpoint(None)  # type: ignore[arg-type]


def test_missing_kit_says_make_models(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    with pytest.raises(KitError, match="make models"):
        checkpoint("encoder")


def test_corrupt_kit_is_detected(kit, tmp_path, monkeypatch):
    shutil.copytree(kit / "gpt2-tokenizer", tmp_path / "gpt2-tokenizer")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    assert checkpoint("gpt2-tokenizer")
    with open(tmp_path / "gpt2-tokenizer" / "tokenizer.json", "r+b") as f:
        f.truncate(100)
    with pytest.raises(KitError, match="corrupt.*make models"):
        checkpoint("gpt2-tokenizer")


def test_hub_mode_without_network_is_one_sentence(monkeypatch):
    monkeypatch.setenv("COURSE_MODELS", "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")
    with pytest.raises(HubError, match="COURSE_MODELS=local"):
        checkpoint("generator")


def stand_in_hub(home, entry, files):
    """A Hugging Face cache under ``home`` holding one snapshot of ``entry``'s Hub original with ``files``
    ({name: bytes}): what a learner's cache looks like after Hub mode downloaded it."""
    repo = home / "hub" / ("models--" + MODELS[entry].hub_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    for name, data in files.items():
        (repo / "snapshots" / ("0" * 40) / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / "snapshots" / ("0" * 40) / name).write_bytes(data)


def use_stand_in_hub(home, monkeypatch):
    """Hub mode, offline, on the cache under ``home`` (huggingface_hub reads its environment once, at import)."""
    from huggingface_hub import constants

    monkeypatch.setenv("COURSE_MODELS", "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))


def test_hub_mode_reads_files_by_hand_from_the_hub_snapshot(tmp_path, monkeypatch, kit):
    """Lessons that open files by hand get a folder in either mode: Hub mode's is the Hub snapshot (with its weights
    when asked), and kit_folder is the kit's own entry whatever the mode (notebook 12's subject is the kit's file)."""
    stand_in_hub(tmp_path, "generator", {"config.json": b"{}", "model.safetensors": b"weights"})
    use_stand_in_hub(tmp_path, monkeypatch)
    import huggingface_hub

    asked, download = [], huggingface_hub.snapshot_download
    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda repo, **kw: asked.append(kw.get("allow_patterns")) or download(repo, **kw))
    assert checkpoint("generator") == MODELS["generator"].hub_id
    folder = checkpoint_folder("generator", weights=True)
    assert folder.is_relative_to(tmp_path) and (folder / "model.safetensors").read_bytes() == b"weights"
    checkpoint_folder("generator")
    with_weights, without = [patterns for patterns in asked if patterns]  # (None: checkpoint() looking in the cache)
    assert "*.safetensors" in with_weights and "*.safetensors" not in without  # the weights only when asked
    assert kit_folder("generator") == kit / "generator"
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "no-kit"))
    with pytest.raises(KitError, match="make models"):
        kit_folder("generator")


def test_hub_mode_refuses_by_hand_weights_of_another_model(tmp_path, monkeypatch):
    """The sentiment entry's Hub original is a DistilBERT, not the kit's fine-tuned MiniLM: the lessons that read
    the kit's weights by hand say in one sentence to use the kit, instead of failing on a missing tensor name."""
    stand_in_hub(tmp_path, "sentiment", {"config.json": b"{}"})
    use_stand_in_hub(tmp_path, monkeypatch)
    assert (checkpoint_folder("sentiment") / "config.json").is_file()  # its files, for reading: fine
    with pytest.raises(HubError, match=r"another model: set COURSE_MODELS=local"):
        checkpoint_folder("sentiment", weights=True)


def test_bad_mode(monkeypatch):
    monkeypatch.setenv("COURSE_MODELS", "cloud")
    with pytest.raises(KitError, match="'local'.*'hub'"):
        checkpoint("encoder")


def test_every_entry_loads_from_safetensors_without_remote_code(kit, monkeypatch):
    """Load every kit entry the way the lessons do, with pickle loading (torch.load) and remote code (transformers'
    dynamic modules) made to fail: the course loads weights only from safetensors and never runs a model's code."""
    import sys

    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    def refuse(what):
        return lambda *a, **k: pytest.fail(f"{what} was called while loading the kit")

    monkeypatch.setattr(torch, "load", refuse("torch.load (pickle)"))
    patched = [n for n, m in list(sys.modules.items())
               if n.startswith("transformers") and hasattr(m, "get_class_from_dynamic_module")]
    for name in patched:  # each Auto class imported it by name
        monkeypatch.setattr(sys.modules[name], "get_class_from_dynamic_module", refuse("remote code"))
    assert {"transformers.models.auto.auto_factory", "transformers.models.auto.tokenization_auto"} <= set(patched)
    loaders = {"encoder": AutoModel, "sentiment": AutoModelForSequenceClassification,
               "generator": AutoModelForCausalLM, "gpt2-tokenizer": None, "movie-reviews": None}
    assert set(loaders) == set(MODELS)
    for name, auto in loaders.items():
        files = {p.suffix for p in (kit / name).rglob("*") if p.is_file()}
        assert not files & {".bin", ".pt", ".pth", ".pkl", ".gguf", ".py"}, (name, files)
        if name == "movie-reviews":  # a corpus: text only, nothing to load as a model or tokenizer
            assert files == {".json"}, files
            continue
        assert "auto_map" not in (kit / name / "tokenizer_config.json").read_text(), name
        AutoTokenizer.from_pretrained(checkpoint(name))
        if auto is not None:
            assert "auto_map" not in json.loads((kit / name / "config.json").read_text()), name
            auto.from_pretrained(checkpoint(name))


def test_the_table_is_whole():
    """One record per entry: what it is made from comes first, every field is filled, every entry has a builder."""
    from helpers import kit as kitmod

    assert list(kitmod.BUILDERS) == list(MODELS)
    seen = set()
    for name, entry in MODELS.items():
        filled = {k: v for k, v in vars(entry).items() if v != () and k != "hub_id"}  # hub_id "": no Hub original
        assert entry.name == name and all(str(v) for v in filled.values()), name
        assert set(entry.depends_on) <= seen, f"{name} is listed before what it is built from"
        assert entry.version in entry.file and len(entry.sha256) == 64
        seen.add(name)


def test_building_an_entry_builds_what_it_is_made_from(tmp_path, monkeypatch):
    """`python -m helpers.kit sentiment` on an empty cache must build the encoder first (sentiment is fine-tuned
    from it); fake builders record the order without downloading or training anything."""
    from helpers import kit as kitmod

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    built = []
    for name in kitmod.BUILDERS:
        monkeypatch.setitem(kitmod.BUILDERS, name, lambda staging, name=name: built.append(name) or {})
    monkeypatch.setattr(kitmod, "_publish", lambda staging, name, record: None)
    monkeypatch.setattr(kitmod, "_write_manifest", lambda: None)

    assert kitmod.with_dependencies(["sentiment"]) == ["encoder", "sentiment"]
    assert kitmod.with_dependencies(["generator"]) == ["generator"]
    kitmod.build(["sentiment"])
    assert built == ["encoder", "sentiment"]


def test_the_readme_names_the_kit_table_pins():
    """The README's kit table is written by hand: it must name each entry's package at the table's version."""
    from course_tools import paths

    readme = (paths.root() / "README.md").read_text()
    for name, entry in MODELS.items():
        assert re.search(rf"^\| `{re.escape(name)}` \|.*`{re.escape(entry.pin)}`", readme, re.M), \
            f"README's kit table: {name} should say `{entry.pin}`"


def test_notebook_10_runs_in_hub_mode_on_a_bfloat16_file(tmp_path, monkeypatch, kit):
    """Hub mode without the Hub: a stand-in cache holding the kit's generator in bfloat16 (as the Hub's original is
    stored) and its encoder, and notebook 10, which opens the weights by hand and proves itself against the library,
    run on it top to bottom. It must read the stand-in's files and pass every proof in float32."""
    import nbformat
    from safetensors.torch import load_file, save

    from course_tools import paths
    from course_tools.notebooks import run

    weights = {k: v.to(torch.bfloat16) for k, v in load_file(kit / "generator" / "model.safetensors").items()}
    config = json.loads((kit / "generator" / "config.json").read_text()) | {"dtype": "bfloat16"}
    files = {f.name: f.read_bytes() for f in (kit / "generator").iterdir() if f.name != "kit-entry.json"}
    stand_in_hub(tmp_path, "generator", files | {"model.safetensors": save(weights, metadata={"format": "pt"}),
                                                 "config.json": json.dumps(config).encode()})
    del weights
    stand_in_hub(tmp_path, "encoder", {f.name: f.read_bytes() for f in (kit / "encoder").iterdir()})
    for name, value in {"COURSE_MODELS": "hub", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)  # the notebook's kernel inherits them
    read_from = []

    def after(index, cell, execute):
        if "generator_dir = " in cell.source and not read_from:
            read_from.append("".join(o.get("text", "") for o in execute("print(generator_dir)").outputs).strip())

    result = run(nbformat.read(paths.root() / "notebooks" / "10_decoder_by_hand.ipynb", as_version=4),
                 paths.root() / "notebooks", timeout=600, after_cell=after)
    assert result["error"] is None, result["error"]
    assert read_from and read_from[0].startswith(str(tmp_path)), read_from
