"""Test problems and measurements for the convergence of gradient descent and SGD (Thm 1.2.4,
Cor 1.2.6, Thm 1.2.7): convex quadratics, least squares, the summable-step limit, Rosenbrock's
function and the permutation symmetry that makes a network's risk non-convex.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

from .infra.validation import positive_int
from .optim import step_size


class Quadratic:
    """f(x) = ½ (x − x*)ᵀ A (x − x*) with A = Q diag(λ) Qᵀ, λ_i ≥ 0 (float64).

    f is convex and L-smooth with L = max λ_i, μ-strongly convex with μ = min λ_i, and f* = 0.
    """

    def __init__(self, eigenvalues, rotation: torch.Tensor | None = None, minimiser: torch.Tensor | None = None):
        lam = torch.as_tensor(eigenvalues, dtype=torch.float64).reshape(-1)
        if len(lam) == 0 or (lam < 0).any():
            raise ValueError(f"eigenvalues={lam.tolist()} are not allowed; give at least one, all non-negative")
        n = len(lam)
        q = torch.eye(n, dtype=torch.float64) if rotation is None else rotation.double()
        if q.shape != (n, n) or not torch.allclose(q @ q.T, torch.eye(n, dtype=torch.float64), atol=1e-10):
            raise ValueError(f"rotation must be an orthogonal {n}×{n} matrix")
        self.eigenvalues, self.rotation = lam, q
        self.matrix = q @ torch.diag(lam) @ q.T
        self.minimiser = torch.zeros(n, dtype=torch.float64) if minimiser is None else minimiser.double()

    @classmethod
    def random(cls, eigenvalues, seed: int = 0) -> "Quadratic":
        """A quadratic with the given spectrum, a random rotation and a random minimiser."""
        gen = torch.Generator().manual_seed(seed)
        n = len(eigenvalues)
        q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
        return cls(eigenvalues, q, torch.randn(n, generator=gen, dtype=torch.float64))

    @property
    def smoothness(self) -> float:
        """L, the Lipschitz constant of ∇f."""
        return self.eigenvalues.max().item()

    @property
    def strong_convexity(self) -> float:
        """μ, the smallest eigenvalue of A."""
        return self.eigenvalues.min().item()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        d = x - self.minimiser
        return 0.5 * (d @ self.matrix * d).sum(-1)


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's function (1 − x₁)² + 100 (x₂ − x₁²)², minimum 0 at (1, 1); not convex."""
    return (1 - x[..., 0]) ** 2 + 100 * (x[..., 1] - x[..., 0] ** 2) ** 2


class Huber:
    """f(x) = L·huber_δ(x): ½ L x² for |x| ≤ δ, L δ (|x| − δ/2) beyond; convex, L-smooth, f* = 0 at 0.

    With δ = R/(2N+1), gradient descent with γ = 1/L from x^(0) = R ends after N steps at exactly
    f(x^(N)) = L R²/(4N+2), the worst case over all convex L-smooth functions (Drori & Teboulle 2014).
    """

    def __init__(self, smoothness: float, delta: float):
        if not smoothness > 0 or not delta > 0:
            raise ValueError(f"smoothness={smoothness!r}, delta={delta!r} are not allowed; both must be positive")
        self.smoothness, self.delta = smoothness, delta

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.smoothness * F.huber_loss(x, torch.zeros_like(x), reduction="sum", delta=self.delta)


def sublinear_bound(smoothness: float, x0: torch.Tensor, minimiser: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """L ‖x^(0) − x*‖² / (2t): the bound on f(x^(t)) − f* for gradient descent with γ = 1/L on a
    convex L-smooth f (t ≥ 1)."""
    return smoothness * (x0 - minimiser).pow(2).sum() / (2 * t)


def contraction_factor(errors: torch.Tensor, tail: float = 0.5) -> float:
    """The measured per-step factor r with errors[t] ≈ C rⁿ, fitted over the last ``tail`` of the run."""
    if not 0 < tail <= 1 or len(errors) < 3:
        raise ValueError(f"tail={tail!r} and {len(errors)} errors are not allowed; need 0 < tail <= 1 and 3 errors")
    start = int(len(errors) * (1 - tail))
    end = len(errors) - 1
    return (errors[end] / errors[start]).item() ** (1 / (end - start))


def product_limit(x0: float, eigenvalue: float, schedule: str, lr: float, terms: int = 10**6) -> float:
    """lim x^(t) of gradient descent on f(x) = (λ/2) x², which is x^(0) ∏_t (1 − λ γ_t),
    evaluated as a product of ``terms`` factors (float64)."""
    positive_int("terms", terms)
    t = torch.arange(terms, dtype=torch.float64)
    factors = 1 - eigenvalue * step_size(schedule, lr, t) * torch.ones_like(t)
    if (factors == 0).any():
        return 0.0
    sign = -1.0 if (factors < 0).sum().item() % 2 else 1.0
    return x0 * sign * math.exp(factors.abs().log().sum().item())


class LeastSquares:
    """Linear regression R(θ) = (1/k) Σ_i ½ (x_iᵀθ − y_i)² on k noisy samples y = x θ_true + σ ε."""

    def __init__(self, k: int = 500, d: int = 5, sigma: float = 0.5, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.randn(k, d, generator=gen, dtype=torch.float64)
        self.y = self.x @ torch.randn(d, generator=gen, dtype=torch.float64) \
            + sigma * torch.randn(k, generator=gen, dtype=torch.float64)
        self.minimiser = torch.linalg.lstsq(self.x, self.y.unsqueeze(1)).solution.squeeze(1)
        self.optimum = self.risk(self.minimiser).item()

    @property
    def k(self) -> int:
        return len(self.y)

    @property
    def smoothness(self) -> float:
        """L, the largest eigenvalue of the Hessian (1/k) XᵀX."""
        return torch.linalg.eigvalsh(self.x.T @ self.x / self.k).max().item()

    def sample_risk(self, theta: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Mean loss ½ (x_iᵀθ − y_i)² over the samples ``idx``; for R runs (θ [R, d], idx [R, b])
        the sum over runs of these means."""
        residual = torch.einsum("...bd,...d->...b", self.x[idx], theta) - self.y[idx]
        return 0.5 * residual.pow(2).mean(-1).sum()

    def noise_floor(self, lr: float) -> float:
        """The stationary mean excess risk E[R(θ_t)] − R(θ*) of single-sample SGD with constant step γ.

        With δ = θ − θ*, r_i = x_iᵀθ* − y_i, H = (1/k) Σ x_i x_iᵀ and S = (1/k) Σ r_i² x_i x_iᵀ, the
        recursion δ ← (I − γ x_i x_iᵀ) δ − γ r_i x_i has a stationary second moment Σ solving
        HΣ + ΣH − γ (1/k) Σ_i (x_iᵀΣx_i) x_i x_iᵀ = γ S; the floor is ½ tr(HΣ) ≈ γ tr(S)/4 for small γ.
        """
        d = self.x.shape[1]
        outer = torch.einsum("ki,kj->kij", self.x, self.x).reshape(self.k, d * d)
        h = outer.mean(0).reshape(d, d)
        residual = self.x @ self.minimiser - self.y
        s = (residual.pow(2)[:, None] * outer).mean(0)
        eye = torch.eye(d, dtype=torch.float64)
        system = torch.kron(eye, h) + torch.kron(h, eye) - lr * outer.T @ outer / self.k
        sigma = torch.linalg.solve(system, lr * s).reshape(d, d)
        return 0.5 * torch.trace(h @ sigma).item()

    def risk(self, theta: torch.Tensor) -> torch.Tensor:
        """The empirical risk R(θ) of every row of ``theta`` (or of one θ)."""
        return 0.5 * (theta @ self.x.T - self.y).pow(2).mean(-1)

    def excess(self, path: torch.Tensor) -> torch.Tensor:
        """R(θ^(t)) − R(θ*) along a path [T, d]."""
        return self.risk(path) - self.optimum


def _hidden_layer(model: nn.Module) -> tuple[torch.Tensor, ...]:
    params = list(model.parameters())
    shapes = [tuple(p.shape) for p in params]
    ok = len(params) == 4 and len(shapes[0]) == 2 and shapes[1] == shapes[0][:1] \
        and len(shapes[2]) == 2 and shapes[2][1] == shapes[0][0] and shapes[3] == shapes[2][:1]
    if not ok:
        raise ValueError(f"model with parameter shapes {shapes} is not allowed; pass a network with one hidden "
                         "layer, parameters (W₁ [m, k], b₁ [m], W₂ [n, m], b₂ [n]) in this order")
    return tuple(params)


def permute_hidden_units(model: nn.Module, permutation: torch.Tensor) -> nn.Module:
    """A copy of a one-hidden-layer network with its m hidden units reordered: the same function,
    other parameters (rows of W₁ and b₁, columns of W₂ permuted)."""
    w1, _, _, _ = _hidden_layer(model)
    if sorted(permutation.tolist()) != list(range(w1.shape[0])):
        raise ValueError(f"permutation={permutation.tolist()} is not a permutation of the {w1.shape[0]} hidden units")
    twin = copy.deepcopy(model)
    w1, b1, w2, _ = _hidden_layer(twin)
    with torch.no_grad():
        w1.copy_(w1[permutation])
        b1.copy_(b1[permutation])
        w2.copy_(w2[:, permutation])
    return twin


def interpolate(model_a: nn.Module, model_b: nn.Module, alpha: float) -> nn.Module:
    """The network with parameters (1 − α) θ_a + α θ_b."""
    mixed = copy.deepcopy(model_a)
    with torch.no_grad():
        for p, pa, pb in zip(mixed.parameters(), model_a.parameters(), model_b.parameters()):
            p.copy_((1 - alpha) * pa + alpha * pb)
    return mixed
