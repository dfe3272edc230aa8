"""Neurons, layers and deep networks (Def 1.1.3–1.1.6) and their composition (Lemma 2.1.3, Thm 2.1.4).

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
import re
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
    """A network whose layers are exactly these Layer modules (shared, not copied; :func:`compose` has
    checked that they chain)."""
    net = DeepNetwork.__new__(DeepNetwork)
    nn.Module.__init__(net)
    net.layers = nn.ModuleList(layers)
    return net


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


#: torch's own module for each named activation
TORCH_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "identity": nn.Identity}


def _torch_activation(name: str) -> nn.Module:
    leaky = re.fullmatch(r"leaky_relu\(alpha=(.+)\)", name)
    if leaky:
        return nn.LeakyReLU(float(leaky.group(1)))
    if name not in TORCH_ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not allowed in to_sequential; choose one of "
                         f"{', '.join(map(repr, (*TORCH_ACTIVATIONS, 'leaky_relu')))}")
    return TORCH_ACTIVATIONS[name]()


def to_sequential(net: DeepNetwork) -> nn.Sequential:
    """The same network written with torch's modules: ``nn.Linear`` layers holding copies of θ, each
    followed by torch's module for its activation — the independent reference the chapters and tests
    compare a :class:`DeepNetwork` against."""
    modules: list[nn.Module] = []
    for (W, b), name in zip(net.theta, net.activations):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype, device=W.device)
        with torch.no_grad():
            linear.weight.copy_(W)
            linear.bias.copy_(b)
        modules += [linear, _torch_activation(name)]
    return nn.Sequential(*modules)


def flat_parameters(theta: Sequence[tuple[Tensor, Tensor]]) -> list[Tensor]:
    """W_1, b_1, W_2, b_2, ... of a parameter tuple θ = ((W_1, b_1), ...), in order (the same objects)."""
    return [p for pair in theta for p in pair]
