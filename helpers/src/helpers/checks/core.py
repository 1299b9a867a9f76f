"""The machinery behind every exercise check (see ``helpers.checks``)."""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

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


def call(fn: Any, *args: Any, what: str = "your function") -> Any:
    """Call the learner's function; its exceptions become a hint."""
    if not callable(fn):
        raise Hint(f"{what} should be a function; got {type(fn).__name__}.")
    try:
        return fn(*args)
    except NotImplementedError:
        raise Hint(f"{what} is not written yet: replace the `raise NotImplementedError` with your code.") from None
    except Exception as exc:
        raise Hint(f"calling {what} raised {type(exc).__name__}: {exc}") from None


def expect_type(value: Any, types: type | tuple[type, ...], what: str) -> Any:
    if value is None:
        raise Hint(f"{what} is still None: fill in the starter cell and run it.")
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        article = "an" if names[0].lower() in "aeiou" else "a"
        raise Hint(f"{what} should be {article} {names}; got {type(value).__name__}.")
    return value


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


def expect_shape(t: Any, shape: Sequence[int], what: str) -> None:
    if tuple(t.shape) != tuple(shape):
        raise Hint(f"{what} has shape {tuple(t.shape)}; expected {tuple(shape)}.")


def expect_close(t: Any, ref: Any, what: str, atol: float = 1e-5) -> None:
    import torch

    t, ref = torch.as_tensor(t).double(), torch.as_tensor(ref).double()
    expect_shape(t, ref.shape, what)
    if not torch.isfinite(t).all():
        raise Hint(f"{what} contains inf or nan: look for an overflow or a division by zero.")
    diff = (t - ref).abs().max().item()
    if diff > atol:
        raise Hint(f"{what} is off by up to {diff:.3g} (allowed {atol:g}).")


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
    import transformers

    from ..models import checkpoint

    return getattr(transformers, auto_class).from_pretrained(checkpoint(entry))


# ---------------------------------------------------------------- appended for lessons 08, 09, 11 (proofs-gen)


def returned(fn: Any, *args: Any, what: str = "your function") -> Any:
    """Call the learner's function like :func:`call`; a result of None gets its own hint (a missing ``return``)."""
    result = call(fn, *args, what=what)
    if result is None:
        raise Hint(f"{what} returned None: its last line should `return` the result (a function without `return` "
                   "gives None).")
    return result


def as_whole_number(value: Any, what: str) -> int:
    """An int from an int, a numpy integer, a one-element integer tensor or a float such as 7.0; a hint otherwise."""
    import numbers

    if hasattr(value, "numel") and value.numel() == 1 and not value.is_floating_point():
        value = value.item()
    elif hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalars and 0-d arrays
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expect_type(value, int, what)  # None -> "still None"; otherwise names the wrong type
        raise Hint(f"{what} should be a whole number; got {value!r}.")
    return int(value)


def expect_removed_at_minus_inf(mine: Any, removed: Any, what: str) -> None:
    """Tokens a filter removes must hold -inf: specific hints for the seed's zeros, a large finite number, +inf, nan."""
    import torch

    if mine.isnan().any():
        raise Hint(f"{what} contains nan: fill removed tokens with float('-inf'), and never compute inf - inf.")
    if (mine == float("inf")).any():
        raise Hint(f"{what} contains +inf: removed tokens get -inf (minus infinity), kept ones keep their logit.")
    if not removed.any() or torch.isneginf(mine[removed]).all():
        return
    held = mine[removed]
    if (held == 0).sum() > held.numel() // 2:
        raise Hint(f"{what}: removed tokens hold 0 instead of -inf. That is the seed's bug: softmax gives each of them "
                   "weight exp(0) = 1. Start from torch.full_like(logits, float('-inf')), or use masked_fill.")
    finite_low = torch.isfinite(held) & (held <= -1e4)
    if finite_low.sum() > held.numel() // 2:
        raise Hint(f"{what}: removed tokens hold a large finite number ({held[finite_low][0].item():.3g}) instead of "
                   "-inf. Softmax then gives them almost 0, not 0, and the result is not what generate computes: "
                   "use float('-inf'), exactly as transformers does.")
