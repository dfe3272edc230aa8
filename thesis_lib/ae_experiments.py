"""The trained autoencoders of §2.3, each an :class:`~thesis_lib.train.Experiment` (``make reproduce``
trains them), and the small helpers the chapter uses to look at them.

All minimise the per-pixel mean squared error ``losses.reconstruction_mse`` (what ``nn.MSELoss()``
computes: Ex 2.2.2's sum over the 784 pixels divided by 784) with Adam, learning rate 3·10⁻⁴,
batch 256, as Algorithm 1 states.

* ``ae-alg1-linear``: Algorithm 1's 784-128-64-12-3 mirrored autoencoder with φ = identity on every
  layer: a linear autoencoder in the sense of Def 2.3.1–2.3.3 (an affine map of rank ≤ 3);
* ``ae-alg1-relu``: the same widths with φ = ReLU on the hidden layers, identity on the bottleneck
  (a 3-D ReLU code would lose every negative coordinate) and on the output (so that it differs from
  the linear model only by the hidden non-linearity);
* ``ae-sweep-<k>``: widths 784-128-64-max(12, k)-k, ReLU as above, for the bottlenecks in
  :data:`BOTTLENECKS` (100 epochs at the full budget instead of 1000);
* ``ae-conv-3``: :class:`ConvAutoencoder`, a convolutional autoencoder with bottleneck 3;
* ``ae-composed``: 2304-512-128-32 mirrored autoencoder on composed MNIST (two digits, 48×48), trained
  with learning rate 10⁻³ and batch 64 (more progress per epoch than Algorithm 1's setting).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from .activations import resolve
from .config import TrainConfig, pick
from .data import compose_mnist, load_mnist
from .losses import reconstruction_mse
from .networks import Autoencoder, DeepNetwork, Layer, check_widths, mirrored_autoencoder
from .pca import PCA, as_flat_float
from .train import Data, Experiment, evaluate
from .vision import cross_correlate, image_layer, max_pool

ALGORITHM_1_WIDTHS = (784, 128, 64, 12, 3)
BOTTLENECKS = (2, 3, 5, 10, 20)
COMPOSED_TRAIN, COMPOSED_TEST, COMPOSED_CANVAS = 20_000, 10_000, (48, 48)
COMPOSED_WIDTHS = (48 * 48, 512, 128, 32)
OPERATORS = ("torch", "thesis")


# --- data -------------------------------------------------------------------------------------

def mnist() -> Data:
    """The 60,000 training and 10,000 test images of MNIST (uint8 [N, 28, 28]); labels unused."""
    train, test = load_mnist("train"), load_mnist("test")
    return train.images, None, test.images, None


@functools.lru_cache(maxsize=1)
def composed_mnist() -> Data:
    """Two digits per 48×48 canvas: 20,000 from the training digits (seed 0), 10,000 from the test digits
    (seed 1, the same test canvases as the VAE chapter's)."""
    train, test = load_mnist("train"), load_mnist("test")
    composed_train = compose_mnist(train.images, train.labels, COMPOSED_TRAIN, canvas=COMPOSED_CANVAS, seed=0)
    composed_test = compose_mnist(test.images, test.labels, COMPOSED_TEST, canvas=COMPOSED_CANVAS, seed=1)
    return composed_train.images, None, composed_test.images, None


# --- models -----------------------------------------------------------------------------------

def linear_autoencoder() -> Autoencoder:
    """Algorithm 1's model with φ = identity everywhere (Def 2.3.3)."""
    return mirrored_autoencoder(ALGORITHM_1_WIDTHS, activation="identity")


def relu_autoencoder(bottleneck: int = 3) -> Autoencoder:
    """ReLU hidden layers, identity bottleneck and output; widths 784-128-64-max(12, k)-k."""
    widths = (784, 128, 64, max(12, bottleneck), bottleneck)
    return mirrored_autoencoder(widths, activation="relu", output_activation="identity",
                                bottleneck_activation="identity")


def composed_autoencoder() -> Autoencoder:
    """2304-512-128-32 mirrored, ReLU hidden layers, identity bottleneck and output."""
    return mirrored_autoencoder(COMPOSED_WIDTHS, activation="relu", output_activation="identity",
                                bottleneck_activation="identity")


class ImageConv(nn.Module):
    """Image layer φ̂(Tψ + b) (Cor 1.3.5) whose operator T cross-correlates with ``out_channels`` k×k kernels
    with stride ``stride`` (Prop 1.3.6) after zero-padding the image by ``padding`` pixels on each side.

    ``operator="thesis"`` evaluates T with :func:`thesis_lib.vision.cross_correlate` (the formula of
    chapter 1.3); ``"torch"`` (default, ~7× faster to train on a CPU) with ``F.conv2d``, which
    ``tests/test_vision.py`` shows to be the same map. Initialised as ``nn.Conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int = 1,
                 activation: str = "relu", stride: int = 1):
        super().__init__()
        check_widths((in_channels, out_channels, kernel_size, stride),
                     name="(in_channels, out_channels, kernel_size, stride)")
        self.padding, self.stride = padding, stride
        self.activation, self.phi = resolve(activation)
        self.operator = "torch"
        self.kernel = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels))
        nn.init.kaiming_uniform_(self.kernel, a=math.sqrt(5))
        bound = 1 / math.sqrt(in_channels * kernel_size ** 2)
        nn.init.uniform_(self.bias, -bound, bound)

    def _operator(self, image: torch.Tensor) -> torch.Tensor:
        padded = F.pad(image, (self.padding,) * 4)
        if self.operator == "thesis":
            return cross_correlate(padded, self.kernel, stride=self.stride)
        return F.conv2d(padded, self.kernel, stride=self.stride)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return image_layer(image, self._operator, self.bias[:, None, None], self.phi)

    def extra_repr(self) -> str:
        c_out, c_in, k, _ = self.kernel.shape
        return (f"{c_in} -> {c_out}, kernel {k}x{k}, stride={self.stride}, padding={self.padding}, "
                f"activation={self.activation}")


class MaxPool(nn.Module):
    """Max pooling over p×p windows with stride p (Prop 1.3.9): with ``operator="thesis"`` by
    :func:`thesis_lib.vision.max_pool`, with ``"torch"`` (default, faster backward) by ``F.max_pool2d``."""

    def __init__(self, p: int = 2):
        super().__init__()
        self.p = p
        self.operator = "torch"

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.operator == "thesis":
            return max_pool(image, self.p, stride=self.p)
        return F.max_pool2d(image, self.p)

    def extra_repr(self) -> str:
        return f"{self.p}x{self.p}, stride {self.p}"


class Upsample(nn.Module):
    """Nearest-neighbour upsampling: every pixel becomes a factor×factor block."""

    def __init__(self, factor: int = 2):
        super().__init__()
        self.factor = factor

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return F.interpolate(image, scale_factor=self.factor, mode="nearest")

    def extra_repr(self) -> str:
        return f"x{self.factor}"


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder R^784 -> R^784 with bottleneck ``bottleneck``.

    Encoder: 28×28 → conv 1→4 with stride 2, ReLU → 14×14 → conv 4→8, ReLU → max-pool 2 → 7×7×8 = 392
    → 64 (ReLU) → bottleneck (identity). Decoder mirrored: bottleneck → 64 → 392 (ReLU) → 8×7×7
    → upsample → conv 8→4, ReLU → upsample → conv 4→1 (identity) → 784. All kernels 3×3 with one
    pixel of zero padding. Inputs and outputs are flat, as for the dense models.
    """

    def __init__(self, bottleneck: int = 3):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)), ImageConv(1, 4, stride=2), ImageConv(4, 8), MaxPool(2),
            nn.Flatten(), Layer(392, 64, "relu"), Layer(64, bottleneck, "identity"))
        self.decoder = nn.Sequential(
            Layer(bottleneck, 64, "relu"), Layer(64, 392, "relu"), nn.Unflatten(1, (8, 7, 7)),
            Upsample(2), ImageConv(8, 4), Upsample(2), ImageConv(4, 1, activation="identity"), nn.Flatten())

    @property
    def bottleneck(self) -> int:
        return self.encoder[-1].width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def use_operator(model: nn.Module, operator: str) -> nn.Module:
    """Switch every :class:`ImageConv` and :class:`MaxPool` of ``model`` to ``"thesis"`` (chapter 1.3's
    formulas) or ``"torch"`` (``F.conv2d``, ``F.max_pool2d``); returns ``model``."""
    if operator not in OPERATORS:
        raise ValueError(f"operator={operator!r} is not allowed; choose one of {', '.join(map(repr, OPERATORS))}")
    for module in model.modules():
        if isinstance(module, (ImageConv, MaxPool)):
            module.operator = operator
    return model


# --- the experiments --------------------------------------------------------------------------

def _config(budget: str, *, quick: int, full: int) -> TrainConfig:
    """Algorithm 1's setting: Adam, learning rate 3e-4, batch 256; the epochs depend on the budget."""
    return TrainConfig(epochs=pick(quick=quick, full=full, budget=budget), batch_size=256, lr=3e-4)


def _composed_config(budget: str, *, quick: int, full: int) -> TrainConfig:
    """Adam, learning rate 1e-3, batch 64: composed MNIST learns too slowly with Algorithm 1's setting."""
    return TrainConfig(epochs=pick(quick=quick, full=full, budget=budget), batch_size=64, lr=1e-3)


ALG1_LINEAR = Experiment(
    "ae-alg1-linear", linear_autoencoder, reconstruction_mse, functools.partial(_config, quick=3, full=1000), mnist,
    "Algorithm 1: 784-128-64-12-3 mirrored, identity activations (linear autoencoder), MSE, Adam 3e-4, batch 256")
ALG1_RELU = Experiment(
    "ae-alg1-relu", relu_autoencoder, reconstruction_mse, functools.partial(_config, quick=10, full=1000), mnist,
    "Algorithm 1: 784-128-64-12-3 mirrored, ReLU hidden layers, identity bottleneck and output, MSE, Adam 3e-4")
SWEEP = {k: Experiment(f"ae-sweep-{k}", functools.partial(relu_autoencoder, k), reconstruction_mse,
                       functools.partial(_config, quick=3, full=100), mnist,
                       f"784-128-64-{max(12, k)}-{k} mirrored ReLU autoencoder (bottleneck sweep), MSE, Adam 3e-4")
         for k in BOTTLENECKS}
CONV = Experiment(
    "ae-conv-3", ConvAutoencoder, reconstruction_mse, functools.partial(_config, quick=1, full=100), mnist,
    "convolutional autoencoder (conv 4 stride 2, conv 8, pool, 64, 3 and mirrored), MSE, Adam 3e-4")
COMPOSED = Experiment(
    "ae-composed", composed_autoencoder, reconstruction_mse, functools.partial(_composed_config, quick=3, full=200),
    composed_mnist, "2304-512-128-32 mirrored ReLU autoencoder on composed MNIST (two digits, 48x48), MSE, "
    "Adam 1e-3, batch 64")

EXPERIMENTS = [ALG1_LINEAR, ALG1_RELU, *SWEEP.values(), CONV, COMPOSED]


# --- looking at trained models ----------------------------------------------------------------

def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _batched(function, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([function(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def latent_codes(model: nn.Module | PCA, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """The codes f_e(x) of ``images`` [N, ...] (uint8 or floats in [0, 1]) as a CPU tensor [N, n_b]."""
    if isinstance(model, PCA):
        return model.encode(images)
    encoder = model.encoder.eval()
    device = _device(model)
    return _batched(lambda x: encoder(as_flat_float(x).to(device)).cpu(), images, batch_size)


@torch.no_grad()
def decode(model: nn.Module | PCA, codes: torch.Tensor, side: int | None = None) -> torch.Tensor:
    """Decoded images f_d(z) for codes [N, n_b], reshaped to square images [N, side, side] (CPU)."""
    if codes.ndim != 2:
        raise ValueError(f"codes.shape={tuple(codes.shape)} is not allowed; it must be [N, bottleneck]")
    if isinstance(model, PCA):
        flat = model.decode(codes)
    else:
        flat = model.decoder.eval()(codes.float().to(_device(model))).cpu()
    side = side or math.isqrt(flat.shape[1])
    if side * side != flat.shape[1]:
        raise ValueError(f"side={side} is not allowed for outputs of {flat.shape[1]} pixels; give side with "
                         f"side² = {flat.shape[1]}")
    return flat.reshape(len(flat), side, side)


@torch.no_grad()
def reconstruct(model: nn.Module | PCA, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """f(x) for ``images`` [N, H, W], as floats of the same shape (CPU); not clipped to [0, 1]."""
    if isinstance(model, PCA):
        return model(images).reshape(images.shape)
    model.eval()
    device = _device(model)
    flat = _batched(lambda x: model(as_flat_float(x).to(device)).cpu(), images, batch_size)
    return flat.reshape(images.shape)


def mse_per_pixel(model: nn.Module | PCA, images: torch.Tensor) -> float:
    """Mean squared reconstruction error per pixel (Algorithm 1's objective) over ``images``."""
    if isinstance(model, PCA):
        return model.mse(images)
    return evaluate(model, reconstruction_mse, images)


def mse_table(models: dict[str, nn.Module | PCA], images: torch.Tensor) -> dict[str, float]:
    """``{name: mse_per_pixel(model, images)}`` for every model, in the given order."""
    return {name: mse_per_pixel(model, images) for name, model in models.items()}


def markdown_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    """A Markdown table; floats are written with four significant digits (trailing zeros kept)."""
    def cell(value) -> str:
        return f"{value:#.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# --- linear autoencoders and PCA --------------------------------------------------------------

@torch.no_grad()
def affine_form(network: DeepNetwork) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, c) with network(x) = A x + c, for a network whose every activation is the identity.

    A = W_L ⋯ W_1 and c = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L: the composition of affine layers is affine,
    and rank A is at most the smallest width.
    """
    if any(name != "identity" for name in network.activations):
        raise ValueError(f"network with activations {network.activations} is not allowed; affine_form needs "
                         "the identity on every layer (a linear network, Def 2.3.1-2.3.3)")
    A = torch.eye(network.input_dim, dtype=torch.float64)
    c = torch.zeros(network.input_dim, dtype=torch.float64)
    for W, b in network.theta:
        A, c = W.double().cpu() @ A, W.double().cpu() @ c + b.double().cpu()
    return A, c


@torch.no_grad()
def pca_autoencoder(pca: PCA, widths: tuple[int, ...] = ALGORITHM_1_WIDTHS) -> Autoencoder:
    """The linear autoencoder (identity activations, encoder ``widths``, mirrored decoder) that computes
    exactly PCA's reconstruction μ + V_k V_kᵀ(x − μ); needs k = bottleneck = pca.k.

    The first layer projects onto the principal axes (W_1 = V_kᵀ in its first k rows, b_1 = −V_kᵀμ);
    every later layer passes the k coordinates on; the last adds μ back (W = V_k, b = μ).
    """
    widths = tuple(widths)
    if widths[-1] != pca.k or widths[0] != pca.mean.numel():
        raise ValueError(f"widths={widths} is not allowed for a PCA with k={pca.k} on {pca.mean.numel()} pixels; "
                         f"the input width must be {pca.mean.numel()} and the bottleneck {pca.k}")
    model = mirrored_autoencoder(widths, activation="identity")
    k = pca.k
    for W, b in model.theta:
        W.zero_()
        b.zero_()
        W[:k, :k] = torch.eye(k)
    (W_first, b_first), (W_last, b_last) = model.theta[0], model.theta[-1]
    W_first.zero_()
    W_first[:k] = pca.components
    b_first[:k] = -pca.components @ pca.mean
    W_last.zero_()
    W_last[:, :k] = pca.components.T
    b_last.copy_(pca.mean)
    return model


# --- holes in the latent space ----------------------------------------------------------------

def box_samples(codes: torch.Tensor, n: int, margin: float = 0.25, seed: int = 0) -> torch.Tensor:
    """``n`` points drawn uniformly from the bounding box of ``codes`` [N, d], each side widened by
    ``margin`` times its length at both ends."""
    if codes.ndim != 2 or len(codes) < 1:
        raise ValueError(f"codes.shape={tuple(codes.shape)} is not allowed; it must be [N, d] with N >= 1")
    if not margin >= 0:
        raise ValueError(f"margin={margin!r} is not allowed; it must be >= 0")
    low, high = codes.min(0).values, codes.max(0).values
    low, high = low - margin * (high - low), high + margin * (high - low)
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(n, codes.shape[1], generator=gen)


def nearest_code_distance(points: torch.Tensor, codes: torch.Tensor, exclude_self: bool = False) -> torch.Tensor:
    """Euclidean distance from each point [M, d] to the nearest of ``codes`` [N, d]; with
    ``exclude_self`` the points are the codes themselves and each one's own distance 0 is skipped."""
    distances = torch.cdist(points.double(), codes.double())
    if exclude_self:
        if points.shape != codes.shape:
            raise ValueError("exclude_self=True is only allowed when points and codes are the same tensor")
        distances.fill_diagonal_(float("inf"))
    return distances.min(1).values.float()
