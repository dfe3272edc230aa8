"""The importance-sampled log-likelihood (the IWAE bound L_k of Burda et al. 2015; Def 3.2.8,
Prop 3.2.9), evaluated in chunks so that k = 5000 samples need bounded memory, and the test-set
report of a VAE (NLL, negative ELBO and its two terms), in nats per image.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import torch
from torch.distributions import Distribution, Normal

from .infra.seeding import seeded_evaluation
from .infra.device import as_float
from .infra.validation import positive_int
from .latent_models import diagonal_gaussian
from .vae import VAE, bernoulli_nll, elbo_terms

Tensor = torch.Tensor


@dataclasses.dataclass
class ImportanceEstimate:
    """Per data point: ``log_likelihood`` = log (1/k) Σ_j w_j (the IWAE bound L_k) and ``elbo`` = (1/k) Σ_j log w_j."""

    log_likelihood: Tensor
    elbo: Tensor
    k: int


def importance_sampled(log_joint: Callable[[Tensor], Tensor], q: Distribution, k: int,
                       chunk: int | None = None) -> ImportanceEstimate:
    """L_k = log (1/k) Σ_j p(x, z_j)/q(z_j), z_j ~ q i.i.d., for a batch of data points.

    ``q`` has batch shape [B]; ``log_joint(z)`` maps z [c, B, k_z] to log p(x, z) [c, B]. The k samples
    are drawn ``chunk`` at a time and combined with a running logsumexp, so memory grows with
    ``chunk``, not with k.
    """
    positive_int("k", k)
    chunk = positive_int("chunk", chunk) if chunk is not None else k
    total = None
    log_w_sum = 0.0
    for start in range(0, k, chunk):
        z = q.sample((min(chunk, k - start),))
        log_w = log_joint(z) - q.log_prob(z)
        part = torch.logsumexp(log_w, dim=0)
        total = part if total is None else torch.logaddexp(total, part)
        log_w_sum = log_w_sum + log_w.sum(0)
    return ImportanceEstimate(total - math.log(k), log_w_sum / k, k)


@torch.no_grad()
def vae_importance_sampled(model: VAE, x: Tensor, k: int, max_rows: int = 50_000) -> ImportanceEstimate:
    """L_k for a batch of binary images x [B, ...] under the VAE, at most ``max_rows`` decoded samples at once."""
    x = x.reshape(len(x), -1)
    mu, logvar = model.encode(x)
    prior = Normal(torch.zeros((), device=x.device), torch.ones((), device=x.device))

    def log_joint(z: Tensor) -> Tensor:
        return -bernoulli_nll(x, model.decode(z)) + prior.log_prob(z).sum(-1)

    return importance_sampled(log_joint, diagonal_gaussian(mu, logvar), k, chunk=max(1, max_rows // len(x)))


@dataclasses.dataclass(frozen=True)
class LikelihoodReport:
    """Test-set means in nats per image: NLL ≈ -L_k, the negative ELBO and its two terms."""

    nll: float
    negative_elbo: float
    reconstruction: float
    kl: float
    k: int
    images: int


@torch.no_grad()
def evaluate_likelihood(model: VAE, x: Tensor, k: int, batch_size: int = 100, seed: int = 0,
                        max_rows: int = 50_000) -> LikelihoodReport:
    """Importance-sampled NLL (k samples) and the ELBO terms on fixed binary images x [N, ...], seeded.

    The negative ELBO is the mean of -log w over the same k samples; reconstruction and KL are the
    one-sample terms of :func:`elbo_terms`.
    """
    positive_int("batch_size", batch_size)
    sums = torch.zeros(4, dtype=torch.float64)
    with seeded_evaluation(model, seed) as device:
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(device).reshape(len(x[i:i + batch_size]), -1)
            est = vae_importance_sampled(model, xb, k, max_rows)
            rec, kl = elbo_terms(model, xb)
            sums += torch.stack([-est.log_likelihood.sum(), -est.elbo.sum(), rec.sum(), kl.sum()]).cpu().double()
    nll, nelbo, rec, kl = (sums / len(x)).tolist()
    return LikelihoodReport(nll, nelbo, rec, kl, k, len(x))


#: Burda et al. (2015, §5.2): a latent unit is active when its posterior mean varies over the data
#: with a variance above this
ACTIVE_UNIT_THRESHOLD = 1e-2


@torch.no_grad()
def active_units(model: VAE, x: Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD, batch_size: int = 1000) -> int:
    """The number of latent units u with Cov_x(E_q[u | x]) > ``threshold`` over the images x [N, ...]
    (uint8 images are divided by 255):
    for a Gaussian encoder E_q[u | x] is the encoder mean μ(x), so this counts the coordinates of μ
    whose variance across the data exceeds the threshold (Burda et al. 2015)."""
    positive_int("batch_size", batch_size)
    if len(x) < 2:
        raise ValueError(f"x has {len(x)} image(s); the variance over the data needs at least 2")
    param = next(model.parameters())
    means = torch.cat([model.encode(as_float(x[i:i + batch_size]).to(param.device, param.dtype))[0].cpu().double()
                       for i in range(0, len(x), batch_size)])
    return int((means.var(dim=0) > threshold).sum())
