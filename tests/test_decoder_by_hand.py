"""Notebook 10's ``matvec`` (``helpers.lessons.decoder_by_hand``): one row split across torch's threads, the plain
product otherwise. The oracle is ``x @ w_t``."""

from __future__ import annotations

import pytest
import torch

from helpers.lessons.decoder_by_hand import matvec


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(1, 576), (1, 1, 576), (576,)])
def test_one_row_equals_the_plain_product(threads, n, shape):
    threads(n)
    torch.manual_seed(0)
    x, w_t = torch.randn(shape), torch.randn(576, 960)
    out = matvec(x, w_t)
    assert out.shape == (x @ w_t).shape
    torch.testing.assert_close(out, x @ w_t, rtol=0, atol=1e-4)


def test_the_blocks_are_summed_not_one_taken(threads):
    threads(2)
    torch.manual_seed(0)
    x, w_t = torch.randn(1, 1, 576), torch.randn(576, 64)
    first_block = x[..., :288] @ w_t[:288]  # what a forgotten sum would return
    assert not torch.allclose(matvec(x, w_t), first_block, atol=1e-4)


@pytest.mark.parametrize("x_shape, rows", [((1, 5, 576), 576), ((2, 1, 576), 576), ((1, 1, 577), 577)])
def test_several_rows_or_indivisible_rows_take_the_plain_product(threads, x_shape, rows):
    threads(2)
    torch.manual_seed(0)
    x, w_t = torch.randn(x_shape), torch.randn(rows, 96)
    assert torch.equal(matvec(x, w_t), x @ w_t)  # the same call, so the same bits
