"""The variational autoencoder: the book's continuation §3.2 of the thesis (after Remark 3.1.4).

* a latent-variable model small enough that log p(x) and p(z|x) are exact (linear-Gaussian),
  on which the ELBO identity log p(x) = ELBO(q) + KL(q || p(z|x)) is checked (Example 3.2.2, Def 3.2.3, Thm 3.2.4);
* the reparameterisation trick and the score-function (REINFORCE) gradient estimator (Prop 3.2.5);
* the VAE of Kingma & Welling (2013): Gaussian encoder, Bernoulli decoder, standard normal prior,
  built from the thesis's networks (Def 1.1.6, 2.1.1, 2.1.2) (Def 3.2.6), its negative ELBO with
  dynamic binarisation and a β-weighted version;
* the importance-sampled log-likelihood (the IWAE bound of Burda et al. 2015, Def 3.2.8), evaluated
  in chunks so that k = 5000 samples need bounded memory;
* generation: prior samples, the inverse-CDF latent grid, interpolation, nearest neighbours.

All log-densities are in nats; the VAE's terms are per image (sums over the pixels).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal

from .divergences import check_log_variance, check_same_shape, kl_to_standard_normal
from .networks import ActivationSpec, Decoder, Encoder
from .validation import positive_int
from .validation import positive_number

Tensor = torch.Tensor



# --- an exact latent-variable model: linear-Gaussian (probabilistic PCA) ----------------------

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


# --- the two gradient estimators of grad_mu E_q[f(z)] (Prop 3.2.5) ----------------------------

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


# --- the VAE: Gaussian encoder, Bernoulli decoder (Def 3.2.6) ---------------------------------

class VAE(nn.Module):
    """q(z|x) = N(μ(x), diag σ²(x)), p(z) = N(0, I), p(x|z) = Π_i Ber(x_i; sigmoid(f_d(z)_i)).

    ``widths`` = (d_0, ..., d_h): the encoder is the network (d_0, ..., d_h, 2·latent) of Def 2.1.1
    whose output is read as (μ, log σ²) (identity on its last layer); the decoder is the mirrored
    network (latent, d_h, ..., d_0) of Def 2.1.2 whose output are Bernoulli logits. ``beta`` is the
    weight of the KL term in :func:`beta_negative_elbo` (β = 1: the ELBO).
    """

    def __init__(self, widths: Sequence[int] = (784, 400), latent: int = 20,
                 activation: ActivationSpec = "relu", beta: float = 1.0):
        super().__init__()
        widths = tuple(widths)
        positive_int("latent", latent)
        positive_number("beta", beta)
        self.latent = latent
        self.beta = float(beta)
        self.encoder = Encoder(widths + (2 * latent,), activation, output_activation="identity")
        self.decoder = Decoder((latent,) + widths[::-1], activation, output_activation="identity")

    @property
    def data_dim(self) -> int:
        return self.encoder.input_dim

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(μ, log σ²) of q(z|x) for images x [B, ...] (flattened row by row, Lemma 1.3.3)."""
        mu, logvar = self.encoder(x.reshape(len(x), -1)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """Bernoulli logits of p(x|z), [..., latent] -> [..., d_0]."""
        return self.decoder(z)

    def decode_mean(self, z: Tensor) -> Tensor:
        """The pixel probabilities sigmoid(logits): the mean image E[x|z]."""
        return torch.sigmoid(self.decode(z))

    def forward(self, x: Tensor) -> Tensor:
        """The mean reconstruction E[x | z] at z = μ(x) (the autoencoder view), [B, d_0]."""
        return self.decode_mean(self.encode(x)[0])

    def extra_repr(self) -> str:
        return f"latent={self.latent}, beta={self.beta:g}"


def binarise(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Dynamic binarisation: each pixel becomes 1 with probability equal to its grey value in [0, 1]."""
    return torch.bernoulli(x, generator=generator)


def fixed_binarisation(images: Tensor, seed: int = 0) -> Tensor:
    """One seeded binarisation of uint8 images [N, ...] -> float {0, 1} [N, pixels]: a fixed test set."""
    if images.dtype != torch.uint8:
        raise ValueError(f"images has dtype {images.dtype}; pass the uint8 images (0..255)")
    gen = torch.Generator().manual_seed(seed)
    return binarise(images.reshape(len(images), -1).float() / 255, gen)


def bernoulli_nll(x: Tensor, logits: Tensor) -> Tensor:
    """-log p(x|z) = Σ_i BCE(x_i, sigmoid(logits_i)) summed over the pixels (last axis), in nats."""
    return F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)


def elbo_terms(model: VAE, x: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The two per-image terms of the negative ELBO for binary images x [B, ...], one sample z each.

    reconstruction = -log p(x|z) at z = μ + σ ε (summed over the pixels), kl = KL(q(z|x) || N(0, I));
    -ELBO = reconstruction + kl.
    """
    x = x.reshape(len(x), -1)
    mu, logvar = model.encode(x)
    z = reparameterise(mu, logvar, eps)
    return bernoulli_nll(x, model.decode(z)), kl_to_standard_normal(mu, logvar)


def negative_elbo(model: VAE, x: Tensor, y: Tensor | None = None) -> Tensor:
    """Mean over the batch of -ELBO per image, x re-binarised (dynamic binarisation); ``y`` is unused."""
    reconstruction, kl = elbo_terms(model, binarise(x))
    return (reconstruction + kl).mean()


def beta_negative_elbo(model: VAE, x: Tensor, y: Tensor | None = None) -> Tensor:
    """Mean over the batch of reconstruction + model.beta · KL (β-VAE); equals :func:`negative_elbo` at β = 1."""
    reconstruction, kl = elbo_terms(model, binarise(x))
    return (reconstruction + model.beta * kl).mean()


# --- importance-sampled log-likelihood (Def 3.2.8, Prop 3.2.9) --------------------------------

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
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    sums = torch.zeros(4, dtype=torch.float64)
    fork = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork):
        torch.manual_seed(seed)
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(device).reshape(len(x[i:i + batch_size]), -1)
            est = vae_importance_sampled(model, xb, k, max_rows)
            rec, kl = elbo_terms(model, xb)
            sums += torch.stack([-est.log_likelihood.sum(), -est.elbo.sum(), rec.sum(), kl.sum()]).double().cpu()
    model.train(was_training)
    nll, nelbo, rec, kl = (sums / len(x)).tolist()
    return LikelihoodReport(nll, nelbo, rec, kl, k, len(x))


# --- generation ---------------------------------------------------------------------------------

@torch.no_grad()
def sample_prior(model: VAE, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Mean images E[x|z] of n latent points z ~ p(z) = N(0, I), [n, d_0]."""
    z = torch.randn(positive_int("n", n), model.latent, generator=generator)
    return model.decode_mean(z.to(next(model.parameters()).device)).cpu()


def latent_grid(n: int, low: float = 0.05, high: float = 0.95) -> Tensor:
    """An n×n grid of 2-D latent points Φ⁻¹(u) for u on an even grid of [low, high]² (Kingma & Welling, Fig. 4).

    Row r, column c is z = (Φ⁻¹(u_c), Φ⁻¹(u_{n-1-r})): z_1 grows to the right, z_2 upwards. Shape [n·n, 2].
    """
    positive_int("n", n)
    if not 0 < low < high < 1:
        raise ValueError(f"low={low!r}, high={high!r} are not allowed; they must satisfy 0 < low < high < 1")
    z = torch.special.ndtri(torch.linspace(low, high, n, dtype=torch.float64)).float()
    rows, cols = torch.meshgrid(z.flip(0), z, indexing="ij")
    return torch.stack([cols.reshape(-1), rows.reshape(-1)], dim=-1)


@torch.no_grad()
def interpolate(model: VAE, x_a: Tensor, x_b: Tensor, steps: int) -> Tensor:
    """Mean images decoded along the straight line from μ(x_a) to μ(x_b) in latent space, [steps, d_0]."""
    positive_int("steps", steps)
    device = next(model.parameters()).device
    mu = model.encode(torch.stack([x_a, x_b]).to(device).float())[0]
    t = torch.linspace(0, 1, steps, device=device)[:, None]
    return model.decode_mean((1 - t) * mu[0] + t * mu[1]).cpu()


def nearest_neighbours(queries: Tensor, references: Tensor, batch_size: int = 4096) -> tuple[Tensor, Tensor]:
    """For each query image, the Euclidean (pixel-space) distance to and index of its nearest reference.

    ``queries`` [n, ...] and ``references`` [N, ...] with the same number of pixels, floats in [0, 1]
    (uint8 references are divided by 255); references are scanned ``batch_size`` at a time.
    """
    q = queries.reshape(len(queries), -1).float()
    best = torch.full((len(q),), math.inf)
    index = torch.zeros(len(q), dtype=torch.long)
    for i in range(0, len(references), batch_size):
        ref = references[i:i + batch_size].reshape(-1, q.shape[1]).float()
        if references.dtype == torch.uint8:
            ref = ref / 255
        d, j = torch.cdist(q, ref).min(dim=1)
        better = d < best
        best = torch.where(better, d, best)
        index = torch.where(better, j + i, index)
    return best, index
