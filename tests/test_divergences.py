"""Def 3.1.1-3.1.3 and Remark 3.1.4 against torch.distributions, Monte Carlo and the identity KL = H_q - H."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Bernoulli, Categorical, Independent, Normal, kl_divergence

from thesis_lib.monte_carlo import mc_cross_entropy, mc_entropy, mc_kl
from thesis_lib.divergences import (bernoulli_cross_entropy, bernoulli_entropy, bernoulli_kl,
                                    discrete_cross_entropy, discrete_entropy, discrete_kl,
                                    gaussian_cross_entropy, gaussian_entropy, gaussian_kl,
                                    kl_to_standard_normal)

ALPHA = 1e-6  # two-sided false-alarm probability of each Monte Carlo check (z = 4.89)
N_MC = 200_000


# weights are exactly 0 or at least 1e-3: torch's Categorical clamps probabilities at machine eps,
# so it is no reference for masses below ~1e-15 (ours stays exact there)
weights = st.one_of(st.just(0.0), st.floats(1e-3, 1.0))


def probability_vector(k):
    return st.lists(weights, min_size=k, max_size=k).filter(lambda w: sum(w) > 0).map(
        lambda w: torch.tensor(w, dtype=torch.float64) / sum(w))


def pair_of_vectors():
    return st.integers(1, 8).flatmap(lambda k: st.tuples(probability_vector(k), probability_vector(k)))


def gaussians(seed, shape):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(4)]


def diagonal(mu, logvar):
    return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)


# --- discrete -------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(pair_of_vectors())
def test_discrete_against_torch_distributions(pq):
    p, q = pq
    ref_kl = kl_divergence(Categorical(probs=p), Categorical(probs=q))
    torch.testing.assert_close(discrete_kl(p, q), ref_kl)
    torch.testing.assert_close(discrete_entropy(p), Categorical(probs=p).entropy(), atol=1e-12, rtol=1e-9)
    support = torch.arange(len(p))
    ref_ce = -(p * Categorical(probs=q).log_prob(support)).nansum() if (q[p > 0] > 0).all() else torch.tensor(math.inf)
    torch.testing.assert_close(discrete_cross_entropy(p, q), ref_ce.double())


@settings(max_examples=40, deadline=None)
@given(pair_of_vectors())
def test_remark_3_1_4_kl_is_cross_entropy_minus_entropy(pq):
    p, q = pq
    kl = discrete_kl(p, q)
    torch.testing.assert_close(kl, discrete_cross_entropy(p, q) - discrete_entropy(p))
    assert kl >= -1e-12  # Gibbs' inequality
    assert discrete_entropy(p) >= 0


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8).flatmap(probability_vector))
def test_kl_of_a_distribution_with_itself_is_zero(p):
    assert discrete_kl(p, p).item() == pytest.approx(0.0, abs=1e-12)


def test_zero_mass_conventions_and_batching():
    p, q = torch.tensor([0.5, 0.5, 0.0]), torch.tensor([1.0, 0.0, 0.0])
    assert discrete_kl(p, q).item() == math.inf  # q has no mass where p has: not absolutely continuous
    assert discrete_kl(q, p).item() == pytest.approx(math.log(2))  # 0 log 0 = 0
    assert discrete_entropy(q).item() == 0.0
    batch = torch.stack([p, q])
    torch.testing.assert_close(discrete_kl(batch, batch.flip(0)), torch.stack([discrete_kl(p, q), discrete_kl(q, p)]))


def test_discrete_kl_is_asymmetric_and_not_a_metric():
    p, q, r = (torch.tensor([x, 1 - x], dtype=torch.float64) for x in (0.1, 0.5, 0.9))
    assert discrete_kl(p, q) != pytest.approx(discrete_kl(q, p).item())
    assert discrete_kl(p, r) > discrete_kl(p, q) + discrete_kl(q, r)  # the triangle inequality fails


def test_gradients_are_finite_at_zero_mass():
    p = torch.tensor([0.0, 0.3, 0.7], requires_grad=True)
    q = torch.tensor([0.2, 0.0, 0.8], requires_grad=True)
    (discrete_entropy(p) + discrete_kl(p, torch.tensor([0.2, 0.4, 0.4]))).backward()
    assert torch.isfinite(p.grad).all()
    discrete_cross_entropy(torch.tensor([0.2, 0.0, 0.8]), q).backward()
    assert torch.isfinite(q.grad).all()


# --- Bernoulli ------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_bernoulli_against_torch_distributions(seed):
    g = torch.Generator().manual_seed(seed)
    p, q = torch.rand(2, 50, generator=g, dtype=torch.float64)
    p[:3] = torch.tensor([0.0, 1.0, 0.5])
    torch.testing.assert_close(bernoulli_entropy(p), Bernoulli(probs=p).entropy(), atol=1e-12, rtol=1e-9)
    torch.testing.assert_close(bernoulli_kl(p, q), kl_divergence(Bernoulli(probs=p), Bernoulli(probs=q)))
    torch.testing.assert_close(bernoulli_cross_entropy(p, q), -Bernoulli(probs=q, validate_args=False).log_prob(p))
    torch.testing.assert_close(bernoulli_kl(p, q), bernoulli_cross_entropy(p, q) - bernoulli_entropy(p))


def test_bernoulli_boundaries():
    assert bernoulli_entropy(torch.tensor([0.5])).item() == pytest.approx(math.log(2))
    assert bernoulli_cross_entropy(torch.tensor([0.5]), torch.tensor([1.0])).item() == math.inf
    assert bernoulli_cross_entropy(torch.tensor([0.5]), torch.tensor([1.0]), log_floor=-100).item() == 50.0
    assert bernoulli_kl(torch.tensor([1.0]), torch.tensor([1.0])).item() == 0.0


# --- diagonal Gaussians ---------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.tuples(st.integers(1, 4), st.integers(1, 5)))
def test_gaussians_against_torch_distributions(seed, shape):
    mu_p, lv_p, mu_q, lv_q = gaussians(seed, shape)
    p, q = diagonal(mu_p, lv_p), diagonal(mu_q, lv_q)
    torch.testing.assert_close(gaussian_kl(mu_p, lv_p, mu_q, lv_q), kl_divergence(p, q))
    torch.testing.assert_close(gaussian_entropy(lv_p), p.entropy())
    standard = diagonal(torch.zeros(shape, dtype=torch.float64), torch.zeros(shape, dtype=torch.float64))
    torch.testing.assert_close(kl_to_standard_normal(mu_p, lv_p), kl_divergence(p, standard))
    torch.testing.assert_close(gaussian_kl(mu_p, lv_p, mu_q, lv_q),
                               gaussian_cross_entropy(mu_p, lv_p, mu_q, lv_q) - gaussian_entropy(lv_p))


def test_gaussian_closed_forms_against_monte_carlo():
    torch.manual_seed(0)
    mu_p, lv_p = torch.tensor([0.3, -1.0, 2.0]), torch.tensor([-0.5, 0.4, -2.0])
    mu_q, lv_q = torch.tensor([0.0, 0.5, 1.5]), torch.tensor([0.2, -0.3, 0.0])
    p, q = diagonal(mu_p, lv_p), diagonal(mu_q, lv_q)
    checks = [(mc_kl(p, q, N_MC), gaussian_kl(mu_p, lv_p, mu_q, lv_q)),
              (mc_entropy(p, N_MC), gaussian_entropy(lv_p)),
              (mc_cross_entropy(p, q, N_MC), gaussian_cross_entropy(mu_p, lv_p, mu_q, lv_q)),
              (mc_kl(p, diagonal(torch.zeros(3), torch.zeros(3)), N_MC), kl_to_standard_normal(mu_p, lv_p))]
    for estimate, closed in checks:
        assert estimate.agrees_with(closed.item(), ALPHA), (estimate, closed)
        # power: the check rejects an error of 3% (a dropped or doubled term would be far larger)
        assert not estimate.agrees_with(closed.item() + 0.03 * max(1.0, abs(closed.item())), ALPHA)


def test_discrete_closed_forms_against_monte_carlo():
    torch.manual_seed(1)
    p, q = torch.tensor([0.1, 0.6, 0.3]), torch.tensor([0.4, 0.4, 0.2])
    estimate = mc_kl(Categorical(probs=p), Categorical(probs=q), N_MC)
    assert estimate.agrees_with(discrete_kl(p, q).item(), ALPHA)
    assert mc_entropy(Categorical(probs=p), N_MC).agrees_with(discrete_entropy(p).item(), ALPHA)
    assert mc_cross_entropy(Categorical(probs=p), Categorical(probs=q), N_MC).agrees_with(
        discrete_cross_entropy(p, q).item(), ALPHA)


def test_differential_entropy_can_be_negative():
    logvar = torch.tensor([2 * math.log(0.1)])
    assert gaussian_entropy(logvar).item() == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 0.01))
    assert gaussian_entropy(logvar).item() < 0


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: discrete_entropy(torch.tensor([-0.1, 1.1])), r"p has a negative entry \(-0.1\)"),
    (lambda: discrete_kl(torch.tensor([0.5, 0.6]), torch.tensor([0.5, 0.5])), r"p does not sum to 1 .* \(a sum is 1.1\)"),
    (lambda: discrete_kl(torch.tensor([0.5, 0.5]), torch.tensor([0.2, 0.2, 0.6])),
     r"p has shape \(2,\) but q has shape \(3,\)"),
    (lambda: discrete_cross_entropy(torch.tensor([1.0]), torch.tensor([0.3])), r"q does not sum to 1"),
    (lambda: discrete_entropy(torch.tensor(1.0)), r"p is a scalar"),
    (lambda: discrete_entropy(torch.tensor([1, 0])), r"p is a torch.int64 tensor of shape \(2,\)"),
    (lambda: bernoulli_entropy(torch.tensor([1.5])), r"p has 1 value\(s\) outside \[0, 1\]"),
    (lambda: gaussian_kl(torch.zeros(2), torch.tensor([0.0, -math.inf]), torch.zeros(2), torch.zeros(2)),
     r"logvar_p has a non-finite entry \(-inf\); the variance exp\(logvar_p\) must be positive"),
    (lambda: kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 4)), r"mu has shape \(2, 3\) but logvar has"),
    (lambda: gaussian_cross_entropy(torch.zeros(2), torch.zeros(2), torch.zeros(3), torch.zeros(3)),
     r"mu_p has shape \(2,\) but mu_q has shape \(3,\)"),
    (lambda: gaussian_entropy(torch.tensor(float("nan"))), r"logvar has a non-finite entry"),
])
def test_bad_input_is_refused_with_a_clear_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()


_P, _Q = torch.tensor([0.25, 0.75]), torch.tensor([0.5, 0.5])
_MU, _LV = torch.zeros(2), torch.zeros(2)
#: each function, its valid arguments by name, and its kind of arguments
_SIGNATURES = [
    (discrete_cross_entropy, {"p": _P, "q": _Q}, "probability"),
    (discrete_kl, {"p": _P, "q": _Q}, "probability"),
    (bernoulli_cross_entropy, {"p": _P, "q": _Q}, "unit"),
    (bernoulli_kl, {"p": _P, "q": _Q}, "unit"),
    (gaussian_cross_entropy, {"mu_p": _MU, "logvar_p": _LV, "mu_q": _MU, "logvar_q": _LV}, "gaussian"),
    (gaussian_kl, {"mu_p": _MU, "logvar_p": _LV, "mu_q": _MU, "logvar_q": _LV}, "gaussian"),
]


@pytest.mark.parametrize("function, arguments, kind", _SIGNATURES, ids=lambda x: getattr(x, "__name__", ""))
def test_every_refusal_names_the_parameter_and_what_is_allowed(function, arguments, kind):
    for name in arguments:
        bad = {"probability": torch.tensor([1.5, 0.0]), "unit": torch.tensor([1.5, 0.0]),
               "gaussian": torch.tensor([0.0, math.inf]) if name.startswith("logvar") else torch.tensor(0.0)}[kind]
        expected = {
            "probability": rf"^{name} has 1 value\(s\) outside \[0, 1\] \(e\.g\. 1\.5; min 0, max 1\.5\); allowed "
                           r"values lie in \[0, 1\] \(8-bit pixels must be divided by 255 first\)$",
            "unit": rf"^{name} has 1 value\(s\) outside \[0, 1\] .* \(8-bit pixels must be divided by 255 first\)$",
            "gaussian": (rf"^{name} has a non-finite entry \(inf\)" if name.startswith("logvar") else
                         rf"^{name} is a scalar; give the dimensions of the Gaussian as the last axis "
                         r"\(shape \[\.\.\., k\], k >= 1\)$"),
        }[kind]
        pair = {f"logvar{name[2:]}": torch.tensor(0.0)} if kind == "gaussian" and name.startswith("mu") else {}
        with pytest.raises(ValueError, match=expected):
            function(**arguments | {name: bad} | pair)
        with pytest.raises(ValueError, match=rf"^{name} is \[0\.5\]; it must be a floating-point torch\.Tensor$"):
            function(**arguments | {name: [0.5]})
    first, second = list(arguments)[:2] if kind != "gaussian" else ("mu_p", "mu_q")
    with pytest.raises(ValueError, match=rf"^{first} has shape \(2,\) but {second} has shape \(3,\); "
                                         r"they must have the same shape$"):
        function(**arguments | {second: torch.full((3,), 1 / 3), f"logvar{second[2:]}": torch.zeros(3)}
                 if kind == "gaussian" else arguments | {second: torch.full((3,), 1 / 3)})
    if kind == "gaussian":
        with pytest.raises(ValueError, match=r"^logvar is a scalar; give the dimensions as the last axis "
                                             r"\(shape \[\.\.\., k\]\)$"):
            gaussian_entropy(torch.tensor(0.0))


def test_discrete_entropies_of_a_batch_are_one_per_row():
    """Rows of a [2, 3] batch against the entropies of each row alone (torch.distributions)."""
    p = torch.tensor([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]], dtype=torch.float64)
    q = torch.tensor([[0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]], dtype=torch.float64)
    torch.testing.assert_close(discrete_entropy(p), Categorical(probs=p).entropy())
    torch.testing.assert_close(discrete_cross_entropy(p, q), -(p * q.log()).sum(-1))
    torch.testing.assert_close(discrete_kl(p, q), kl_divergence(Categorical(probs=p), Categorical(probs=q)))


def test_the_log_floor_clamps_both_terms_of_the_bernoulli_cross_entropy():
    """q = 0 against p = 1/2: each of the two terms meets log 0 once; the floor -100 makes each 50."""
    p, q = torch.tensor([0.5, 0.5]), torch.tensor([0.0, 1.0])
    torch.testing.assert_close(bernoulli_cross_entropy(p, q, log_floor=-100.0), torch.tensor([50.0, 50.0]))
