"""Discriminative versus generative classification (the opening of chapter 3): logistic regression
models only p(y | x); a generative model p(x, y) = p(x | y) p(y) gives p(y | x) by Bayes' rule and
can also draw new observations.

:class:`GaussianClassifier` is the generative model with one Gaussian per class, fitted by maximum
likelihood (class frequencies, means, covariances); :func:`logistic_regression` trains the
discriminative one with the book's training loop.
"""

from __future__ import annotations

import dataclasses

import torch
from torch.distributions import Categorical, MultivariateNormal

from .infra.config import TrainConfig
from .infra.training import fit
from .infra.validation import positive_int
from .networks import DeepNetwork
from .risk import cross_entropy_risk


@dataclasses.dataclass(frozen=True)
class GaussianClassifier:
    """p(y) = Categorical(prior), p(x | y = k) = N(mean_k, cov_k)."""

    prior: Categorical
    classes: tuple[MultivariateNormal, ...]

    @classmethod
    def fit(cls, x: torch.Tensor, y: torch.Tensor) -> GaussianClassifier:
        """Maximum likelihood: class frequencies, and each class's mean and (biased) covariance."""
        if x.ndim != 2 or y.shape != x.shape[:1]:
            raise ValueError(f"x has shape {tuple(x.shape)} and y {tuple(y.shape)}; x must be [N, d], y [N]")
        counts = torch.bincount(y)
        if (counts < 2).any():
            raise ValueError(f"y has class counts {counts.tolist()}; every class 0..K-1 needs at least 2 points")
        classes = tuple(MultivariateNormal(x[y == k].mean(0), torch.cov(x[y == k].T, correction=0))
                        for k in range(len(counts)))
        return cls(Categorical(probs=counts.float() / len(y)), classes)

    def log_joint(self, points: torch.Tensor) -> torch.Tensor:
        """log p(x, y = k) for every class k, [..., d] -> [..., K]."""
        return torch.stack([c.log_prob(points) + self.prior.logits[k] for k, c in enumerate(self.classes)], -1)

    def posterior(self, points: torch.Tensor) -> torch.Tensor:
        """p(y = k | x) by Bayes' rule, [..., d] -> [..., K]."""
        return torch.softmax(self.log_joint(points), -1)

    def density(self, points: torch.Tensor) -> torch.Tensor:
        """p(x) = Σ_k p(x | k) p(k), [..., d] -> [...]."""
        return torch.logsumexp(self.log_joint(points), -1).exp()

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n new pairs (x, y): y ~ p(y), then x ~ p(x | y) (from torch's global generator)."""
        y = self.prior.sample((positive_int("n", n),))
        return torch.stack([self.classes[k].sample() for k in y.tolist()]), y


def logistic_regression(x: torch.Tensor, y: torch.Tensor, epochs: int = 150, lr: float = 0.1) -> DeepNetwork:
    """p(y | x) = softmax(Wx + b): a network R^d -> R^K with the identity activation, trained by
    full-batch gradient descent on the cross-entropy risk."""
    model = DeepNetwork((x.shape[1], int(y.max()) + 1), activation="identity")
    fit(model, cross_entropy_risk, x, train_y=y,
        config=TrainConfig(epochs=epochs, batch_size=len(x), lr=lr), device="cpu", progress=False)
    return model
