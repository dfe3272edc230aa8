"""thesis_lib.vision against PyTorch's own ops, NumPy and closed forms (thesis §1.3)."""

import functools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from thesis_lib import vision as V

SETTINGS = settings(max_examples=60, deadline=None)


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- Def 1.3.1, Remark 1.3.2 -----------------------------------------------------------------

def test_digital_images_accept_8bit_and_reject_the_rest():
    image = torch.tensor([[[0, 17], [255, 3]]], dtype=torch.uint8)
    assert V.check_image(image) is image
    assert not V.is_digital_image(image, low=V.THESIS_PIXEL_MIN)  # the thesis's {1,...,255} excludes 0
    assert V.is_digital_image(image.clamp(min=1), low=V.THESIS_PIXEL_MIN)
    with pytest.raises(ValueError, match=r"image values in \[0, 255\] are not allowed; .*\{1, \.\.\., 255\}"):
        V.check_image(image, low=1)
    with pytest.raises(ValueError, match=r"image values in \[0, 300\]"):
        V.check_image(torch.tensor([[[0, 300]]]))
    with pytest.raises(ValueError, match=r"image\.dtype=torch\.float32"):
        V.check_image(image.float())
    with pytest.raises(ValueError, match=r"image\.shape=\(2, 2\)"):
        V.check_image(image[0])
    with pytest.raises(ValueError, match="^image of type ndarray is not allowed; it must be a torch.Tensor$"):
        V.check_image(np.zeros((1, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"^image\.dtype=torch\.bool is not allowed"):
        V.check_image(torch.ones(1, 2, 2, dtype=torch.bool))
    assert V.is_digital_image(image, high=255) and not V.is_digital_image(image, high=254)


@pytest.mark.parametrize("d, kind", [(1, "greyscale"), (3, "rgb"), (4, "4-channel")])
def test_image_kind(d, kind):
    assert V.image_kind(torch.zeros(d, 5, 7, dtype=torch.uint8)) == kind


# --- Lemma 1.3.3 -----------------------------------------------------------------------------

@SETTINGS
@given(d=st.integers(1, 4), M=st.integers(1, 9), N=st.integers(1, 9), seed=st.integers(0, 10**6))
def test_flattening_is_row_major_over_pixels_and_invertible(d, M, N, seed):
    image = torch.randint(0, 256, (d, M, N), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
    flat = V.flatten_image(image)
    assert flat.shape == (M * N, d)
    # pixel-major: the lemma's array of pixels equals NumPy's C-order reshape of the (M, N, d) layout
    np.testing.assert_array_equal(flat.numpy(), image.permute(1, 2, 0).numpy().reshape(M * N, d, order="C"))
    # as numbers: M*N*d of them; channel by channel it is torch's flatten of each channel
    for c in range(d):
        assert torch.equal(flat[:, c], image[c].flatten())
    assert torch.equal(V.unflatten_image(flat, M, N), image)
    assert torch.equal(V.flatten_image(V.unflatten_image(flat, M, N)), flat)


def test_flattening_a_grey_image_is_torch_flatten_and_bad_shapes_are_refused():
    image = torch.arange(12).reshape(1, 3, 4)
    assert torch.equal(V.flatten_image(image)[:, 0], image.flatten())
    assert torch.equal(V.unflatten_image(image.flatten(), 3, 4), image)
    with pytest.raises(ValueError, match=r"array\.shape=\(11, 1\) is not allowed; it must be \(M\*N, d\) = \(12, d\)"):
        V.unflatten_image(torch.zeros(11), 3, 4)
    with pytest.raises(ValueError, match=r"M=0 is not allowed"):
        V.unflatten_image(torch.zeros(0), 0, 4)
    with pytest.raises(ValueError, match=r"^N=0 is not allowed; it must be a positive integer$"):
        V.unflatten_image(torch.zeros(0), 3, 0)
    with pytest.raises(ValueError, match=r"image\.shape=\(3, 4\)"):
        V.flatten_image(image[0])


# --- Def 1.3.4, Cor 1.3.5 ----------------------------------------------------------------------

def test_image_layer_with_convolution_is_a_torch_conv_layer():
    conv = torch.nn.Conv2d(2, 3, 3, stride=2).double()
    x = _rand(4, 2, 11, 9)
    operator = functools.partial(V.cross_correlate, kernel=conv.weight.detach(), stride=2)
    ours = V.image_layer(x, operator, conv.bias.detach().reshape(3, 1, 1), torch.sigmoid)
    torch.testing.assert_close(ours, torch.sigmoid(conv(x)).detach())


def test_image_layer_with_pooling_and_a_scalar_bias():
    x = _rand(2, 10, 10)
    ours = V.image_layer(x, functools.partial(V.max_pool, p1=2, stride=2), 0.5, torch.relu)
    torch.testing.assert_close(ours, torch.relu(F.max_pool2d(x, 2) + 0.5))


# --- output size -----------------------------------------------------------------------------

@SETTINGS
@given(M=st.integers(1, 40), k=st.integers(1, 40), s=st.integers(1, 6))
def test_output_size_matches_torch(M, k, s):
    if k > M:
        with pytest.raises(ValueError, match=rf"k={k} is not allowed for M={M}"):
            V.output_size(M, k, s)
        return
    assert V.output_size(M, k, s) == F.conv2d(torch.zeros(1, 1, M, 1), torch.zeros(1, 1, k, 1), stride=s).shape[2]
    assert V.output_size(M, k, s) == F.max_pool2d(torch.zeros(1, M, 1), (k, 1), stride=s).shape[1]
    if s == 1:
        assert V.output_size(M, k) == M - k + 1  # the thesis's M1 = M0 − s + 1


@pytest.mark.parametrize("bad", [dict(M=0, k=1, s=1), dict(M=5, k=0, s=1), dict(M=5, k=2, s=0), dict(M=5, k=2.0, s=1)])
def test_output_size_refuses_bad_arguments(bad):
    name = next(n for n, v in bad.items() if not (isinstance(v, int) and v >= 1))
    with pytest.raises(ValueError, match=rf"^{name}="):
        V.output_size(**bad)


# --- Prop 1.3.6 --------------------------------------------------------------------------------

@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    k1, k2 = draw(st.integers(1, H)), draw(st.integers(1, W))
    return dict(B=draw(st.integers(1, 2)), c_in=c_in, c_out=c_out, groups=groups, H=H, W=W, k1=k1, k2=k2,
                stride=draw(st.integers(1, 4)), bias=draw(st.booleans()), seed=draw(st.integers(0, 10**6)))


@SETTINGS
@given(case=conv_cases())
def test_cross_correlation_equals_torch_conv2d(case):
    x = _rand(case["B"], case["c_in"], case["H"], case["W"], seed=case["seed"])
    w = _rand(case["c_out"], case["c_in"] // case["groups"], case["k1"], case["k2"], seed=case["seed"] + 1)
    b = _rand(case["c_out"], seed=case["seed"] + 2) if case["bias"] else None
    ours = V.cross_correlate(x, w, b, stride=case["stride"], groups=case["groups"])
    ref = F.conv2d(x, w, b, stride=case["stride"], groups=case["groups"])
    assert ours.shape == ref.shape == (case["B"], case["c_out"], V.output_size(case["H"], case["k1"], case["stride"]),
                                       V.output_size(case["W"], case["k2"], case["stride"]))
    torch.testing.assert_close(ours, ref)


def test_a_single_kernel_acts_on_each_channel_like_a_depthwise_conv2d():
    x, k = _rand(3, 9, 8), _rand(3, 3, seed=1)
    ours = V.cross_correlate(x, k, stride=2)
    torch.testing.assert_close(ours, F.conv2d(x, k.expand(3, 1, 3, 3), stride=2, groups=3))
    assert ours.shape[0] == 3  # channels kept, as Def 1.3.4 asks


def test_true_convolution_is_the_flipped_kernel_and_differs_from_cross_correlation():
    x, k = _rand(1, 1, 10, 12), _rand(1, 1, 3, 4, seed=1)
    # reference for the true convolution: conv_transpose2d computes the full convolution; keep the valid part
    full = F.conv_transpose2d(x, k)
    torch.testing.assert_close(V.convolve(x, k), full[..., 2:10, 3:12])
    # 1-D rows against NumPy's convolution
    row_kernel = _rand(1, 1, 1, 5, seed=2)
    np.testing.assert_allclose(V.convolve(x, row_kernel)[0, 0, 4].numpy(),
                               np.convolve(x[0, 0, 4].numpy(), row_kernel[0, 0, 0].numpy(), mode="valid"))
    sobel_x, _ = V.sobel_kernels()
    grey = x[0].float()
    torch.testing.assert_close(V.convolve(grey, sobel_x), -V.cross_correlate(grey, sobel_x))
    assert (V.convolve(grey, sobel_x) - V.cross_correlate(grey, sobel_x)).abs().max() > 1
    torch.testing.assert_close(V.convolve(grey, V.box_kernel(3)), V.cross_correlate(grey, V.box_kernel(3)))


def test_cross_correlation_refuses_bad_input():
    with pytest.raises(ValueError, match=r"image\.dtype=torch\.uint8 is not allowed"):
        V.cross_correlate(torch.zeros(1, 5, 5, dtype=torch.uint8), torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"kernel\.shape=\(4, 3, 3, 3\) is not allowed for 2 input channels"):
        V.cross_correlate(torch.zeros(2, 5, 5), torch.ones(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"k=6 is not allowed for M=5"):
        V.cross_correlate(torch.zeros(1, 5, 5), torch.ones(6, 6))
    with pytest.raises(ValueError, match=r"stride=0 is not allowed"):
        V.cross_correlate(torch.zeros(1, 5, 5), torch.ones(3, 3), stride=0)
    with pytest.raises(ValueError, match=r"image\.shape=\(5, 5\)"):
        V.cross_correlate(torch.zeros(5, 5), torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"^kernel\.dtype=torch\.uint8 is not allowed; convert with \.float\(\)"):
        V.cross_correlate(torch.zeros(1, 5, 5), torch.ones(3, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="^groups=0 is not allowed; it must be a positive integer$"):
        V.cross_correlate(torch.zeros(2, 5, 5), torch.ones(2, 1, 3, 3), groups=0)
    for channels, kernel_shape in [(3, (2, 1, 3, 3)), (1, (1, 1, 3))]:  # 2 does not divide 3; a 3-D kernel
        with pytest.raises(ValueError, match=rf"^kernel\.shape={re.escape(str(kernel_shape))} is not allowed"):
            V.cross_correlate(torch.zeros(channels, 5, 5), torch.ones(kernel_shape), groups=len(kernel_shape) - 2)


def test_convolution_passes_bias_stride_and_groups_on():
    """Against torch: conv2d with the flipped kernel (the flip itself is checked above)."""
    x, k, b = _rand(2, 4, 9, 10), _rand(6, 2, 3, 2, seed=1), _rand(6, seed=2)
    torch.testing.assert_close(V.convolve(x, k, b, stride=2, groups=2),
                               F.conv2d(x, k.flip(-2, -1), b, stride=2, groups=2))


# --- Props 1.3.7–1.3.9 ---------------------------------------------------------------------------

@st.composite
def pool_cases(draw):
    H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    return dict(B=draw(st.integers(1, 2)), C=draw(st.integers(1, 3)), H=H, W=W, p1=draw(st.integers(1, H)),
                p2=draw(st.integers(1, W)), stride=draw(st.integers(1, 4)), seed=draw(st.integers(0, 10**6)))


@SETTINGS
@given(case=pool_cases())
def test_pooling_equals_torch(case):
    x = _rand(case["B"], case["C"], case["H"], case["W"], seed=case["seed"])
    window, s = (case["p1"], case["p2"]), case["stride"]
    size = (case["B"], case["C"], V.output_size(case["H"], case["p1"], s), V.output_size(case["W"], case["p2"], s))
    for ours, ref in [(V.average_pool(x, *window, stride=s), F.avg_pool2d(x, window, stride=s)),
                      (V.max_pool(x, *window, stride=s), F.max_pool2d(x, window, stride=s)),
                      (V.min_pool(x, *window, stride=s), -F.max_pool2d(-x, window, stride=s))]:
        assert ours.shape == ref.shape == size
        torch.testing.assert_close(ours, ref)


def test_min_and_max_pooling_keep_integer_images_average_pooling_does_not():
    x = torch.randint(0, 256, (1, 6, 6), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    assert V.max_pool(x, 2, stride=2).dtype == torch.uint8
    torch.testing.assert_close(V.min_pool(x, 3), -F.max_pool2d(-x.int(), 3, stride=1).to(torch.uint8))
    with pytest.raises(ValueError, match=r"image\.dtype=torch\.uint8 is not allowed; convert with \.float\(\)"):
        V.average_pool(x, 2)
    with pytest.raises(ValueError, match=r"k=7 is not allowed for M=6"):
        V.max_pool(x, 7)
    with pytest.raises(ValueError, match=r"^image\.shape=\(6, 6\) is not allowed; it must be \(C, H, W\) or \(B, C, H, W\)$"):
        V.max_pool(x[0], 2)
    with pytest.raises(ValueError, match="^stride=0 is not allowed; it must be a positive integer$"):
        V.max_pool(x, 2, stride=0)


def test_pooling_slides_by_one_pixel_unless_told_otherwise():
    """The thesis's sizes M − p + 1: stride 1 by default, where torch's pooling defaults to the window."""
    x = _rand(2, 7, 6)
    torch.testing.assert_close(V.average_pool(x, 2, 3), F.avg_pool2d(x, (2, 3), stride=1))
    torch.testing.assert_close(V.max_pool(x, 3), F.max_pool2d(x, 3, stride=1))
    torch.testing.assert_close(V.min_pool(x, 2), -F.max_pool2d(-x, 2, stride=1))
    assert V.windows(x, 2, 3).shape == (2, 6, 4, 2, 3)


# --- kernels -------------------------------------------------------------------------------------

def test_kernels_match_their_closed_forms():
    sobel_x, sobel_y = V.sobel_kernels()
    assert torch.equal(sobel_x, torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]))
    assert torch.equal(sobel_y, sobel_x.T)
    torch.testing.assert_close(V.box_kernel(4), torch.full((4, 4), 1 / 16))
    g = V.gaussian_kernel(5, 1.5)
    x = torch.arange(5.0) - 2
    closed = torch.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * 1.5**2))
    torch.testing.assert_close(g, closed / closed.sum())
    with pytest.raises(ValueError, match=r"sigma=0 is not allowed"):
        V.gaussian_kernel(3, 0)
    assert set(V.named_kernels()) >= {"identity", "Sobel x", "Sobel y", "box"}


def test_the_named_kernels_are_the_delta_sobel_box_gaussian_and_delta_minus_laplacian():
    """Each named kernel against an independent reference: the identity returns the image's interior;
    sharpen is δ − Δ, with Δ SciPy's 5-point discrete Laplacian."""
    from scipy.ndimage import laplace

    kernels, x = V.named_kernels(), _rand(1, 9, 8)
    assert list(kernels) == ["identity", "Sobel x", "Sobel y", "box", "Gaussian σ=1", "sharpen"]
    assert all(k.shape == (3, 3) for k in kernels.values())
    torch.testing.assert_close(V.cross_correlate(x, kernels["identity"].double()), x[:, 1:-1, 1:-1])
    assert all(torch.equal(kernels[name], k) for name, k in zip(("Sobel x", "Sobel y"), V.sobel_kernels()))
    torch.testing.assert_close(V.cross_correlate(x, kernels["box"].double()), F.avg_pool2d(x, 3, stride=1))
    torch.testing.assert_close(kernels["Gaussian σ=1"], V.gaussian_kernel(3, 1.0))
    sharpened = x[0].numpy() - laplace(x[0].numpy())
    torch.testing.assert_close(V.cross_correlate(x, kernels["sharpen"].double())[0],
                               torch.from_numpy(sharpened[1:-1, 1:-1]))


def test_kernel_sizes_and_widths_are_checked_by_name():
    for make in (V.box_kernel, lambda size: V.gaussian_kernel(size, 1.0)):
        with pytest.raises(ValueError, match="^size=0 is not allowed; it must be a positive integer$"):
            make(0)
    with pytest.raises(ValueError, match="^sigma=inf is not allowed; it must be a positive finite number$"):
        V.gaussian_kernel(3, float("inf"))


def test_gaussian_blur_matches_torchvision_in_the_interior():
    from torchvision.transforms.functional import gaussian_blur

    x = _rand(1, 16, 16).float()
    ours = V.cross_correlate(x, V.gaussian_kernel(5, 1.2))
    torch.testing.assert_close(ours, gaussian_blur(x, [5, 5], [1.2, 1.2])[:, 2:-2, 2:-2])
