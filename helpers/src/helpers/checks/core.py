"""The machinery behind every exercise check (see ``helpers.checks``).

Three layers, used by every ``lessonNN`` module:

- running a check: :func:`exercise` (one ✅ or 💡 line, never a traceback), :class:`Hint`, :func:`expect`,
  :func:`call` (the learner's function: its errors, ``NotImplementedError`` and a forgotten ``return`` become hints),
  :func:`call_traced` (the same, and a torch operation that fails inside gets the hint of the slip its shapes show);
- reading an answer: :func:`expect_type`, :func:`as_int`, :func:`as_tensor`, :func:`as_int_rows`, :func:`as_pairs`;
- comparing it: :func:`expect_shape` (with hints for known wrong shapes), :func:`expect_finite`, :func:`close`,
  :func:`expect_close`, :func:`reject_mistakes` (the typical wrong versions, each with its own hint),
  :func:`expect_match` (equal to a reference, else the hint of the mistake it reproduces), :func:`expect_neg_inf`
  (removed entries must be ``-inf``, with hints for the seed's zeros and a large finite number), :func:`expect_equal`;
- the kit, loaded once per kernel and shared by every check: :func:`kit_tokenizer`, :func:`kit_model`,
  :func:`kit_forward` (a model's outputs on a batch of texts), :func:`kit_pipeline`.
"""

from __future__ import annotations

import functools
import numbers
import operator
from typing import Any, Callable, Iterable, Mapping, Sequence

PASS = "✅ Passed:"
HINT = "💡 Hint:"


class Hint(Exception):
    """Raised inside a check to print a hint instead of a pass line."""


class CheckResult:
    """What a check returns: truthy on a pass. It displays nothing in a notebook (the printed line says it all)."""

    def __init__(self, passed: bool) -> None:
        self.passed = passed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


def exercise(check: Callable[..., str]) -> Callable[..., CheckResult]:
    """Turn a check that returns a pass message (or raises :class:`Hint`) into one that prints a single line.

    The wrapped check returns a :class:`CheckResult`, truthy on a pass, so it can be used in code too.
    """

    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> CheckResult:
        try:
            message = check(*args, **kwargs)
        except Hint as h:
            print(f"{HINT} {h}")
            return CheckResult(False)
        except Exception as exc:  # a check must never show a traceback
            print(f"{HINT} checking your answer raised {type(exc).__name__}: {exc}. Look at its type and shape.")
            return CheckResult(False)
        print(f"{PASS} {message}")
        return CheckResult(True)

    return run


def expect(condition: bool, hint: str) -> None:
    if not condition:
        raise Hint(hint)


def call(fn: Any, *args: Any, what: str = "your function", allow_none: bool = False, **kwargs: Any) -> Any:
    """Call the learner's function; its exceptions become a hint, and so does a result of None (a forgotten
    ``return``) unless ``allow_none`` (for functions whose answer may be None)."""
    if not callable(fn):
        raise Hint(f"{what} should be a function; got {type(fn).__name__}.")
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError:
        raise Hint(f"{what} is not written yet: replace the `raise NotImplementedError` with your code.") from None
    except Exception as exc:
        raise Hint(f"calling {what} raised {type(exc).__name__}: {exc}") from None
    if result is None and not allow_none:
        raise Hint(f"{what} returned None: did you forget `return`?")
    return result


def keepdim_slip(x_shape: tuple[int, ...], reductions: str, of: str) -> Callable[[str, list, Exception], str | None]:
    """A ``slip`` for :func:`call_traced`: ``reductions`` (e.g. "max(dim=-1) and sum(dim=-1)") that dropped the
    last axis of ``of`` (e.g. "the logits"), of shape ``x_shape``, so the result no longer lines up with it."""
    dropped = x_shape[:-1]

    def slip(op: str, shapes: list, error: Exception) -> str | None:
        if x_shape in shapes and dropped in shapes and dropped:
            return (f"{reductions} drop the last axis: a {dropped} result cannot line up with {of} {x_shape}. "
                    f"Keep it with keepdim=True, {dropped + (1,)}.")
        return None

    return slip


def call_traced(fn: Any, *args: Any, what: str, slip: Callable[[str, list, Exception], str | None]) -> Any:
    """``call(fn, *args)``; when a torch operation inside ``fn`` fails, the hint ``slip(operation, shapes, error)``
    gives for it instead of the raw error (``None`` keeps :func:`call`'s "raised ..." hint). ``operation`` is the
    failing operation's name (``"__matmul__"``, ``"masked_fill"``), ``shapes`` its tensor operands' shapes."""
    import warnings

    import torch
    from torch.overrides import TorchFunctionMode

    failures: list[tuple[str, list, Exception]] = []

    class Trace(TorchFunctionMode):  # sees every torch operation fn runs (not the ones nested inside them)
        def __torch_function__(self, func, types, args=(), kwargs=None):
            try:
                return func(*args, **(kwargs or {}))
            except Exception as exc:
                if not failures:
                    shapes = [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)]
                    failures.append((getattr(func, "__name__", str(func)), shapes, exc))
                raise

    try:
        with Trace(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # k.T on a 4-D tensor warns; the hint says it instead
            return call(fn, *args, what=what)
    except Hint:
        hint = slip(*failures[0]) if failures else None
        if hint:
            raise Hint(hint) from None
        raise


def _is_int(value: Any) -> bool:
    """An integer of any kind (Python, numpy, a 0-d torch integer tensor), not a bool."""
    if isinstance(value, bool) or "bool" in str(getattr(value, "dtype", type(value).__name__)):
        return False
    try:  # Python, numpy and torch integers (and 0-d integer tensors) all have __index__
        operator.index(value)
    except TypeError:
        return False
    return True


def as_int(value: Any, what: str, whole_floats: bool = False) -> int:
    """A Python int from any integer (numpy.int64, a 0-d or one-element torch tensor, ...); a hint for None, bool,
    str and floats. With ``whole_floats``, a float such as 7.0 (or a 0-d float array or tensor) counts too."""
    if value is None:
        raise Hint(f"{what} is still None: fill in the starter cell and run it.")
    if getattr(value, "ndim", None) == 0 or (hasattr(value, "numel") and value.numel() == 1):
        value = value.item()  # numpy scalars, 0-d arrays, one-element tensors
    if whole_floats and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_int(value):
        if isinstance(value, float) and value.is_integer():
            raise Hint(f"{what} is the float {value!r}: give a whole number (an int), e.g. int({value!r}).")
        raise Hint(f"{what} should be an int; got {type(value).__name__}.")
    return operator.index(value)


def expect_type(value: Any, types: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is one of ``types``; a hint otherwise. Where ``int`` is asked, any integer counts (numpy,
    torch) and comes back as a Python int; ``float`` likewise accepts any real number (not a bool)."""
    if value is None:
        raise Hint(f"{what} is still None: fill in the starter cell and run it.")
    wanted = types if isinstance(types, tuple) else (types,)
    if isinstance(value, wanted) and not (isinstance(value, bool) and bool not in wanted):
        return value
    if int in wanted and _is_int(value):
        return operator.index(value)
    if float in wanted and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    names = " or ".join(t.__name__ for t in wanted)
    article = "an" if names[0].lower() in "aeiou" else "a"
    raise Hint(f"{what} should be {article} {names}; got {type(value).__name__}.")


def as_tensor(value: Any, what: str) -> Any:
    """A torch tensor from a tensor, numpy array or list of numbers; a hint otherwise."""
    import torch

    if value is None:
        raise Hint(f"{what} is still None: fill in the starter cell and run it.")
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        return torch.as_tensor(value)
    except Exception:
        raise Hint(f"{what} should be a tensor (or numbers); got {type(value).__name__}.") from None


def as_int_rows(value: Any, what: str, values: str = "numbers") -> list[list[int]]:
    """A 2-D batch (list of lists, tensor or array; bools count as 0/1) as lists of Python ints, or a hint."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in value):
        raise Hint(f"{what} should give one row of {values} per sequence (2-D); got {type(value).__name__}.")
    try:
        return [[int(x) for x in row] for row in value]
    except (TypeError, ValueError):
        raise Hint(f"{what} should hold {values} only.") from None


def as_pairs(value: Any, what: str, kinds: str = "(start, end) pairs") -> list[tuple[Any, Any]]:
    """A list of 2-item pairs (tuples, lists, rows of a tensor), or a hint naming what was expected."""
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()
    try:
        pairs = [tuple(item) for item in value]
    except TypeError:
        raise Hint(f"{what} should be a list of {kinds}; got {type(value).__name__}.") from None
    if not all(len(p) == 2 for p in pairs):
        raise Hint(f"{what} should be a list of {kinds}: each item has two parts.")
    return pairs


def expect_shape(t: Any, shape: Sequence[int], what: str, hints: Mapping[tuple[int, ...], str] | None = None) -> None:
    """``t`` has ``shape``; a known wrong shape gets its own hint from ``hints`` ({wrong shape: hint})."""
    got = tuple(t.shape)
    if got == tuple(shape):
        return
    if hints and got in hints:
        raise Hint(hints[got])
    raise Hint(f"{what} has shape {got}; expected {tuple(shape)}.")


def expect_finite(t: Any, what: str, hint: str | None = None) -> None:
    import torch

    if not bool(torch.isfinite(torch.as_tensor(t)).all()):
        raise Hint(hint or f"{what} contains inf or nan: look for an overflow or a division by zero.")


def close(a: Any, b: Any, atol: float = 1e-6) -> bool:
    """Same shape and equal within ``atol`` (matching infinities count as equal; nan never does)."""
    import torch

    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return a.shape == b.shape and bool(torch.isclose(a, b, rtol=0.0, atol=atol).all())


def expect_close(t: Any, ref: Any, what: str, atol: float = 1e-5, hint: str | None = None) -> None:
    """``t`` equals ``ref`` within ``atol`` (same shape, finite). ``hint`` replaces the default "off by" sentence;
    it may use ``{diff}``, the largest difference."""
    import torch

    t, ref = torch.as_tensor(t).double(), torch.as_tensor(ref).double()
    expect_shape(t, ref.shape, what)
    finite = torch.isfinite(ref)
    if not bool((torch.isfinite(t) == finite).all()):
        raise Hint(f"{what} contains inf or nan: look for an overflow or a division by zero.")
    if not bool((t[~finite] == ref[~finite]).all()):
        raise Hint(f"{what} has the wrong infinities: -inf and inf must stay where they are.")
    diff = (t[finite] - ref[finite]).abs().max().item() if bool(finite.any()) else 0.0
    if diff > atol:
        raise Hint((hint or "{what} is off by up to {diff:.3g} (allowed {atol:g}).").format(
            what=what, diff=diff, atol=atol))


def reject_mistakes(t: Any, mistakes: Iterable[tuple[Any, str]], reference: Any = None, atol: float = 1e-6) -> None:
    """The typical wrong versions, each with its own hint: raise the hint of the first ``(wrong result, hint)`` that
    ``t`` equals (a wrong result may be given as a function of no arguments, computed only when reached). A wrong
    result that happens to equal ``reference`` on this input is skipped (it cannot tell)."""
    for wrong, hint in mistakes:
        wrong = wrong() if callable(wrong) else wrong
        if reference is not None and close(wrong, reference, atol):
            continue
        if close(t, wrong, atol):
            raise Hint(hint)


def hinted(mistakes: Mapping[str, Any], hints: Mapping[str, str]) -> list[tuple[Any, str]]:
    """``(wrong result, hint)`` pairs for :func:`reject_mistakes` from two tables keyed by the mistake's name."""
    return [(wrong, hints[name]) for name, wrong in mistakes.items()]


def expect_match(t: Any, reference: Any, what: str, mistakes: Iterable[tuple[Any, str]] = (), atol: float = 1e-5,
                 hint: str | None = None) -> None:
    """``t`` equals ``reference`` within ``atol``; if not, the hint of the typical mistake it reproduces
    (:func:`reject_mistakes`), else :func:`expect_close`'s (a wrong shape, or ``hint`` with ``{diff}``)."""
    if close(t, reference, atol):
        return
    reject_mistakes(t, mistakes, reference, atol)
    expect_close(t, reference, what, atol=atol, hint=hint)


def expect_neg_inf(t: Any, removed: Any, what: str, hint: str | None = None, fill_only: bool = False) -> None:
    """Every entry where ``removed`` is True must be ``-inf`` (probability exactly 0 after softmax), with specific
    hints for nan, +inf, the seed's zeros and a large finite number; ``hint`` replaces the general one. With
    ``fill_only`` (a filter compared with the library's), other finite values there are left to the caller: they
    mean the learner kept other tokens, not that removed ones were filled wrongly."""
    import torch

    t, removed = torch.as_tensor(t), torch.as_tensor(removed, dtype=torch.bool)
    if t.isnan().any():
        raise Hint(f"{what} contains nan: fill removed tokens with float('-inf'), and never compute inf - inf.")
    if (t == float("inf")).any():
        raise Hint(f"{what} contains +inf: removed tokens get -inf (minus infinity), kept ones keep their logit.")
    gone = t[removed]
    if bool((gone == float("-inf")).all()):
        return
    if (gone == 0).sum() > gone.numel() // 2:
        raise Hint(f"{what}: removed tokens hold 0 instead of -inf. That is the seed's bug: softmax gives each of them "
                   "weight exp(0) = 1. Start from torch.full_like(logits, float('-inf')), or use masked_fill.")
    finite_low = torch.isfinite(gone) & (gone <= -1e4)
    if finite_low.sum() > gone.numel() // 2:
        raise Hint(f"{what}: removed tokens hold a large finite number ({gone[finite_low][0].item():.3g}) instead of "
                   "-inf. In float32 softmax gives them exactly 0 too (exp underflows below about -104), but the "
                   "filtered logits are compared with what transformers' processors return, and those write -inf "
                   "(their filter_value): use float('-inf').")
    if fill_only:
        return
    sample = sorted({float(v) for v in gone[gone != float("-inf")][:3].tolist()})
    raise Hint(hint or f"{what}: removed entries must be -inf, so softmax gives them probability 0 exactly; "
                       f"found {sample}.")


def expect_equal(value: Any, ref: Any, what: str) -> None:
    if value != ref:
        raise Hint(f"{what} is {value!r}; that is not it yet.")


# ---------------------------------------------------------------- the kit's models, shared by every check


@functools.lru_cache(maxsize=None)
def kit_tokenizer(entry: str) -> Any:
    """The tokenizer of a kit entry, loaded once per kernel and shared by every check."""
    from transformers import AutoTokenizer

    from ..models import checkpoint

    return AutoTokenizer.from_pretrained(checkpoint(entry))


@functools.lru_cache(maxsize=2)
def kit_model(entry: str, auto_class: str) -> Any:
    """A kit entry loaded with a transformers Auto class (named by ``auto_class``), once per kernel for every check."""
    import torch
    import transformers

    from ..models import checkpoint

    # float32 even from a bfloat16 file (the Hub's generator), as the lessons load it
    return getattr(transformers, auto_class).from_pretrained(checkpoint(entry), dtype=torch.float32)


@functools.lru_cache(maxsize=4)
def kit_forward(entry: str, auto_class: str, texts: tuple[str, ...]) -> tuple[Any, Any]:
    """``(outputs, inputs)`` of a kit model on a batch of texts (padded, truncated, no gradients), computed once per
    kernel. They are shared: pass the learner copies (``.clone()``), never the cached tensors."""
    import torch

    inputs = kit_tokenizer(entry)(list(texts), padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return kit_model(entry, auto_class)(**inputs), inputs


@functools.lru_cache(maxsize=2)
def kit_pipeline(task: str, entry: str) -> Any:
    """``pipeline(task)`` on a kit entry, built once per kernel from the shared tokenizer and model."""
    from transformers import pipeline

    auto = {"sentiment-analysis": "AutoModelForSequenceClassification", "text-classification":
            "AutoModelForSequenceClassification", "text-generation": "AutoModelForCausalLM"}[task]
    return pipeline(task, model=kit_model(entry, auto), tokenizer=kit_tokenizer(entry))
