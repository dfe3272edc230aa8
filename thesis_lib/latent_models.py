"""A latent-variable model small enough that everything is exact: the linear-Gaussian model
(probabilistic PCA), on which the ELBO identity log p(x) = ELBO(q) + KL(q || p(z|x)) is checked
(Example 3.2.2, Def 3.2.3, Thm 3.2.4); and the diagonal Gaussian q every encoder of chapter 3 outputs.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from .divergences import check_log_variance, check_same_shape, kl_to_standard_normal

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class LinearGaussianModel:
    """p(z) = N(0, I_k), p(x|z) = N(Wz + b, σ² I_D) with W of shape [D, k] (Def 3.2.1, Example 3.2.2).

    The marginal p(x) = N(b, WWᵀ + σ²I) and the posterior p(z|x) = N(S Wᵀ(x - b)/σ², S) with
    S = (I + WᵀW/σ²)⁻¹ are Gaussian in closed form, so every quantity of Thm 3.2.4 is exact.
    """

    W: Tensor
    b: Tensor
    noise_var: float

    def __post_init__(self):
        if self.W.ndim != 2 or self.b.shape != self.W.shape[:1]:
            raise ValueError(f"W has shape {tuple(self.W.shape)} and b {tuple(self.b.shape)}; W must be [D, k] "
                             "and b must be [D]")
        if not self.noise_var > 0:
            raise ValueError(f"noise_var={self.noise_var!r} is not allowed; it must be a positive number")

    @property
    def latent_dim(self) -> int:
        return self.W.shape[1]

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x|z) for x [B, D] and z [..., B, k] -> [..., B]."""
        return Normal(z @ self.W.T + self.b, math.sqrt(self.noise_var)).log_prob(x).sum(-1)

    def log_joint(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x, z) = log p(x|z) + log p(z) for x [B, D] and z [..., B, k] -> [..., B]."""
        return self.log_likelihood(x, z) + Normal(torch.zeros_like(z), 1.0).log_prob(z).sum(-1)

    def marginal(self) -> MultivariateNormal:
        """p(x) = N(b, WWᵀ + σ² I)."""
        cov = self.W @ self.W.T + self.noise_var * torch.eye(len(self.b), dtype=self.W.dtype)
        return MultivariateNormal(self.b, covariance_matrix=cov)

    def log_marginal(self, x: Tensor) -> Tensor:
        """The exact log-evidence log p(x), [B, D] -> [B]."""
        return self.marginal().log_prob(x)

    def posterior(self, x: Tensor) -> MultivariateNormal:
        """The exact posterior p(z|x) = N(S Wᵀ(x - b)/σ², S), batched over x [B, D]."""
        eye = torch.eye(self.latent_dim, dtype=self.W.dtype)
        cov = torch.linalg.inv(eye + self.W.T @ self.W / self.noise_var)
        mean = (x - self.b) @ self.W @ cov.T / self.noise_var
        return MultivariateNormal(mean, covariance_matrix=cov.expand(len(x), -1, -1))

    def elbo(self, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
        """ELBO(q) for q = N(mu, diag(exp(logvar))) in closed form (Def 3.2.3), [B, k] -> [B].

        E_q[log p(x|z)] = -D/2 log(2πσ²) - (|x - Wμ - b|² + Σ_j σ_j² |W_:j|²) / (2σ²), minus KL(q || p(z)).
        """
        check_same_shape("mu", mu, "logvar", logvar)
        check_log_variance("logvar", logvar)
        dim = self.W.shape[0]
        residual = (x - mu @ self.W.T - self.b).square().sum(-1)
        spread = (logvar.exp() * self.W.square().sum(0)).sum(-1)
        log_norm = -0.5 * dim * math.log(2 * math.pi * self.noise_var)
        expected_log_lik = log_norm - (residual + spread) / (2 * self.noise_var)
        return expected_log_lik - kl_to_standard_normal(mu, logvar)

    def kl_to_posterior(self, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
        """KL(q || p(z|x)) for q = N(mu, diag(exp(logvar))), [B, k] -> [B] (Def 3.1.1)."""
        q = MultivariateNormal(mu, covariance_matrix=torch.diag_embed(logvar.exp()))
        return torch.distributions.kl_divergence(q, self.posterior(x))


def diagonal_gaussian(mu: Tensor, logvar: Tensor) -> Independent:
    """q = N(mu, diag(exp(logvar))) as one distribution over the last axis (batch over the others)."""
    check_same_shape("mu", mu, "logvar", logvar)
    return Independent(Normal(mu, (0.5 * logvar).exp()), 1)
