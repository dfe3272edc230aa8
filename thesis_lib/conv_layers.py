"""Chapter 1.3's image layers as trainable modules, and the convolutional autoencoder of §2.3.

:class:`ImageConv` is the image layer φ̂(Tψ + b) of Cor 1.3.5 with T a cross-correlation
(Prop 1.3.6); :class:`MaxPool` is Prop 1.3.9's max pooling; :class:`DigitClassifier` is the
book's LeNet-style judge of generated digits built from them. Each evaluates either with the
thesis's formulas (:mod:`thesis_lib.vision`) or with torch's kernels, which
``tests/test_vision.py`` shows to be the same maps; :func:`use_operator` switches a whole model.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .activations import resolve
from .infra.validation import choice
from .networks import Layer, check_widths
from .vision import cross_correlate, image_layer, max_pool

OPERATORS = ("torch", "thesis")


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


class DigitClassifier(nn.Module):
    """A LeNet-style MNIST classifier from chapter 1.3's layers, the book's judge of generated digits.

    28×28 → conv 1→``channels[0]`` 5×5, ReLU → max-pool 2 → 14×14 → conv →``channels[1]`` 5×5,
    ReLU → max-pool 2 → 7×7 → ``features`` (ReLU; :meth:`features`, the penultimate layer whose
    statistics the Fréchet distance compares) → 10 logits. 5×5 kernels with two pixels of zero
    padding; inputs flat [B, 784] or [B, 28, 28].
    """

    def __init__(self, channels: tuple[int, int] = (16, 32), features: int = 128):
        super().__init__()
        c1, c2 = channels
        self.body = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)), ImageConv(1, c1, kernel_size=5, padding=2), MaxPool(2),
            ImageConv(c1, c2, kernel_size=5, padding=2), MaxPool(2), nn.Flatten(), Layer(49 * c2, features, "relu"))
        self.head = Layer(features, 10, "identity")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer's activations, [B, features]."""
        return self.body(x.reshape(len(x), 784))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of the ten digits, [B, 10]."""
        return self.head(self.features(x))


def use_operator(model: nn.Module, operator: str) -> nn.Module:
    """Switch every :class:`ImageConv` and :class:`MaxPool` of ``model`` to ``"thesis"`` (chapter 1.3's
    formulas) or ``"torch"`` (``F.conv2d``, ``F.max_pool2d``); returns ``model``."""
    choice("operator", operator, OPERATORS)
    for module in model.modules():
        if isinstance(module, (ImageConv, MaxPool)):
            module.operator = operator
    return model
