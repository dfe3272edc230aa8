"""Gradient descent, stochastic gradient descent and Adam, written from their update rules.

* Gradient descent (Thm 1.2.4, eq. 1.5; Cor 1.2.6): θ ← θ − γ_t ∂R(θ).
* Stochastic gradient descent (Thm 1.2.7, eq. 1.6): the same step with the gradient of the
  loss of one sample i, or the mean over a minibatch, drawn uniformly at random each step.
* Adam (Kingma & Ba 2015, Algorithm 1, with bias correction).

Both optimisers are ``torch.optim.Optimizer`` subclasses, so they work on any model's
parameters; the tests check them against ``torch.optim.SGD`` and ``torch.optim.Adam``, and
:func:`train_in_lockstep` lets a chapter do the same on real data.
The gradient of an empirical risk is the mean of the per-sample gradients (Lemma 1.2.5):
:func:`per_sample_gradients` computes these with ``torch.func``.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import torch
from torch.func import functional_call, grad, vmap

from .infra.device import as_float
from .infra.validation import non_negative_int, positive_int, positive_number
from .risk import Loss, empirical_risk

#: step-size schedules γ_t for a base step γ: name -> (label, factor of γ at step t = 0, 1, 2, ...)
SCHEDULES: dict[str, tuple[str, Callable[[int], float]]] = {
    "constant": ("γ", lambda t: 1.0),
    "inverse": ("γ/(t+1)", lambda t: 1.0 / (t + 1)),
    "inverse_square": ("γ/(t+1)²", lambda t: 1.0 / (t + 1) ** 2),
    "inverse_sqrt": ("γ/√(t+1)", lambda t: 1.0 / (t + 1) ** 0.5),
}


def _check_schedule(schedule: str) -> None:
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r} is not allowed; choose one of {', '.join(map(repr, SCHEDULES))}")


def step_size(schedule: str, lr: float, t: int) -> float:
    """γ_t of the named schedule with base step ``lr`` at step ``t`` (counted from 0; an int or a tensor)."""
    _check_schedule(schedule)
    return lr * SCHEDULES[schedule][1](t)


def _check_lr(lr: float) -> None:
    positive_number("lr", lr, finite=True)


class _ParameterwiseOptimizer(torch.optim.Optimizer):
    """An optimiser whose step updates each parameter with a gradient by :meth:`update` alone."""

    def update(self, p: torch.Tensor, group: dict, state: dict) -> None:
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, group, self.state[p])
        return loss


class GradientDescent(_ParameterwiseOptimizer):
    """θ^(t+1) = θ^(t) − γ_t ∂R(θ^(t)) with γ_t from a schedule (eq. 1.5 and 1.6).

    It is gradient descent when ``.grad`` holds the gradient of the whole empirical risk
    (Cor 1.2.6) and stochastic gradient descent when it holds that of a sampled minibatch (Thm 1.2.7).
    """

    def __init__(self, params: Iterable, lr: float, schedule: str = "constant"):
        _check_lr(lr)
        _check_schedule(schedule)
        super().__init__(params, {"lr": lr, "schedule": schedule})

    def update(self, p: torch.Tensor, group: dict, state: dict) -> None:
        t = state.get("step", 0)
        p.add_(p.grad, alpha=-step_size(group["schedule"], group["lr"], t))
        state["step"] = t + 1


class Adam(_ParameterwiseOptimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1): with g_t the gradient at step t = 1, 2, ...,

    m_t = β1 m_{t−1} + (1 − β1) g_t,   v_t = β2 v_{t−1} + (1 − β2) g_t²,
    m̂_t = m_t / (1 − β1^t),   v̂_t = v_t / (1 − β2^t),   θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε).
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        _check_lr(lr)
        for name, beta in zip(("betas[0]", "betas[1]"), betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}={beta!r} is not allowed; it must lie in [0, 1)")
        if not eps > 0:
            raise ValueError(f"eps={eps!r} is not allowed; it must be positive")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    def update(self, p: torch.Tensor, group: dict, state: dict) -> None:
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
        state["step"] += 1
        t, m, v, g = state["step"], state["m"], state["v"], p.grad
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


def train_in_lockstep(pairs: Sequence[tuple[torch.nn.Module, torch.optim.Optimizer]], objective: Callable,
                      x: torch.Tensor, y: torch.Tensor | None, batches: torch.Tensor) -> float:
    """Train every (model, optimiser) of ``pairs`` on the same minibatches — row r of ``batches`` holds
    the indices of step r — and return the largest difference between a parameter of the first model
    and the same parameter of another: up to rounding 0 when the optimisers are one algorithm.

    ``objective(model, x_batch, y_batch)`` is the risk; uint8 images become floats in [0, 1].
    """
    if len(pairs) < 2:
        raise ValueError(f"pairs has {len(pairs)} (model, optimiser) pair(s); give at least two to compare")
    for idx in batches:
        xb = as_float(x[idx]) if x.dtype == torch.uint8 else x[idx]
        for model, optimizer in pairs:
            optimizer.zero_grad()
            objective(model, xb, None if y is None else y[idx]).backward()
            optimizer.step()
    first = list(pairs[0][0].parameters())
    return max((p - q).abs().max().item() for model, _ in pairs[1:] for p, q in zip(first, model.parameters()))


def per_sample_gradients(model: torch.nn.Module, loss: Loss, x: torch.Tensor,
                         y: torch.Tensor) -> dict[str, torch.Tensor]:
    """∂_θ L(x_i, y_i, f_θ(x_i)) for every sample i: name -> tensor [k, *parameter shape]."""
    params = {name: p.detach() for name, p in model.named_parameters()}
    buffers = {name: b.detach() for name, b in model.named_buffers()}

    def sample_loss(theta, xi, yi):
        prediction = functional_call(model, (theta, buffers), (xi.unsqueeze(0),))
        return loss(yi.unsqueeze(0), prediction).squeeze(0)

    return vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, x, y)


def empirical_risk_gradient(model: torch.nn.Module, loss: Loss, x: torch.Tensor,
                            y: torch.Tensor) -> dict[str, torch.Tensor]:
    """∂_θ R_{L,D}(f_θ) by back-propagating the empirical risk (eq. 1.4) itself."""
    names, params = zip(*model.named_parameters())
    grads = torch.autograd.grad(empirical_risk(loss, model, x, y), params)
    return dict(zip(names, grads))


def gd_path(f: Callable[[torch.Tensor], torch.Tensor], x0, steps: int, lr: float,
            schedule: str = "constant") -> torch.Tensor:
    """Iterates x^(0), ..., x^(steps) of gradient descent (eq. 1.5) on ``f`` from ``x0`` (float64,
    flattened), shape [steps + 1, x0.numel()]."""
    _check_steps(steps)
    x = _start(x0, flat=True)
    optimizer = GradientDescent([x], lr=lr, schedule=schedule)
    path = [x.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(x).backward()
        optimizer.step()
        path.append(x.detach().clone())
    return torch.stack(path)


def sgd_path(sample_risk: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], k: int, x0, steps: int,
             lr: float, schedule: str = "constant", batch_size: int = 1,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Iterates of stochastic gradient descent (eq. 1.6) from ``x0`` (float64), shape [steps + 1, *x0.shape]
    ([steps + 1, 1] for a scalar ``x0``).

    Each step draws ``batch_size`` indices uniformly from {0, ..., k−1} (independently, with
    replacement) and follows the gradient of ``sample_risk(x, indices)``, the mean loss of
    those samples; ``batch_size=1`` is the single-sample rule of Thm 1.2.7. An ``x0`` of shape
    [R, d] runs R independent copies at once: ``indices`` is then [R, batch_size] and
    ``sample_risk`` must return the sum over the copies of each copy's mean loss.
    """
    _check_steps(steps)
    positive_int("batch_size", batch_size)
    x = _start(x0)
    optimizer = GradientDescent([x], lr=lr, schedule=schedule)
    indices = torch.randint(k, (steps, *x.shape[:-1], batch_size), generator=generator)
    path = [x.detach().clone()]
    for idx in indices:
        optimizer.zero_grad()
        sample_risk(x, idx).backward()
        optimizer.step()
        path.append(x.detach().clone())
    return torch.stack(path)


def _start(x0, flat: bool = False) -> torch.Tensor:
    x = torch.as_tensor(x0, dtype=torch.float64).detach().clone()
    return (x.reshape(-1) if flat or x.dim() == 0 else x).requires_grad_(True)


def _check_steps(steps: int) -> None:
    non_negative_int("steps", steps)
