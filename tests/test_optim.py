import copy
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from thesis_lib.networks import DeepNetwork
from thesis_lib.optim import (SCHEDULES, Adam, GradientDescent, empirical_risk_gradient, gd_path,
                              per_sample_gradients, sgd_path, step_size, train_in_lockstep)
from thesis_lib.risk import cross_entropy, cross_entropy_risk, linear_error, squared_error


def small_network(seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).to(dtype)


def run(model, optimizer, steps=100, seed=1, scheduler=None):
    """``steps`` steps on a random loss: a fresh random batch and random targets each step."""
    gen = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    for _ in range(steps):
        x = torch.randn(16, 4, generator=gen, dtype=dtype)
        w = torch.randn(16, 3, generator=gen, dtype=dtype)
        optimizer.zero_grad()
        ((model(x) - w) ** 2).sum(1).mean().backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("lr, betas, eps", [(1e-3, (0.9, 0.999), 1e-8), (3e-2, (0.5, 0.9), 1e-6),
                                             (1e-2, (0.0, 0.99), 1e-3)])
def test_adam_follows_torch_adam(lr, betas, eps):
    ours, ref = small_network(), small_network()
    start = torch.cat([p.detach().reshape(-1) for p in ours.parameters()])
    a = run(ours, Adam(ours.parameters(), lr=lr, betas=betas, eps=eps))
    b = run(ref, torch.optim.Adam(ref.parameters(), lr=lr, betas=betas, eps=eps, foreach=False))
    assert (a - b).abs().max().item() < 1e-6
    assert (a - start).abs().max().item() > 100 * lr * 1e-2  # it moved


def test_adam_follows_torch_adam_in_float64():
    ours, ref = small_network(dtype=torch.float64), small_network(dtype=torch.float64)
    a = run(ours, Adam(ours.parameters(), lr=1e-2))
    b = run(ref, torch.optim.Adam(ref.parameters(), lr=1e-2))
    assert (a - b).abs().max().item() < 1e-12


def test_adam_first_step_is_lr_times_sign():
    """With bias correction, the first step is −α g/(|g| + ε) ≈ −α sign(g) (Kingma & Ba, §2.1)."""
    p = nn.Parameter(torch.tensor([3.0, -0.5, 1e-3], dtype=torch.float64))
    p.grad = torch.tensor([2.0, -7.0, 0.5], dtype=torch.float64)
    Adam([p], lr=0.1, eps=1e-12).step()
    torch.testing.assert_close(p.detach(), torch.tensor([2.9, -0.4, -0.099], dtype=torch.float64))


def test_gradient_descent_follows_torch_sgd():
    ours, ref = small_network(), small_network()
    a = run(ours, GradientDescent(ours.parameters(), lr=0.05))
    b = run(ref, torch.optim.SGD(ref.parameters(), lr=0.05))
    assert torch.equal(a, b)  # exact: both apply p.add_(grad, alpha=-lr), the same kernel


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_schedules_follow_torch_sgd_with_lambda_lr(schedule):
    ours, ref = small_network(), small_network()
    a = run(ours, GradientDescent(ours.parameters(), lr=0.1, schedule=schedule))
    sgd = torch.optim.SGD(ref.parameters(), lr=0.1)
    b = run(ref, sgd, scheduler=torch.optim.lr_scheduler.LambdaLR(sgd, SCHEDULES[schedule][1]))
    assert (a - b).abs().max().item() < 1e-6


def test_step_sizes():
    assert [step_size("inverse", 2.0, t) for t in range(3)] == [2.0, 1.0, 2 / 3]
    assert step_size("inverse_square", 1.0, 3) == 1 / 16
    assert step_size("inverse_sqrt", 1.0, 3) == pytest.approx(0.5)
    assert step_size("constant", 0.3, 99) == 0.3
    torch.testing.assert_close(step_size("inverse", 1.0, torch.arange(3.0)), torch.tensor([1.0, 0.5, 1 / 3]))


def test_bad_arguments_are_named():
    p = [nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="^schedule='cosine' is not allowed; choose one of 'constant', 'inverse', "
                                         "'inverse_square', 'inverse_sqrt'$"):
        GradientDescent(p, lr=0.1, schedule="cosine")
    with pytest.raises(ValueError, match="lr=-1 is not allowed"):
        GradientDescent(p, lr=-1)
    for optimizer in (GradientDescent, Adam):
        with pytest.raises(ValueError, match="^lr=inf is not allowed; it must be a positive finite number$"):
            optimizer(p, lr=math.inf)
    with pytest.raises(ValueError, match=r"^betas\[0\]=1.0 is not allowed; it must lie in \[0, 1\)$"):
        Adam(p, betas=(1.0, 0.5))
    with pytest.raises(ValueError, match=r"betas\[1\]=1.0 is not allowed"):
        Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps=0 is not allowed"):
        Adam(p, eps=0)
    with pytest.raises(ValueError, match="steps=-1 is not allowed"):
        gd_path(torch.sum, [0.0], -1, 0.1)
    with pytest.raises(ValueError, match="batch_size=0 is not allowed"):
        sgd_path(lambda x, i: x.sum(), 3, [0.0], 2, 0.1, batch_size=0)


def test_adams_defaults_are_torchs():
    p = [nn.Parameter(torch.zeros(2))]
    ours, torchs = Adam(p).defaults, torch.optim.Adam(p).defaults
    assert {k: ours[k] for k in ("lr", "betas", "eps")} == {k: torchs[k] for k in ("lr", "betas", "eps")}


def test_gd_path_follows_its_schedule_and_flattens_its_start():
    """f(x) = ½|x|² with γ_t = γ/(t+1): x^(t+1) = (1 − γ/(t+1)) x^(t), from x0 of any shape, flattened."""
    path = gd_path(lambda x: 0.5 * x @ x, [[1.0], [-2.0]], 4, 0.5, schedule="inverse")
    factors = torch.tensor([1.0] + [1 - 0.5 / (t + 1) for t in range(4)], dtype=torch.float64).cumprod(0)
    torch.testing.assert_close(path, factors[:, None] * torch.tensor([1.0, -2.0], dtype=torch.float64))
    assert gd_path(lambda x: x.pow(2).sum(), 3.0, 2, 0.25).shape == (3, 1)


@pytest.mark.parametrize("x0, index_shape, path_shape", [(2.0, (2,), (4, 1)), ([1.0, 2.0], (2,), (4, 2)),
                                                        ([[1.0, 2.0]] * 3, (3, 2), (4, 3, 2))])
def test_sgd_path_draws_indices_per_copy_and_keeps_the_start_shape(x0, index_shape, path_shape):
    """A scalar start is one copy of size 1, a vector one copy, [R, d] R copies, each with its minibatch;
    the default schedule is constant: each step moves x by −γ ∂(½|x|²) = −γx."""
    seen = []

    def sample_risk(x, idx):
        seen.append(tuple(idx.shape))
        return 0.5 * x.pow(2).sum()

    path = sgd_path(sample_risk, 5, x0, 3, 0.5, batch_size=2)
    assert path.shape == path_shape and seen == [index_shape] * 3
    torch.testing.assert_close(path[-1], path[0] * 0.5 ** 3)


def test_gd_path_on_a_quadratic_is_the_matrix_power():
    """For f(x) = ½ xᵀAx, eq. (1.5) with constant γ gives x^(t) = (I − γA)^t x^(0)."""
    a = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    path = gd_path(lambda x: 0.5 * x @ a @ x, [1.0, -2.0], 20, 0.2)
    m = torch.eye(2, dtype=torch.float64) - 0.2 * a
    expected = torch.stack([torch.linalg.matrix_power(m, t) @ torch.tensor([1.0, -2.0], dtype=torch.float64)
                            for t in range(21)])
    torch.testing.assert_close(path, expected)


def test_sgd_path_uses_uniform_samples_with_replacement():
    """Eq. (1.6) with squared loss ½(x_iθ − y_i)² on scalars: θ ← θ − γ_t (x_iθ − y_i) x_i."""
    x, y = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64), torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)

    def sample_risk(theta, idx):
        return 0.5 * (x[idx] * theta - y[idx]).pow(2).mean()

    path = sgd_path(sample_risk, 3, [0.0], 30, 0.3, schedule="inverse", generator=torch.Generator().manual_seed(4))
    idx = torch.randint(3, (30, 1), generator=torch.Generator().manual_seed(4))[:, 0]
    theta = 0.0
    for t, i in enumerate(idx.tolist()):
        theta -= 0.3 / (t + 1) * (x[i] * theta - y[i]).item() * x[i].item()
        assert path[t + 1, 0].item() == pytest.approx(theta, abs=1e-12)
    assert len(set(idx.tolist())) == 3


@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 6), n=st.integers(1, 4), k=st.integers(1, 12), width=st.integers(1, 8),
       seed=st.integers(0, 10_000), loss_name=st.sampled_from(["squared", "linear"]))
def test_lemma_1_2_5_risk_gradient_is_mean_of_sample_gradients(d, n, k, width, seed, loss_name):
    loss = {"squared": squared_error, "linear": linear_error}[loss_name]
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(d, width), nn.Tanh(), nn.Linear(width, n)).double()
    x, y = torch.randn(k, d, dtype=torch.float64), torch.randn(k, n, dtype=torch.float64)
    per_sample = per_sample_gradients(model, loss, x, y)
    full = empirical_risk_gradient(model, loss, x, y)
    for name, g in full.items():
        assert per_sample[name].shape == (k, *g.shape)
        torch.testing.assert_close(per_sample[name].mean(0), g, rtol=1e-10, atol=1e-12)
    # each per-sample gradient is the gradient of that sample's loss alone
    i = k - 1
    alone = empirical_risk_gradient(model, loss, x[i:i + 1], y[i:i + 1])
    for name, g in alone.items():
        torch.testing.assert_close(per_sample[name][i], g, rtol=1e-10, atol=1e-12)


def test_lemma_1_2_5_with_cross_entropy():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 4))
    x, y = torch.randn(9, 5), torch.randint(4, (9,))
    per_sample = per_sample_gradients(model, cross_entropy, x, y)
    for name, g in empirical_risk_gradient(model, cross_entropy, x, y).items():
        torch.testing.assert_close(per_sample[name].mean(0), g)


def test_sgd_minibatch_gradient_is_unbiased():
    """Averaged over all k samples (uniform i), the single-sample gradient of eq. (1.6) is ∂R."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    x, y = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    singles = [empirical_risk_gradient(model, squared_error, x[i:i + 1], y[i:i + 1]) for i in range(6)]
    full = empirical_risk_gradient(model, squared_error, x, y)
    for name, g in full.items():
        torch.testing.assert_close(sum(s[name] for s in singles) / 6, g)
        assert not torch.allclose(singles[0][name], g)
    assert math.isfinite(sum(v.sum().item() for v in full.values()))


def test_train_in_lockstep_measures_how_far_two_optimisers_drift_apart():
    x = torch.randint(0, 256, (64, 4), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    y = torch.randint(0, 3, (64,), generator=torch.Generator().manual_seed(1))
    batches = torch.arange(64).reshape(8, 8)

    def copies(n):
        torch.manual_seed(0)
        first = DeepNetwork((4, 5, 3), "relu", output_activation="identity")
        return [first] + [copy.deepcopy(first) for _ in range(n - 1)]

    a, b = copies(2)
    same = train_in_lockstep([(a, torch.optim.SGD(a.parameters(), lr=0.1)),
                              (b, torch.optim.SGD(b.parameters(), lr=0.1))], cross_entropy_risk, x, y, batches)
    a, b, c = copies(3)
    pairs = [(a, Adam(a.parameters(), lr=1e-2)), (b, torch.optim.Adam(b.parameters(), lr=1e-2)),
             (c, torch.optim.SGD(c.parameters(), lr=1e-2))]
    drift = train_in_lockstep(pairs, cross_entropy_risk, x, y, batches)
    assert same == 0.0 and drift > 1e-3
    assert train_in_lockstep(pairs[:2], cross_entropy_risk, x, y, batches) < 1e-6
    with pytest.raises(ValueError, match="pairs has 1"):
        train_in_lockstep(pairs[:1], cross_entropy_risk, x, y, batches)


def test_train_in_lockstep_without_targets_on_float_inputs_reports_the_first_models_drift():
    """y = None reaches the objective as None; float inputs are used as given (float64 stays float64, not
    as_float's float32); the drift is that of the first model's parameters from the others' (here one step
    apart: γ|∂R|)."""
    x = torch.linspace(0.5, 3.0, 8, dtype=torch.float64).reshape(4, 2)
    first, second = (nn.Linear(2, 1, bias=False, dtype=torch.float64) for _ in range(2))
    for model in (first, second):
        nn.init.zeros_(model.weight)

    def objective(model, xb, yb):
        assert yb is None
        return -model(xb).sum()

    drift = train_in_lockstep([(first, GradientDescent(first.parameters(), lr=0.1)),
                               (second, GradientDescent(second.parameters(), lr=0.0 + 1e-9))],
                              objective, x, None, torch.arange(4)[None])
    torch.testing.assert_close(first.weight.detach(), 0.1 * x.sum(0, keepdim=True))
    assert drift == pytest.approx(0.1 * x.sum(0).max().item(), rel=1e-5)
