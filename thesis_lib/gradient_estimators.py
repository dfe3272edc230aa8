"""The two estimators of ∇_μ E_q[f(z)] for a diagonal Gaussian q (Prop 3.2.5): the pathwise
(reparameterisation) estimator and the score-function (REINFORCE) estimator.
"""

from __future__ import annotations

from typing import Callable

import torch

from .divergences import check_same_shape
from .infra.validation import positive_int
from .latent_models import diagonal_gaussian

Tensor = torch.Tensor


def reparameterise(mu: Tensor, logvar: Tensor, eps: Tensor | None = None) -> Tensor:
    """z = μ + σ ⊙ ε with σ = exp(logvar / 2) and ε ~ N(0, I) (drawn if not given): z ~ N(μ, diag σ²)."""
    check_same_shape("mu", mu, "logvar", logvar)
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + (0.5 * logvar).exp() * eps


def _replicated(mu: Tensor, logvar: Tensor, n: int) -> tuple[Tensor, Tensor]:
    positive_int("n", n)
    check_same_shape("mu", mu, "logvar", logvar)
    if mu.ndim != 1:
        raise ValueError(f"mu has shape {tuple(mu.shape)}; give one Gaussian, shape [d]")
    return mu.detach().expand(n, -1).clone().requires_grad_(True), logvar.detach().expand(n, -1)


def pathwise_gradients(f: Callable[[Tensor], Tensor], mu: Tensor, logvar: Tensor, n: int) -> Tensor:
    """n independent reparameterisation estimates ∇_μ f(μ + σ ε) of ∇_μ E_q[f(z)], shape [n, d].

    ``f`` maps samples [n, d] to values [n].
    """
    mus, logvars = _replicated(mu, logvar, n)
    (grad,) = torch.autograd.grad(f(reparameterise(mus, logvars)).sum(), mus)
    return grad


def score_function_gradients(f: Callable[[Tensor], Tensor], mu: Tensor, logvar: Tensor, n: int) -> Tensor:
    """n independent score-function (REINFORCE) estimates f(z) ∇_μ log q(z) of ∇_μ E_q[f(z)], [n, d].

    Only values of f are used (no derivative of f): the estimator of choice for non-differentiable f.
    """
    mus, logvars = _replicated(mu, logvar, n)
    with torch.no_grad():
        z = reparameterise(mus, logvars)
        values = f(z)
    (grad,) = torch.autograd.grad((values * diagonal_gaussian(mus, logvars).log_prob(z)).sum(), mus)
    return grad


def sine_sum(z: Tensor) -> Tensor:
    """f(z) = Σ_j sin z_j over the last axis: the test function of the chapter's comparison."""
    return torch.sin(z).sum(-1)


def sine_sum_gradient(mu: Tensor, logvar: Tensor) -> Tensor:
    """The exact ∇_μ E_q[Σ_j sin z_j] = cos μ ⊙ exp(−σ²/2) for q = N(μ, diag σ²) (E sin(μ + σε) =
    sin μ · exp(−σ²/2))."""
    check_same_shape("mu", mu, "logvar", logvar)
    return torch.cos(mu) * torch.exp(-0.5 * logvar.exp())


def estimator_variance(estimator: Callable[..., Tensor], f: Callable[[Tensor], Tensor], mu: Tensor,
                       logvar: Tensor, n: int, coordinate: int = 0) -> float:
    """The sample variance of ``n`` estimates of ∂/∂μ_coordinate E_q[f(z)] by ``estimator``
    (:func:`pathwise_gradients` or :func:`score_function_gradients`)."""
    return estimator(f, mu, logvar, n)[:, coordinate].var().item()
