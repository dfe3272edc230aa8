"""Monte Carlo estimates of the expectations (3.1)-(3.3) — entropy, cross-entropy and KL divergence —
for any ``torch.distributions`` objects, with a standard error and a tolerance derived from it, so
that a closed form (:mod:`thesis_lib.divergences`) can be checked against sampling at a stated
false-alarm probability.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch.distributions import Distribution

from .divergences import require_tensor

@dataclasses.dataclass(frozen=True)
class MonteCarloEstimate:
    """The mean of ``n`` i.i.d. values and its standard error (sample std / sqrt(n))."""

    mean: float
    standard_error: float
    n: int

    def tolerance(self, alpha: float = 1e-6) -> float:
        """Half-width z_{1-alpha/2} * standard error of a two-sided (1 - alpha) normal interval."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha={alpha!r} is not allowed; it must lie in (0, 1)")
        z = torch.special.ndtri(torch.tensor(1 - alpha / 2, dtype=torch.float64)).item()
        return z * self.standard_error

    def agrees_with(self, value: float, alpha: float = 1e-6) -> bool:
        """Whether ``value`` lies within :meth:`tolerance` of the estimate."""
        return abs(self.mean - float(value)) <= self.tolerance(alpha)

    def check(self, name: str, closed: float, alpha: float = 1e-6) -> str:
        """``name: closed form … MC mean ± tolerance`` as one line; ``AssertionError`` naming both
        numbers unless the closed form lies within the tolerance."""
        line = f"{name:<24} closed {closed:8.4f}   MC {self.mean:8.4f} +- {self.tolerance(alpha):.4f}"
        if not self.agrees_with(closed, alpha):
            raise AssertionError(f"{line}: the closed form is outside the Monte Carlo tolerance (alpha={alpha:g})")
        return line


def monte_carlo(values: torch.Tensor) -> MonteCarloEstimate:
    """Mean and standard error of a 1-D sample of i.i.d. values (n >= 2)."""
    require_tensor("values", values)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"values has shape {tuple(values.shape)}; it must be 1-D with at least 2 samples")
    values = values.double()
    return MonteCarloEstimate(values.mean().item(), (values.std() / math.sqrt(len(values))).item(), len(values))


def _samples(p: Distribution, n: int) -> torch.Tensor:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n={n!r} is not allowed; it must be an integer >= 2")
    if p.batch_shape != torch.Size():
        raise ValueError(f"p has batch shape {tuple(p.batch_shape)}; pass one distribution (batch shape ()), "
                         "e.g. wrap a diagonal Normal in torch.distributions.Independent(..., 1)")
    return p.sample((n,))


def mc_entropy(p: Distribution, n: int) -> MonteCarloEstimate:
    """H(p) = E_p[-log p(X)] (3.2), estimated from ``n`` samples of ``p``."""
    return monte_carlo(-p.log_prob(_samples(p, n)))


def mc_cross_entropy(p: Distribution, q: Distribution, n: int) -> MonteCarloEstimate:
    """H_q(p) = E_p[-log q(X)] (3.3), estimated from ``n`` samples of ``p``."""
    return monte_carlo(-q.log_prob(_samples(p, n)))


def mc_kl(p: Distribution, q: Distribution, n: int) -> MonteCarloEstimate:
    """D_KL(p||q) = E_p[log p(X) - log q(X)] (3.1), estimated from ``n`` samples of ``p``."""
    x = _samples(p, n)
    return monte_carlo(p.log_prob(x) - q.log_prob(x))
