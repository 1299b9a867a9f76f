"""The capstone's path "from the files alone" (notebook 11, cells tagged ``from-files``) uses no transformers class.

The cells are read as Python (AST), not as text: an import of ``transformers`` (any form), a name or attribute that is
one of its model, tokenizer, pipeline or cache classes (``AutoModel*``, ``AutoTokenizer``, ``pipeline``,
``*ForCausalLM``, ``BertModel``, ...), or a library object the notebook built earlier (a name bound elsewhere in the
notebook from such a call, e.g. ``classifier = pipeline(...)``) fails the test. The section's proofs must be
``assert`` statements whose stored output shows the measured difference, with negative controls.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from course_tools import paths
from helpers.proofs import CAUGHT

NOTEBOOK = paths.notebooks_dir() / "11_putting_it_together.ipynb"
DECODER_LESSON = paths.notebooks_dir() / "10_decoder_by_hand.ipynb"
TAG = "from-files"

FORBIDDEN = re.compile(
    r"^(pipeline|Auto[A-Z]\w*|\w*Pipeline|\w+For[A-Z]\w+|PreTrained\w+|\w*TokenizerFast|TokenizersBackend"
    r"|(Bert|DistilBert|Roberta|Llama|GPT2|Smol\w*|Mistral|Qwen\w*)(Model|Tokenizer|Config)\w*"
    r"|\w*Cache|GenerationConfig|GenerationMixin|\w*LogitsProcessor\w*|\w*LogitsWarper)$"
)


def _source(cell) -> str:
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _names(tree: ast.AST):
    """Every identifier the code names: variables, attributes, imported names, defined names."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.alias):
            yield node.asname or node.name.split(".")[-1]
            yield node.name.split(".")[-1]


def forbidden(source: str, library_objects: frozenset[str] = frozenset()) -> list[str]:
    """What in this code brings a transformers model, tokenizer or pipeline into the path (empty when clean)."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "transformers"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "transformers":
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("__import__",
                                                                                                 "import_module"):
            found += [f"{node.func.id}({a.value!r})" for a in node.args
                      if isinstance(a, ast.Constant) and str(a.value).startswith("transformers")]
    found += sorted({name for name in _names(tree) if FORBIDDEN.match(name)})
    found += sorted({f"library object {name!r}" for name in _names(tree) if name in library_objects})
    return found


def library_objects(cells) -> frozenset[str]:
    """Names the notebook binds (outside the path) to something built by a forbidden call: classifier, model, ..."""
    bound = set()
    for cell in cells:
        for node in ast.walk(ast.parse(_source(cell))):
            if isinstance(node, ast.Assign) and forbidden(ast.unparse(node.value)):
                bound |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return frozenset(bound)


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def _path_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and TAG in c.metadata.get("tags", [])]


def test_the_path_uses_no_transformers_class(notebook):
    path = _path_cells(notebook)
    assert len(path) >= 5, f"expected the sentiment and generation path tagged {TAG!r}, found {len(path)} cells"
    others = [c for c in notebook.cells if c.cell_type == "code" and TAG not in c.metadata.get("tags", [])]
    objects = library_objects(others)
    assert {"classifier", "generator"} <= objects, objects  # the test knows what the notebook built with the library
    for cell in path:
        bad = forbidden(_source(cell), objects)
        assert not bad, f"a {TAG} cell brings the library into the path: {bad}\n{cell.source}"


def test_the_proofs_are_asserts_that_ran(notebook):
    path = _path_cells(notebook)
    asserting = [c for c in path if any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(_source(c))))]
    assert len(asserting) >= 4, "the section's proofs must be assert statements"
    proofs = ["prove_sentiment("] + (["prove_generation("] if DECODER_LESSON.is_file() else [])
    for name in proofs:  # generation from the files needs notebook 10's hand decoder
        assert any(name in c.source for c in path), f"{name[:-1]} is not called in the path"
    controls = [c for c in path if "negative-control" in c.metadata.get("tags", [])]
    assert len(controls) >= 2, "each proof needs a negative control cell"
    for cell in asserting:
        shown = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert cell.outputs and not any(o.output_type == "error" for o in cell.outputs), cell.source
        assert re.search(r"difference|differ|same|failed", shown), f"no measured difference shown:\n{cell.source}"
    for cell in controls:  # the control's own line, or helpers.proofs.must_fail's
        shown = "".join(o.get("text", "") for o in cell.outputs)
        assert "failed, as it must" in shown or f"{CAUGHT} " in shown, cell.source


@pytest.mark.parametrize("source", [
    "from transformers import AutoModelForCausalLM",
    "import transformers",
    "import transformers.models.bert as b",
    "from transformers.pipelines import pipeline as p",
    "m = AutoModel.from_pretrained(path)",
    "t = AutoTokenizer.from_pretrained(path)",
    "clf = pipeline('sentiment-analysis')",
    "body = BertModel(config)",
    "lm = LlamaForCausalLM(config)",
    "x = helpers.something.BertForSequenceClassification",
    "cache = DynamicCache()",
    "mod = __import__('transformers')",
])
def test_the_checker_catches_the_library(source):
    assert forbidden(source), source


def test_the_checker_catches_library_objects():
    objects = library_objects([nbformat.v4.new_code_cell("classifier = pipeline('sentiment-analysis', model=m)")])
    assert objects == {"classifier"}
    assert forbidden("answers = classifier(texts)", objects)
    assert not forbidden("answers = hand_sentiment(texts)", objects)


@pytest.mark.parametrize("source", [
    "from helpers.lessons.tokenizers_by_hand import WordPieceTokenizer, load_byte_level_bpe",
    "from safetensors.torch import load_file\nweights = load_file(folder / 'model.safetensors')",
    "logits = decoder(weights, config, ids, cache)\nprobs = torch.softmax(filter_logits(logits), -1)",
    "from jinja2.sandbox import ImmutableSandboxedEnvironment",
])
def test_the_checker_lets_the_hand_parts_through(source):
    assert not forbidden(source), forbidden(source)
