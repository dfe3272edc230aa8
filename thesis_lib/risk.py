"""Loss functions, the L-risk and the empirical risk (Def 1.2.1, Ex 1.2.2, Def 1.2.3).

A supervised loss L(x, y, p(x)) compares a target y with a prediction p(x). The losses here do
not look at x, so they take ``(y, prediction)``, both with the samples along the first
dimension, and return one value per sample. Risks are means of losses: over a known
distribution P (the L-risk, Def 1.2.1) or over a data set D (the empirical risk, eq. 1.4).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .infra.validation import positive_int

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Predictor = Callable[[torch.Tensor], torch.Tensor]


def _rows(y: torch.Tensor, prediction: torch.Tensor) -> torch.Tensor:
    if y.shape != prediction.shape or y.dim() == 0:
        raise ValueError(f"y has shape {tuple(y.shape)} and prediction has shape {tuple(prediction.shape)}; "
                         "they must be equal, with the samples along the first dimension")
    return (y - prediction).reshape(len(y), -1)


def squared_error(y: torch.Tensor, prediction: torch.Tensor) -> torch.Tensor:
    """Squared error loss ‖y − p(x)‖² of each sample (Ex 1.2.2)."""
    return _rows(y, prediction).pow(2).sum(1)


def linear_error(y: torch.Tensor, prediction: torch.Tensor) -> torch.Tensor:
    """Linear error loss ‖y − p(x)‖ (Euclidean norm) of each sample (Ex 1.2.2)."""
    return torch.linalg.vector_norm(_rows(y, prediction), dim=1)


def cross_entropy(y: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy loss −log softmax(logits)_y of each sample, for integer class labels ``y``."""
    return F.cross_entropy(logits, y, reduction="none")


def empirical_risk(loss: Loss, predictor: Predictor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Empirical risk R_{L,D}(p) = (1/k) Σ_i L(x_i, y_i, p(x_i)) over D = (x, y) (Def 1.2.3, eq. 1.4)."""
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples and y has {len(y)}; they must be equal and positive")
    return loss(y, predictor(x)).mean()


def monte_carlo_risk(loss: Loss, predictor: Predictor, sample: Callable[[int, torch.Generator], tuple],
                     n: int, generator: torch.Generator) -> tuple[float, float]:
    """The L-risk R_{L,P}(p) = E_P[L(x, y, p(x))] (Def 1.2.1) estimated from ``n`` draws of P.

    ``sample(n, generator)`` returns ``(x, y)``. Returns the estimate and its standard error
    (sample standard deviation / √n), so a true risk lies within a few standard errors (CLT).
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n={n!r} is not allowed; it must be an integer of at least 2")
    x, y = sample(n, generator)
    with torch.no_grad():
        values = loss(y, predictor(x)).double()
    return values.mean().item(), values.std().item() / math.sqrt(n)


@dataclasses.dataclass(frozen=True)
class NoisyLine:
    """The distribution P of (x, y) with x ~ U[low, high] and y = slope·x + intercept + σ·ε, ε ~ N(0, 1)."""

    slope: float = 2.0
    intercept: float = 0.0
    sigma: float = 0.5
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if not self.sigma >= 0:
            raise ValueError(f"sigma={self.sigma!r} is not allowed; it must be non-negative")
        if not self.high > self.low:
            raise ValueError(f"low={self.low!r}, high={self.high!r} are not allowed; low must be below high")

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` draws as float64 column vectors ``x`` [n, 1] and ``y`` [n, 1]."""
        x = self.low + (self.high - self.low) * torch.rand(n, 1, generator=generator, dtype=torch.float64)
        eps = torch.randn(n, 1, generator=generator, dtype=torch.float64)
        return x, self.slope * x + self.intercept + self.sigma * eps

    def risk(self, loss: Loss, predictor: Predictor, nodes: int = 64) -> float:
        """R_{L,P}(p) as the double integral of Def 1.2.1, by Gauss–Legendre (x) × Gauss–Hermite (ε)
        quadrature; exact for losses polynomial in (x, ε) of degree below 2·``nodes``."""
        positive_int("nodes", nodes)
        u, wu = np.polynomial.legendre.leggauss(nodes)
        e, we = np.polynomial.hermite_e.hermegauss(nodes)
        x = torch.tensor(self.low + (self.high - self.low) * (u + 1) / 2).reshape(-1, 1)
        eps = torch.tensor(e)
        weights = torch.outer(torch.tensor(wu / 2), torch.tensor(we / math.sqrt(2 * math.pi)))
        y = (self.slope * x + self.intercept + self.sigma * eps).reshape(-1, 1)
        with torch.no_grad():
            prediction = predictor(x).repeat_interleave(nodes, dim=0)
            values = loss(y, prediction).reshape(nodes, nodes)
        return (weights * values.double()).sum().item()


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(len(x), -1)


def cross_entropy_risk(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Empirical cross-entropy risk of a classifier's logits on flattened images (training objective)."""
    return cross_entropy(y, model(_flat(x))).mean()


def zero_one_risk(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Empirical 0-1 risk (the error rate, 1 − accuracy) of a classifier on flattened images."""
    return (model(_flat(x)).argmax(1) != y).double().mean()


def squared_error_risk(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Empirical squared-error risk of a regression model (eq. 1.4 with the loss of Ex 1.2.2)."""
    return empirical_risk(squared_error, model, x, y)
