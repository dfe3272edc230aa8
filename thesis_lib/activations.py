"""Activation functions (Def 1.1.1) and the three examples of Ex 1.1.2, written from their formulas.

Each named activation is an :class:`Activation`: its ``formula`` (written here from the thesis),
its ``derivative`` (written here by hand) and the fused PyTorch ``kernel`` the networks run, for
speed. ``tests/test_activations.py`` checks that formula and kernel agree in value and gradient
and that the derivative agrees with autograd, on random inputs including large ``|t|``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable

import torch
import torch.nn.functional as F

Tensor = torch.Tensor
DEFAULT_ALPHA = 0.01
ACTIVATION_NAMES = ("relu", "leaky_relu", "sigmoid", "identity")


def relu(t: Tensor) -> Tensor:
    """ReLU (Ex 1.1.2): max{0, t}; at t = 0 its autograd slope is 0, as PyTorch's."""
    return torch.where(t > 0, t, torch.zeros((), dtype=t.dtype, device=t.device))


def relu_derivative(t: Tensor) -> Tensor:
    """ReLU' : 1 for t > 0, 0 for t < 0 (and 0 at the kink t = 0, PyTorch's convention)."""
    return (t > 0).to(t.dtype)


def leaky_relu(t: Tensor, alpha: float = DEFAULT_ALPHA) -> Tensor:
    """Leaky ReLU (Ex 1.1.2): alpha * t for t <= 0, t for t > 0."""
    return torch.where(t > 0, t, alpha * t)


def leaky_relu_derivative(t: Tensor, alpha: float = DEFAULT_ALPHA) -> Tensor:
    """Leaky ReLU' : 1 for t > 0, alpha for t <= 0 (PyTorch's convention at the kink)."""
    return torch.where(t > 0, torch.ones_like(t), torch.full_like(t, alpha))


def sigmoid(t: Tensor) -> Tensor:
    """Sigmoid (Ex 1.1.2): 1 / (1 + e^{-t}).

    Written with e = e^{-|t|} <= 1, so that neither the value nor its autograd gradient
    overflows for large |t|: 1/(1+e) for t >= 0 and e/(1+e) for t < 0. The exponent -|t| is
    built branch-wise (not with abs, whose autograd slope at 0 is 0), so autograd gives 1/4 at 0.
    """
    e = torch.exp(torch.where(t >= 0, -t, t))
    return torch.where(t >= 0, torch.ones_like(t), e) / (1 + e)


def sigmoid_derivative(t: Tensor) -> Tensor:
    """Sigmoid' = σ(t)(1 - σ(t)), computed as σ(t)σ(-t): no cancellation in 1 - σ(t) for large t."""
    return sigmoid(t) * sigmoid(-t)


def identity(t: Tensor) -> Tensor:
    """The identity t -> t: the activation of a linear network (Def 2.3.1)."""
    return t


def identity_derivative(t: Tensor) -> Tensor:
    """Identity' = 1."""
    return torch.ones_like(t)


@dataclasses.dataclass(frozen=True)
class Activation:
    """A named activation function: formula, derivative and the fused kernel the networks run."""

    name: str
    formula: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    kernel: Callable[[Tensor], Tensor]

    def __call__(self, t: Tensor) -> Tensor:
        return self.kernel(t)


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
        raise ValueError(f"alpha={alpha!r} is not allowed; it must be a finite real number")
    return float(alpha)


def activation(name: str, alpha: float = DEFAULT_ALPHA) -> Activation:
    """The named activation; ``alpha`` is the leaky-ReLU slope for t <= 0 (ignored otherwise)."""
    if name == "relu":
        return Activation("relu", relu, relu_derivative, F.relu)
    if name == "leaky_relu":
        alpha = _check_alpha(alpha)
        return Activation(f"leaky_relu(alpha={alpha:g})", functools.partial(leaky_relu, alpha=alpha),
                          functools.partial(leaky_relu_derivative, alpha=alpha),
                          functools.partial(F.leaky_relu, negative_slope=alpha))
    if name == "sigmoid":
        return Activation("sigmoid", sigmoid, sigmoid_derivative, torch.sigmoid)
    if name == "identity":
        return Activation("identity", identity, identity_derivative, identity)
    raise ValueError(f"activation={name!r} is not allowed; choose one of "
                     f"{', '.join(map(repr, ACTIVATION_NAMES))} or pass a callable")



def resolve(spec: str | Callable[[Tensor], Tensor]) -> tuple[str, Callable[[Tensor], Tensor]]:
    """``(name, function)`` for an activation given by name, as an :class:`Activation` or as any callable."""
    if isinstance(spec, str):
        act = activation(spec)
        return act.name, act
    if isinstance(spec, Activation):
        return spec.name, spec
    if callable(spec):
        return getattr(spec, "__name__", type(spec).__name__), spec
    raise ValueError(f"activation={spec!r} is not allowed; choose one of "
                     f"{', '.join(map(repr, ACTIVATION_NAMES))} or pass a callable")


@dataclasses.dataclass(frozen=True)
class ActivationCheck:
    """Numerical evidence for Def 1.1.1 on a grid of an interval (evidence, not a proof).

    ``spread`` is max - min of the values (non-constant: spread > 0); ``max_step`` and
    ``max_step_fine`` are the largest change between neighbouring grid points on the grid and
    on a grid ten times finer: for a continuous function the finer step is markedly smaller,
    for a jump it stays the size of the jump.
    """

    spread: float
    max_step: float
    max_step_fine: float

    @property
    def non_constant(self) -> bool:
        return self.spread > 1e-12

    @property
    def continuous(self) -> bool:
        return self.max_step_fine <= 0.5 * self.max_step or self.max_step_fine <= 1e-12

    @property
    def is_activation(self) -> bool:
        return self.non_constant and self.continuous


def check_activation(phi: Callable[[Tensor], Tensor], low: float = -10.0, high: float = 10.0,
                     points: int = 2001) -> ActivationCheck:
    """Test Def 1.1.1 numerically on [low, high] (in float64): is ``phi`` non-constant and continuous?"""
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"low={low!r}, high={high!r} is not allowed; need finite numbers with low < high")
    if isinstance(points, bool) or not isinstance(points, int) or points < 3:
        raise ValueError(f"points={points!r} is not allowed; it must be an integer >= 3")
    coarse = phi(torch.linspace(low, high, points, dtype=torch.float64))
    fine = phi(torch.linspace(low, high, 10 * (points - 1) + 1, dtype=torch.float64))
    return ActivationCheck(spread=float(fine.max() - fine.min()),
                           max_step=float(coarse.diff().abs().max()),
                           max_step_fine=float(fine.diff().abs().max()))
