"""Exercise checks: each prints one pass line (✅) or one specific hint (💡), never a traceback.

A lesson's checks live in ``helpers.checks.lessonNN`` and are written with the tools here::

    @exercise
    def check_probs(probs):
        t = as_tensor(probs, "probs")                       # a hint if it is None, a list of str, ...
        expect_shape(t, (2, 2), "probs")
        expect_close(t, reference, "probs", atol=1e-4)
        return "your probabilities match torch.softmax."    # the pass line

Anything the check did not foresee (the learner's function raising, a wrong type deep inside) also becomes a hint.
"""

from .core import (PASS, HINT, CheckResult, Hint, as_tensor, call, exercise, expect, expect_close, expect_equal,
                   expect_shape, expect_type)

__all__ = ["PASS", "HINT", "CheckResult", "Hint", "as_tensor", "call", "exercise", "expect", "expect_close",
           "expect_equal", "expect_shape", "expect_type"]
