"""Neurons, layers and deep networks (Def 1.1.3–1.1.6), their composition (Lemma 2.1.3, Thm 2.1.4),
encoders, decoders and autoencoders (Def 2.1.1, 2.1.2, 2.1.5).

Dimensions are counted as in the corrected Def 1.1.6: a network of depth L has widths
(d_0, d_1, ..., d_L), input dimension d_0, and layer H_i maps R^{d_{i-1}} to R^{d_i} with
W_i of shape (d_i, d_{i-1}). Def 1.1.6 applies the activation on every layer, the last one
included; that is the default here. ``output_activation`` replaces it on the last layer only
(the autoencoders use an identity or sigmoid output); a network then carries one activation
per layer (``.activations``), which is also what composing networks with different
activations produces.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .activations import resolve

Tensor = torch.Tensor
ActivationSpec = str | Callable[[Tensor], Tensor]


def neuron(x: Tensor, w: Tensor, b: Tensor | float, activation: ActivationSpec = "relu") -> Tensor:
    """φ-neuron (Def 1.1.3, eq. 1.1): h(x) = φ(<w, x> + b) for x of shape [..., k], w of shape [k]."""
    _, phi = resolve(activation)
    return phi(x @ w + b)


def layer(x: Tensor, W: Tensor, b: Tensor, activation: ActivationSpec = "relu") -> Tensor:
    """φ-layer in matrix form (eq. 1.2): H(x) = φ̂(Wx + b) for W of shape [m, k], b of shape [m]."""
    _, phi = resolve(activation)
    return phi(F.linear(x, W, b))


def layer_by_neurons(x: Tensor, W: Tensor, b: Tensor, activation: ActivationSpec = "relu") -> Tensor:
    """φ-layer as Def 1.1.4 defines it: component i is the φ-neuron with w_i = W^T e_i, b_i = <b, e_i>."""
    m = W.shape[0]
    eye = torch.eye(m, dtype=W.dtype, device=W.device)
    return torch.stack([neuron(x, W.T @ eye[i], b @ eye[i], activation) for i in range(m)], dim=-1)


def _is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_widths(widths: Sequence[int], name: str = "widths") -> tuple[int, ...]:
    """``widths`` as a tuple (d_0, ..., d_L) of at least two positive integers, or a ValueError."""
    try:
        widths = tuple(widths)
    except TypeError:
        widths = None
    if widths is None or len(widths) < 2 or not all(_is_positive_int(d) for d in widths):
        raise ValueError(f"{name}={widths!r} is not allowed; it must list at least two positive integers "
                         "(d_0, ..., d_L): the input dimension, then the width of each of the L layers")
    return widths


def check_encoder_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Def 2.1.1: an encoder's widths d_0 >= d_1 >= ... >= d_L, or a ValueError naming the first rise."""
    widths = check_widths(widths)
    for i in range(1, len(widths)):
        if widths[i] > widths[i - 1]:
            raise ValueError(f"widths={widths!r} is not allowed for an encoder (Def 2.1.1): the widths must be "
                             f"non-increasing, but d_{i - 1}={widths[i - 1]} < d_{i}={widths[i]}")
    return widths


def check_decoder_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Def 2.1.2: a decoder's widths d_0 <= d_1 <= ... <= d_L, or a ValueError naming the first drop."""
    widths = check_widths(widths)
    for i in range(1, len(widths)):
        if widths[i] < widths[i - 1]:
            raise ValueError(f"widths={widths!r} is not allowed for a decoder (Def 2.1.2): the widths must be "
                             f"non-decreasing, but d_{i - 1}={widths[i - 1]} > d_{i}={widths[i]}")
    return widths


class Layer(nn.Module):
    """A φ-layer of width m on R^k (Def 1.1.4) with parameters θ = (W, b) (Remark 1.1.5).

    Initialised exactly as ``nn.Linear(k, m)`` (same random draws in the same order).
    """

    def __init__(self, in_features: int, width: int, activation: ActivationSpec = "relu"):
        super().__init__()
        check_widths((in_features, width), name="(in_features, width)")
        self.activation, self.phi = resolve(activation)
        self.W = nn.Parameter(torch.empty(width, in_features))
        self.b = nn.Parameter(torch.empty(width))
        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))
        bound = 1 / math.sqrt(in_features)
        nn.init.uniform_(self.b, -bound, bound)

    @property
    def in_features(self) -> int:
        return self.W.shape[1]

    @property
    def width(self) -> int:
        return self.W.shape[0]

    @property
    def theta(self) -> tuple[nn.Parameter, nn.Parameter]:
        """θ = (W, b) (Remark 1.1.5)."""
        return self.W, self.b

    def forward(self, x: Tensor) -> Tensor:
        return self.phi(F.linear(x, self.W, self.b))

    def extra_repr(self) -> str:
        return f"{self.in_features} -> {self.width}, activation={self.activation}"


def _check_chain(layers: Sequence[Layer]) -> None:
    for i in range(1, len(layers)):
        if layers[i].in_features != layers[i - 1].width:
            raise ValueError(f"layers={list(layers)!r} is not allowed: layer {i} has width {layers[i - 1].width} "
                             f"but layer {i + 1} expects {layers[i].in_features} inputs")


class DeepNetwork(nn.Module):
    """φ-deep neural network f = H_L ∘ ... ∘ H_1 of depth L (Def 1.1.6), widths (d_0, ..., d_L).

    ``activation`` is φ on every layer (Def 1.1.6, the last layer included); ``output_activation``,
    if given, replaces φ on the last layer only. Parameters: exactly θ = ((W_1, b_1), ..., (W_L, b_L)).
    """

    def __init__(self, widths: Sequence[int], activation: ActivationSpec = "relu",
                 output_activation: ActivationSpec | None = None):
        super().__init__()
        widths = self._check(widths)
        last = activation if output_activation is None else output_activation
        acts = [activation] * (len(widths) - 2) + [last]
        self.layers = nn.ModuleList(Layer(k, m, a) for k, m, a in zip(widths[:-1], widths[1:], acts))

    @staticmethod
    def _check(widths: Sequence[int]) -> tuple[int, ...]:
        return check_widths(widths)

    @property
    def widths(self) -> tuple[int, ...]:
        """(d_0, d_1, ..., d_L): input dimension, then the width of each layer."""
        return (self.layers[0].in_features,) + tuple(h.width for h in self.layers)

    @property
    def depth(self) -> int:
        """L, the number of layers."""
        return len(self.layers)

    @property
    def input_dim(self) -> int:
        return self.widths[0]

    @property
    def output_dim(self) -> int:
        return self.widths[-1]

    @property
    def theta(self) -> tuple[tuple[nn.Parameter, nn.Parameter], ...]:
        """θ = (θ_1, ..., θ_L) with θ_i = (W_i, b_i) (Def 1.1.6)."""
        return tuple(h.theta for h in self.layers)

    @property
    def activations(self) -> tuple[str, ...]:
        """The activation of each layer, by name."""
        return tuple(h.activation for h in self.layers)

    @property
    def num_parameters(self) -> int:
        """Σ_i d_i (d_{i-1} + 1): the entries of all W_i and b_i."""
        return sum(W.numel() + b.numel() for W, b in self.theta)

    def forward(self, x: Tensor) -> Tensor:
        for h in self.layers:
            x = h(x)
        return x

    def extra_repr(self) -> str:
        return f"widths={self.widths}, depth={self.depth}"


def _from_layers(layers: Sequence[Layer]) -> DeepNetwork:
    """A network whose layers are exactly these Layer modules (shared, not copied)."""
    _check_chain(layers)
    net = DeepNetwork.__new__(DeepNetwork)
    nn.Module.__init__(net)
    net.layers = nn.ModuleList(layers)
    return net


class Encoder(DeepNetwork):
    """Encoding neural network f_e (Def 2.1.1): widths d_0 >= d_1 >= ... >= d_L."""

    @staticmethod
    def _check(widths: Sequence[int]) -> tuple[int, ...]:
        return check_encoder_widths(widths)


class Decoder(DeepNetwork):
    """Decoding neural network f_d (Def 2.1.2): widths d_0 <= d_1 <= ... <= d_L."""

    @staticmethod
    def _check(widths: Sequence[int]) -> tuple[int, ...]:
        return check_decoder_widths(widths)


def compose(*networks: DeepNetwork) -> DeepNetwork:
    """f_N ∘ ... ∘ f_1 for ``compose(f_1, ..., f_N)`` (Lemma 2.1.3, Thm 2.1.4): f_1 is applied first.

    The result has depth L_1 + ... + L_N and θ = θ_1 ⌢ ... ⌢ θ_N (the concatenated tuple of the
    same Parameter objects). The output dimension of f_i must equal the input dimension of f_{i+1}.
    """
    if not networks:
        raise ValueError("networks=() is not allowed; compose needs at least one DeepNetwork")
    for i, f in enumerate(networks, start=1):
        if not isinstance(f, DeepNetwork):
            raise ValueError(f"network {i}={f!r} is not allowed; compose takes DeepNetwork objects")
    for i in range(1, len(networks)):
        out, inp = networks[i - 1].output_dim, networks[i].input_dim
        if out != inp:
            raise ValueError(f"cannot compose: network {i} has output dimension {out} but network {i + 1} has "
                             f"input dimension {inp} (widths {networks[i - 1].widths} then {networks[i].widths}); "
                             "they must be equal")
    return _from_layers([h for f in networks for h in f.layers])


class Autoencoder(DeepNetwork):
    """Autoencoding neural network f_a = f_d ∘ f_e : R^{n_i} -> R^{n_i} (Def 2.1.5, Remark 2.1.6).

    It is the network ``compose(encoder, decoder)`` (same layers, same parameters); ``.encoder``,
    ``.decoder`` give the two parts and ``.bottleneck`` is n_b, the encoder's output dimension.
    """

    def __init__(self, encoder: DeepNetwork, decoder: DeepNetwork):
        for name, part, check in (("encoder", encoder, check_encoder_widths),
                                  ("decoder", decoder, check_decoder_widths)):
            if not isinstance(part, DeepNetwork):
                raise ValueError(f"{name}={part!r} is not allowed; it must be a DeepNetwork")
            check(part.widths)
        if decoder.output_dim != encoder.input_dim:
            raise ValueError(f"decoder with widths {decoder.widths} is not allowed for an encoder with widths "
                             f"{encoder.widths}: an autoencoder maps R^{encoder.input_dim} to itself, so the "
                             f"decoder's output dimension must be {encoder.input_dim}")
        chain = compose(encoder, decoder)
        nn.Module.__init__(self)
        self.layers = chain.layers
        self._parts = (encoder, decoder)

    @property
    def encoder(self) -> DeepNetwork:
        return self._parts[0]

    @property
    def decoder(self) -> DeepNetwork:
        return self._parts[1]

    @property
    def bottleneck(self) -> int:
        """n_b, the output dimension of the encoder."""
        return self.encoder.output_dim

    def extra_repr(self) -> str:
        return f"widths={self.widths}, depth={self.depth}, bottleneck={self.bottleneck}"


def mirrored_autoencoder(widths: Sequence[int] = (784, 128, 64, 12, 3), activation: ActivationSpec = "relu",
                         output_activation: ActivationSpec | None = None,
                         bottleneck_activation: ActivationSpec | None = None) -> Autoencoder:
    """Encoder with ``widths`` (n_i, ..., n_b) and the decoder with the same widths reversed.

    The default is Algorithm 1's model: 784 -> 128 -> 64 -> 12 -> 3 -> 12 -> 64 -> 128 -> 784.
    ``activation`` is φ on every layer (Def 1.1.6); ``bottleneck_activation`` replaces it on the
    encoder's last layer and ``output_activation`` on the decoder's last layer.
    """
    widths = check_encoder_widths(widths)
    encoder = Encoder(widths, activation, output_activation=bottleneck_activation)
    decoder = Decoder(widths[::-1], activation, output_activation=output_activation)
    return Autoencoder(encoder, decoder)
