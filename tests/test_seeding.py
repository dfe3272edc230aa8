"""thesis_lib.infra.seeding against the random sources it seeds (Python's random, NumPy's global state,
torch's default generator and torch.Generator().manual_seed) and nn.Module's train/eval mode."""

import random

import numpy as np
import pytest
import torch
from torch import nn

from thesis_lib.infra.seeding import seed_everything, seeded_evaluation


def _draws():
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


@pytest.mark.parametrize("seed", [0, 7, 2**31 - 1])
def test_seed_everything_seeds_python_numpy_and_torch(seed):
    seed_everything(seed)
    first = _draws()
    _draws()  # move every source on
    seed_everything(seed)
    assert _draws() == first


def test_seed_everything_gives_each_source_the_state_its_own_seeding_gives():
    seed_everything(5)
    ours = _draws()
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    assert _draws() == ours
    seed_everything(6)
    assert _draws() != ours


def test_seed_everything_returns_a_cpu_generator_seeded_like_manual_seed():
    generator = seed_everything(11)
    assert isinstance(generator, torch.Generator) and generator.device == torch.device("cpu")
    assert generator.initial_seed() == 11
    assert torch.equal(torch.randn(5, generator=generator), torch.randn(5, generator=torch.Generator().manual_seed(11)))
    assert seed_everything().initial_seed() == 0  # the default seed


def test_seed_everything_returns_its_own_generator_not_the_global_one():
    generator = seed_everything(3)
    expected_global = torch.rand(4, generator=torch.Generator().manual_seed(3))
    torch.rand(10, generator=generator)  # drawing from the returned generator leaves the global state alone
    assert torch.equal(torch.rand(4), expected_global)


class _Noisy(nn.Module):
    """A model whose output is a draw from torch's global generator; records its training flag per call."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(3))
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return x * self.weight + torch.rand(3)


@pytest.mark.parametrize("training", [True, False])
def test_seeded_evaluation_is_in_eval_mode_inside_and_restores_the_mode(training):
    model = _Noisy().train(training)
    with seeded_evaluation(model) as device:
        assert device == torch.device("cpu")
        model(torch.zeros(3))
        assert not model.training
    assert model.modes == [False] and model.training is training


def test_seeded_evaluation_draws_what_manual_seed_draws_and_the_same_seed_draws_the_same():
    model = _Noisy()
    with seeded_evaluation(model, seed=4):
        first = model(torch.zeros(3))
    with seeded_evaluation(model, seed=4):
        second = model(torch.zeros(3))
    with seeded_evaluation(model, seed=5):
        other = model(torch.zeros(3))
    torch.testing.assert_close(first, torch.rand(3, generator=torch.Generator().manual_seed(4)), rtol=0, atol=0)
    assert torch.equal(first, second) and not torch.equal(first, other)
    with seeded_evaluation(model):  # the default seed is 0
        torch.testing.assert_close(model(torch.zeros(3)), torch.rand(3, generator=torch.Generator().manual_seed(0)),
                                   rtol=0, atol=0)


def test_seeded_evaluation_leaves_the_callers_random_state_as_it_was():
    model = _Noisy()
    torch.manual_seed(9)
    state = torch.get_rng_state()
    expected = torch.rand(5)
    torch.set_rng_state(state)
    with seeded_evaluation(model, seed=1):
        model(torch.zeros(3))
        torch.rand(100)
    assert torch.equal(torch.rand(5), expected)


def test_an_exception_inside_restores_the_random_state_and_the_mode():
    model = _Noisy().train()
    state = torch.get_rng_state()
    with pytest.raises(RuntimeError, match="^inside$"):
        with seeded_evaluation(model, seed=2):
            torch.rand(10)
            raise RuntimeError("inside")
    assert model.training and torch.equal(torch.get_rng_state(), state)


def test_a_model_without_parameters_is_evaluated_on_the_cpu():
    model = nn.Sequential(nn.ReLU()).train()
    with seeded_evaluation(model) as device:
        assert device == torch.device("cpu") and not model.training
    assert model.training
