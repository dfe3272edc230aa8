"""Kullback-Leibler divergence, entropy and cross-entropy (Def 3.1.1-3.1.3, Remark 3.1.4).

Three families in closed form, each batched over the leading dimensions:

* discrete distributions: probability vectors along the last dimension, with the conventions
  ``0 log 0 = 0`` and ``p log 0 = -inf`` for ``p > 0`` (so ``D_KL(p||q) = +inf`` when ``q`` has no
  mass where ``p`` has some: Def 3.1.1 needs ``p`` absolutely continuous w.r.t. ``q``);
* diagonal Gaussians ``N(mu, diag(exp(logvar)))``, summed over the last dimension, including the
  VAE's ``D_KL(N(mu, sigma^2) || N(0, I))``;
* Bernoulli distributions per pixel (elementwise, no reduction): the pixel terms of BCE (Ex 2.2.2).

All values are in nats. :mod:`thesis_lib.monte_carlo` estimates the expectations (3.1)-(3.3) by
sampling, for any pair of ``torch.distributions`` objects.
"""

from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2 * math.pi)


def describe(x) -> str:
    """A short description of a value for error messages (no multi-line tensor dumps)."""
    if isinstance(x, torch.Tensor):
        return f"a {x.dtype} tensor of shape {tuple(x.shape)}"
    return repr(x)


def require_tensor(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} is {describe(x)}; it must be a floating-point torch.Tensor")
    return x


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """A clear error when two parameters that describe the same space differ in shape."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {tuple(a.shape)} but {name_b} has shape {tuple(b.shape)}; "
                         "they must have the same shape")


def check_unit_interval(name: str, x: torch.Tensor) -> None:
    """Every entry of ``x`` must lie in [0, 1] (NaN is refused too)."""
    require_tensor(name, x)
    outside = ~((x >= 0) & (x <= 1))
    if outside.any():
        bad = x[outside]
        raise ValueError(f"{name} has {bad.numel()} value(s) outside [0, 1] (e.g. {bad[0].item():g}; "
                         f"min {x.min().item():g}, max {x.max().item():g}); allowed values lie in [0, 1]"
                         " (8-bit pixels must be divided by 255 first)")


def check_probability_vectors(name: str, p: torch.Tensor) -> None:
    """Entries in [0, 1] that sum to 1 along the last dimension (tolerance sqrt(machine eps))."""
    require_tensor(name, p)
    if p.ndim == 0:
        raise ValueError(f"{name} is a scalar; a probability vector needs at least one dimension")
    if (p < 0).any():
        raise ValueError(f"{name} has a negative entry ({p.min().item():g}); allowed entries are >= 0")
    check_unit_interval(name, p)
    tol = math.sqrt(torch.finfo(p.dtype).eps)
    sums = p.sum(-1)
    wrong = (sums - 1).abs() > tol
    if wrong.any():
        raise ValueError(f"{name} does not sum to 1 along its last dimension (a sum is {sums[wrong][0].item():.6g}); "
                         f"allowed sums are 1 +- {tol:.1e}")


def check_log_variance(name: str, logvar: torch.Tensor) -> None:
    """``logvar`` must be finite: the variance ``exp(logvar)`` must lie in (0, inf)."""
    require_tensor(name, logvar)
    bad = ~torch.isfinite(logvar)
    if bad.any():
        raise ValueError(f"{name} has a non-finite entry ({logvar[bad][0].item()}); the variance exp({name}) "
                         "must be positive and finite, so allowed values are finite real numbers")


def p_log_q(p: torch.Tensor, q: torch.Tensor, log_floor: float | None = None) -> torch.Tensor:
    """Elementwise ``p * log q`` with ``0 * log q = 0`` (also for ``q = 0``), ``p * log 0 = -inf``.

    With ``log_floor`` the logarithm is clamped below at it (PyTorch's BCE uses -100), so the
    result is finite. Gradients are finite everywhere (no NaN from ``log 0``).
    """
    positive = q > 0
    log_q = torch.log(torch.where(positive, q, torch.ones_like(q)))
    log_q = torch.where(positive, log_q, torch.full_like(q, -math.inf))
    if log_floor is not None:
        log_q = log_q.clamp(min=log_floor)
    return p * torch.where(p > 0, log_q, torch.zeros_like(log_q))


# --- discrete distributions (probability vectors along the last dimension) -------------------

def discrete_entropy(p: torch.Tensor) -> torch.Tensor:
    """H(p) = -sum_x p(x) log p(x) (Def 3.1.2 for a probability mass function); >= 0."""
    check_probability_vectors("p", p)
    return -p_log_q(p, p).sum(-1)


def discrete_cross_entropy(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """H_q(p) = -sum_x p(x) log q(x) (Def 3.1.3); +inf where q = 0 < p."""
    check_probability_vectors("p", p)
    check_probability_vectors("q", q)
    check_same_shape("p", p, "q", q)
    return -p_log_q(p, q).sum(-1)


def discrete_kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """D_KL(p||q) = sum_x p(x) log(p(x)/q(x)) (Def 3.1.1); +inf unless q > 0 wherever p > 0."""
    check_probability_vectors("p", p)
    check_probability_vectors("q", q)
    check_same_shape("p", p, "q", q)
    return (p_log_q(p, p) - p_log_q(p, q)).sum(-1)


# --- Bernoulli distributions, elementwise (one pixel each) ----------------------------------

def bernoulli_entropy(p: torch.Tensor) -> torch.Tensor:
    """H(Ber(p)) = -p log p - (1-p) log(1-p), elementwise; 0 at p in {0, 1}, log 2 at p = 1/2."""
    check_unit_interval("p", p)
    return -(p_log_q(p, p) + p_log_q(1 - p, 1 - p))


def bernoulli_cross_entropy(p: torch.Tensor, q: torch.Tensor, *, log_floor: float | None = None) -> torch.Tensor:
    """H_q(p) = -p log q - (1-p) log(1-q), elementwise: the pixel term of BCE (Ex 2.2.2).

    +inf where q hits 0 or 1 against a p that has mass there, unless ``log_floor`` clamps the logs.
    """
    check_unit_interval("p", p)
    check_unit_interval("q", q)
    check_same_shape("p", p, "q", q)
    return -(p_log_q(p, q, log_floor) + p_log_q(1 - p, 1 - q, log_floor))


def bernoulli_kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """D_KL(Ber(p)||Ber(q)), elementwise."""
    check_unit_interval("p", p)
    check_unit_interval("q", q)
    check_same_shape("p", p, "q", q)
    return p_log_q(p, p) - p_log_q(p, q) + p_log_q(1 - p, 1 - p) - p_log_q(1 - p, 1 - q)


# --- diagonal Gaussians N(mu, diag(exp(logvar))), summed over the last dimension ------------

def _check_gaussian(mu_name: str, mu: torch.Tensor, logvar_name: str, logvar: torch.Tensor) -> None:
    require_tensor(mu_name, mu)
    check_log_variance(logvar_name, logvar)
    check_same_shape(mu_name, mu, logvar_name, logvar)
    if mu.ndim == 0:
        raise ValueError(f"{mu_name} is a scalar; give the dimensions of the Gaussian as the last axis "
                         "(shape [..., k], k >= 1)")


def gaussian_entropy(logvar: torch.Tensor) -> torch.Tensor:
    """Differential entropy 1/2 sum_k (log(2 pi e) + logvar_k); negative when the variances are small."""
    check_log_variance("logvar", logvar)
    if logvar.ndim == 0:
        raise ValueError("logvar is a scalar; give the dimensions as the last axis (shape [..., k])")
    return 0.5 * (LOG_2PI + 1 + logvar).sum(-1)


def gaussian_cross_entropy(mu_p: torch.Tensor, logvar_p: torch.Tensor,
                           mu_q: torch.Tensor, logvar_q: torch.Tensor) -> torch.Tensor:
    """H_q(p) = 1/2 sum_k (log(2 pi) + logvar_q + (var_p + (mu_p - mu_q)^2) / var_q)."""
    _check_gaussian("mu_p", mu_p, "logvar_p", logvar_p)
    _check_gaussian("mu_q", mu_q, "logvar_q", logvar_q)
    check_same_shape("mu_p", mu_p, "mu_q", mu_q)
    spread = torch.exp(logvar_p - logvar_q) + (mu_p - mu_q) ** 2 * torch.exp(-logvar_q)
    return 0.5 * (LOG_2PI + logvar_q + spread).sum(-1)


def gaussian_kl(mu_p: torch.Tensor, logvar_p: torch.Tensor,
                mu_q: torch.Tensor, logvar_q: torch.Tensor) -> torch.Tensor:
    """D_KL(N(mu_p, var_p)||N(mu_q, var_q)) = H_q(p) − H(p) (Remark 3.1.4)
    = 1/2 sum_k (logvar_q - logvar_p + (var_p + (mu_p-mu_q)^2)/var_q - 1)."""
    return gaussian_cross_entropy(mu_p, logvar_p, mu_q, logvar_q) - gaussian_entropy(logvar_p)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """D_KL(N(mu, diag(exp(logvar)))||N(0, I)) = 1/2 sum_k (mu_k^2 + exp(logvar_k) - 1 - logvar_k).

    The VAE's regulariser (Kingma & Welling 2013, appendix B); shape [..., k] -> [...]. The objectives
    pass ``check=False`` (their arguments are an encoder's output): checking the values reads them on
    the host, a device synchronisation in every training step.
    """
    if check:
        _check_gaussian("mu", mu, "logvar", logvar)
    return 0.5 * (mu ** 2 + torch.exp(logvar) - 1 - logvar).sum(-1)
