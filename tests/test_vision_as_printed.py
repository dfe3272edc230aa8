"""thesis_lib.vision_as_printed: chapter 1.3's formulas (1.7)-(1.10) as printed, against PyTorch's conv2d and
pooling shifted by the printed index (m + i, n + j with 1-based i, j), and the out-of-domain reads they make."""

import re

import pytest
import torch
import torch.nn.functional as F

from thesis_lib import vision as V
from thesis_lib import vision_as_printed


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_formula_1_7_as_written_overruns_and_otherwise_skips_the_first_row_and_column():
    x, k = _rand(7, 6), _rand(3, 3, seed=1)
    with pytest.raises(IndexError, match=r"\(1\.7\) reads \(ψ0\)_\{2,7\}, outside the pixel domain "
                                         r"\{1,...,7\}×\{1,...,6\}"):
        vision_as_printed.cross_correlate_as_written(x, k)
    inside = vision_as_printed.cross_correlate_as_written(x, k, out_shape=(4, 3))
    torch.testing.assert_close(inside, F.conv2d(x[None, None], k[None, None])[0, 0, 1:, 1:])


def test_formula_1_8_as_written_overruns_and_otherwise_skips_the_first_row_and_column():
    x = _rand(6, 7)
    with pytest.raises(IndexError, match=r"\(1\.8\) reads \(ψ0\)_\{2,8\}, outside the pixel domain "
                                         r"\{1,...,6\}×\{1,...,7\}"):
        vision_as_printed.average_pool_as_written(x, 2, 3)
    inside = vision_as_printed.average_pool_as_written(x, 2, 3, out_shape=(4, 4))
    torch.testing.assert_close(inside, F.avg_pool2d(x[None], (2, 3), stride=1)[0, 1:, 1:])


def test_formulas_1_9_and_1_10_as_written_are_constant():
    x = _rand(8, 9)
    low, high = vision_as_printed.min_pool_as_written(x, 2, 3), vision_as_printed.max_pool_as_written(x, 2, 3)
    assert low.shape == high.shape == (7, 7)
    assert torch.all(low == x[:2, :3].min()) and torch.all(high == x[:2, :3].max())
    assert not torch.equal(high, V.max_pool(x[None], 2, 3)[0])


def test_formula_1_7_with_a_1x1_kernel_reads_the_image_shifted_by_one_pixel():
    """s = 1: (ψ1)_ij = (ψ0)_{1+i, 1+j} k_11, so the result is the image without its first row and column."""
    x = _rand(5, 4)
    inside = vision_as_printed.cross_correlate_as_written(x, torch.tensor([[2.0]], dtype=torch.float64),
                                                          out_shape=(4, 3))
    torch.testing.assert_close(inside, 2 * x[1:, 1:], rtol=0, atol=0)
    with pytest.raises(IndexError, match=r"^\(1\.7\) reads \(ψ0\)_\{2,5\}, outside the pixel domain "
                                         r"\{1,\.\.\.,5\}×\{1,\.\.\.,4\}$"):
        vision_as_printed.cross_correlate_as_written(x, torch.tensor([[2.0]], dtype=torch.float64))


def test_formula_1_8_reads_exactly_the_window_it_names():
    """Only the window at (1 + i, 1 + j) enters (ψ1)_ij: a spike at pixel (r, c) (1-based) changes the outputs
    with r - p1 ≤ i ≤ r - 1 and c - p2 ≤ j ≤ c - 1, by spike/(p1 p2), and no other."""
    x = torch.zeros(6, 7, dtype=torch.float64)
    x[3, 4] = 6.0  # pixel (4, 5) in the formula's 1-based indices
    out = vision_as_printed.average_pool_as_written(x, 2, 3, out_shape=(4, 4))
    expected = torch.zeros(4, 4, dtype=torch.float64)
    expected[4 - 2 - 1:4 - 1, 5 - 3 - 1:5 - 1] = 1.0  # i in {2, 3}, j in {2, 3, 4}, 1-based
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_formulas_keep_the_images_dtype(dtype):
    x = _rand(5, 5).to(dtype)
    assert vision_as_printed.cross_correlate_as_written(x, torch.ones(2, 2), out_shape=(3, 3)).dtype == dtype
    assert vision_as_printed.average_pool_as_written(x, 2, 2, out_shape=(3, 3)).dtype == dtype
    assert vision_as_printed.max_pool_as_written(x, 2, 2).dtype == vision_as_printed.min_pool_as_written(x, 2, 2).dtype


def test_min_and_max_as_written_take_integer_images_and_read_only_the_first_window():
    x = torch.randint(0, 256, (5, 6), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    low, high = vision_as_printed.min_pool_as_written(x, 3, 2), vision_as_printed.max_pool_as_written(x, 3, 2)
    assert low.dtype == high.dtype == torch.uint8 and low.shape == high.shape == (3, 5)
    assert torch.all(low == x[:3, :2].min()) and torch.all(high == x[:3, :2].max())


def test_images_with_other_than_two_axes_and_integer_images_are_refused():
    for image in (torch.zeros(1, 4, 4), torch.zeros(4)):
        with pytest.raises(ValueError, match=rf"^image\.shape={re.escape(str(tuple(image.shape)))} is not allowed; "
                                             r"the literal formulas take one channel \(M, N\)$"):
            vision_as_printed.max_pool_as_written(image, 2, 2)
    with pytest.raises(ValueError, match=r"^image\.dtype=torch\.uint8 is not allowed; convert with \.float\(\) first"):
        vision_as_printed.cross_correlate_as_written(torch.zeros(4, 4, dtype=torch.uint8), torch.ones(2, 2))
    with pytest.raises(ValueError, match=r"^image\.dtype=torch\.int64 is not allowed"):
        vision_as_printed.average_pool_as_written(torch.zeros(4, 4, dtype=torch.int64), 2, 2)
