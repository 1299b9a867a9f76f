"""Exercise checks: each prints one pass line (✅) or one specific hint (💡), never a traceback.

A lesson's checks live in ``helpers.checks.lessonNN`` and are written with the tools of ``helpers.checks.core``::

    @exercise
    def check_probs(softmax):
        x = torch.tensor([[0.0, 1.0], [1000.0, 1001.0]])
        t = as_tensor(call(softmax, x, what="softmax"), "softmax(x)")   # None, a raise, a list of str: all hints
        expect_shape(t, (2, 2), "softmax(x)")
        reject_mistakes(t, [(torch.softmax(x, dim=0), "normalise over the last dimension (dim=-1).")])
        expect_close(t, torch.softmax(x, dim=-1), "softmax(x)", atol=1e-6)
        return "your probabilities match torch.softmax."    # the pass line

Anything the check did not foresee (the learner's function raising, a wrong type deep inside) also becomes a hint.
"""

from .core import (HINT, PASS, CheckResult, Hint, as_int, as_int_rows, as_pairs, as_tensor, call, call_traced, close,
                   exercise, expect, expect_close, expect_equal, expect_finite, expect_match, expect_neg_inf,
                   expect_shape, expect_type, hinted, kit_model, kit_pipeline, kit_tokenizer, reject_mistakes)

__all__ = ["PASS", "HINT", "CheckResult", "Hint", "as_int", "as_int_rows", "as_pairs", "as_tensor", "call",
           "call_traced", "close", "exercise", "expect", "expect_close", "expect_equal", "expect_finite",
           "expect_match", "expect_neg_inf", "expect_shape", "expect_type", "hinted", "kit_model", "kit_pipeline",
           "kit_tokenizer", "reject_mistakes"]
