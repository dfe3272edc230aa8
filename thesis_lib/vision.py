"""Digital images, flattening, image operators and layers, convolution and pooling (thesis §1.3).

Layout: an image is a tensor of shape ``(d, M, N)`` = ``(C, H, W)``, PyTorch's convention; the
thesis writes ``Ψ_d^{M×N}`` (M×N pixels, each a d-vector), i.e. ``(M, N, d)``. Operators also
accept a batch ``(B, C, H, W)``. Code indices start at 0, the thesis's at 1.

The operators are written from the formulas (explicit sums over the window, vectorised with
``Tensor.unfold``), never by calling ``torch.nn.functional``; the tests compare them with it.
The formulas exactly as printed are in :mod:`thesis_lib.vision_as_printed`.
"""

from __future__ import annotations

from typing import Callable

import torch

from .infra.validation import positive_int, positive_number

PIXEL_MIN, PIXEL_MAX = 0, 255
THESIS_PIXEL_MIN = 1  # Def 1.3.1 as printed: Ψ_d = {1, ..., 255}^d




# --- Def 1.3.1, Remark 1.3.2: digital images -------------------------------------------------

def check_image(image: torch.Tensor, *, low: int = PIXEL_MIN, high: int = PIXEL_MAX) -> torch.Tensor:
    """Def 1.3.1: return ``image`` if it is a digital image, an integer tensor ``(d, M, N)`` with
    values in ``{low, ..., high}``; otherwise raise ``ValueError``. ``low=1`` is the thesis's Ψ."""
    if not isinstance(image, torch.Tensor):
        raise ValueError(f"image of type {type(image).__name__} is not allowed; it must be a torch.Tensor")
    if image.ndim != 3:
        raise ValueError(f"image.shape={tuple(image.shape)} is not allowed; it must be (d, M, N) = (C, H, W)")
    if image.dtype.is_floating_point or image.dtype.is_complex or image.dtype == torch.bool:
        raise ValueError(f"image.dtype={image.dtype} is not allowed; a digital image holds integers "
                         f"(e.g. torch.uint8)")
    if image.numel() and (image.min() < low or image.max() > high):
        raise ValueError(f"image values in [{int(image.min())}, {int(image.max())}] are not allowed; "
                         f"they must lie in {{{low}, ..., {high}}}")
    return image


def is_digital_image(image: torch.Tensor, *, low: int = PIXEL_MIN, high: int = PIXEL_MAX) -> bool:
    """Def 1.3.1 as a predicate (see :func:`check_image`)."""
    try:
        check_image(image, low=low, high=high)
    except ValueError:
        return False
    return True


def image_kind(image: torch.Tensor) -> str:
    """Remark 1.3.2: ``"greyscale"`` for d = 1, ``"rgb"`` for d = 3, else ``"<d>-channel"``."""
    d = check_image(image).shape[0]
    return {1: "greyscale", 3: "rgb"}.get(d, f"{d}-channel")


# --- Lemma 1.3.3: flattening -----------------------------------------------------------------

def _pixel_grid(M: int, N: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column of the pixel at each position of the flat array: position (i-1)N + j <-> (i, j)."""
    position = torch.arange(M * N)
    return position // N, position % N


def flatten_image(image: torch.Tensor) -> torch.Tensor:
    """Lemma 1.3.3: the image ``(d, M, N)`` as an MN-array of pixels ``(MN, d)``, row after row.

    Entry (i-1)N + j holds the pixel ψ_ij ∈ Ψ_d, so there are MN entries of d numbers each.
    """
    if image.ndim != 3:
        raise ValueError(f"image.shape={tuple(image.shape)} is not allowed; it must be (d, M, N)")
    rows, cols = _pixel_grid(image.shape[1], image.shape[2])
    return image[:, rows, cols].T


def unflatten_image(array: torch.Tensor, M: int, N: int) -> torch.Tensor:
    """Inverse of :func:`flatten_image`: an ``(MN, d)`` (or ``(MN,)`` for d = 1) array to ``(d, M, N)``."""
    positive_int("M", M)
    positive_int("N", N)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != M * N:
        raise ValueError(f"array.shape={tuple(array.shape)} is not allowed; it must be (M*N, d) = ({M * N}, d)")
    rows, cols = _pixel_grid(M, N)
    image = array.new_empty((array.shape[1], M, N))
    image[:, rows, cols] = array.T
    return image


# --- Def 1.3.4, Cor 1.3.5: image operators and image layers ----------------------------------

def image_layer(image: torch.Tensor, operator: Callable[[torch.Tensor], torch.Tensor],
                bias: torch.Tensor | float, activation: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Cor 1.3.5: the image layer H(ψ0) = φ̂(Tψ0 + b) for an image operator T (Def 1.3.4)."""
    return activation(operator(image) + bias)


# --- shared helpers for the operators --------------------------------------------------------

def output_size(M: int, k: int, s: int = 1) -> int:
    """Side of the output of a k-window slid with stride s over M pixels: ⌊(M − k)/s⌋ + 1.

    For s = 1 it is the thesis's M − k + 1 (Props 1.3.6–1.3.9).
    """
    for name, value in (("M", M), ("k", k), ("s", s)):
        positive_int(name, value)
    if k > M:
        raise ValueError(f"k={k} is not allowed for M={M}; the window must fit: 1 <= k <= M")
    return (M - k) // s + 1


def _as_batch(image: torch.Tensor) -> tuple[torch.Tensor, bool]:
    if image.ndim == 3:
        return image[None], True
    if image.ndim == 4:
        return image, False
    raise ValueError(f"image.shape={tuple(image.shape)} is not allowed; it must be (C, H, W) or (B, C, H, W)")


def require_float(name: str, tensor: torch.Tensor) -> None:
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"{name}.dtype={tensor.dtype} is not allowed; convert with .float() first "
                         f"(the output leaves the integers, see the erratum to Def 1.3.4)")


def windows(image: torch.Tensor, p1: int, p2: int, stride: int = 1) -> torch.Tensor:
    """All p1×p2 windows, stride s: ``out[..., i, j, m, n]`` = ψ0 at row i·s + m, column j·s + n (0-based).

    Shape ``(..., M1, N1, p1, p2)`` with M1 = ⌊(M0 − p1)/s⌋ + 1, N1 likewise.
    """
    positive_int("stride", stride)
    M0, N0 = image.shape[-2:]
    output_size(M0, p1)
    output_size(N0, p2)
    return image.unfold(-2, p1, stride).unfold(-2, p2, stride)


# --- Prop 1.3.6: convolution -----------------------------------------------------------------

def cross_correlate(image: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None = None,
                    stride: int = 1, groups: int = 1) -> torch.Tensor:
    """Prop 1.3.6, corrected: (ψ1)^o_ij = Σ_c Σ_{m,n} (ψ0)^c_{(i−1)s+m, (j−1)s+n} k^{o,c}_mn (+ b_o).

    ``image`` is ``(C, H, W)`` or ``(B, C, H, W)``; ``kernel`` is ``(C_out, C/groups, k1, k2)``
    (what ``F.conv2d`` calls convolution, mathematically a cross-correlation), or a single
    ``(k1, k2)`` kernel applied to every channel on its own, which keeps the number of channels
    as Def 1.3.4 demands.
    """
    require_float("image", image)
    require_float("kernel", kernel)
    x, unbatched = _as_batch(image)
    C = x.shape[1]
    if kernel.ndim == 2:
        kernel, groups = kernel.expand(C, 1, *kernel.shape), C
    positive_int("groups", groups)
    if kernel.ndim != 4 or C % groups or kernel.shape[0] % groups or kernel.shape[1] != C // groups:
        raise ValueError(f"kernel.shape={tuple(kernel.shape)} is not allowed for {C} input channels and "
                         f"groups={groups}; it must be (C_out, {C}/groups, k1, k2) with groups dividing "
                         f"C and C_out, or (k1, k2)")
    positive_int("stride", stride)
    B, (C_out, C_g, k1, k2) = x.shape[0], kernel.shape
    patches = windows(x, k1, k2, stride)  # (B, C, M1, N1, k1, k2)
    patches = patches.reshape(B, groups, C_g, *patches.shape[-4:])
    weights = kernel.reshape(groups, C_out // groups, C_g, k1, k2)
    out = torch.einsum("bgcijmn,gocmn->bgoij", patches, weights).reshape(B, C_out, *patches.shape[-4:-2])
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1, 1)
    return out[0] if unbatched else out


def convolve(image: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None = None,
             stride: int = 1, groups: int = 1) -> torch.Tensor:
    """True (mathematical) convolution Σ (ψ0)_{i−m, j−n} k_mn: cross-correlation with the flipped kernel."""
    return cross_correlate(image, kernel.flip(-2, -1), bias, stride, groups)


# --- Props 1.3.7–1.3.9: pooling --------------------------------------------------------------

def _pool_windows(image: torch.Tensor, p1: int, p2: int | None, stride: int) -> torch.Tensor:
    if image.ndim not in (3, 4):
        raise ValueError(f"image.shape={tuple(image.shape)} is not allowed; it must be (C, H, W) or (B, C, H, W)")
    return windows(image, p1, p1 if p2 is None else p2, stride)


def average_pool(image: torch.Tensor, p1: int, p2: int | None = None, stride: int = 1) -> torch.Tensor:
    """Prop 1.3.7, corrected: (ψ1)_ij = 1/(p1 p2) Σ_{(m,n)∈I} (ψ0)_{(i−1)s+m, (j−1)s+n}.

    ``stride`` defaults to 1, the thesis's sizes; ``F.avg_pool2d`` defaults to the window size.
    """
    require_float("image", image)
    return _pool_windows(image, p1, p2, stride).mean(dim=(-2, -1))


def min_pool(image: torch.Tensor, p1: int, p2: int | None = None, stride: int = 1) -> torch.Tensor:
    """Prop 1.3.8, corrected: (ψ1)_ij = min_{(m,n)∈I} (ψ0)_{(i−1)s+m, (j−1)s+n}."""
    return _pool_windows(image, p1, p2, stride).amin(dim=(-2, -1))


def max_pool(image: torch.Tensor, p1: int, p2: int | None = None, stride: int = 1) -> torch.Tensor:
    """Prop 1.3.9, corrected: (ψ1)_ij = max_{(m,n)∈I} (ψ0)_{(i−1)s+m, (j−1)s+n}."""
    return _pool_windows(image, p1, p2, stride).amax(dim=(-2, -1))


# --- kernels used in the chapter -------------------------------------------------------------

def sobel_kernels() -> tuple[torch.Tensor, torch.Tensor]:
    """The Sobel kernels (k_x, k_y): smoothing [1, 2, 1] times the central difference [−1, 0, 1]."""
    smooth, diff = torch.tensor([1.0, 2.0, 1.0]), torch.tensor([-1.0, 0.0, 1.0])
    return torch.outer(smooth, diff), torch.outer(diff, smooth)


def box_kernel(size: int) -> torch.Tensor:
    """The size×size box (mean) filter: every entry 1/size²."""
    positive_int("size", size)
    return torch.full((size, size), 1.0 / size**2)


def gaussian_kernel(size: int, sigma: float) -> torch.Tensor:
    """A size×size Gaussian blur kernel, entries ∝ exp(−(x² + y²)/(2σ²)), summing to 1."""
    positive_int("size", size)
    positive_number("sigma", sigma, finite=True)
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-x**2 / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


def named_kernels() -> dict[str, torch.Tensor]:
    """3×3 kernels by name, for the figures and the kernel explorer."""
    sobel_x, sobel_y = sobel_kernels()
    identity = torch.zeros(3, 3)
    identity[1, 1] = 1.0
    return {"identity": identity, "Sobel x": sobel_x, "Sobel y": sobel_y, "box": box_kernel(3),
            "Gaussian σ=1": gaussian_kernel(3, 1.0),
            "sharpen": torch.tensor([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])}
