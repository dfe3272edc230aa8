"""The generative classifier against torch's Gaussians and Bayes' rule written out; logistic regression
against the Bayes classifier it should approach."""

import math

import pytest
import torch
from torch.distributions import MultivariateNormal

from thesis_lib.generative_classifier import GaussianClassifier, logistic_regression


def two_classes(n=300, seed=0):
    torch.manual_seed(seed)
    a = MultivariateNormal(torch.tensor([-1.0, 0.0]), torch.tensor([[1.0, 0.5], [0.5, 1.0]]))
    b = MultivariateNormal(torch.tensor([1.5, 1.0]), torch.tensor([[0.6, -0.2], [-0.2, 0.8]]))
    x = torch.cat([a.sample((n,)), b.sample((2 * n,))])
    return x, torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(2 * n, dtype=torch.long)])


def test_fit_is_maximum_likelihood_and_the_posterior_is_bayes_rule():
    x, y = two_classes()
    model = GaussianClassifier.fit(x, y)
    torch.testing.assert_close(model.prior.probs, torch.tensor([1 / 3, 2 / 3]))
    centred = x[y == 1] - x[y == 1].mean(0)
    torch.testing.assert_close(model.classes[1].covariance_matrix, centred.T @ centred / len(centred))
    point = torch.tensor([0.2, 0.4])
    joint = [c.log_prob(point).exp() * p for c, p in zip(model.classes, model.prior.probs)]
    torch.testing.assert_close(model.posterior(point)[1], joint[1] / (joint[0] + joint[1]))
    torch.testing.assert_close(model.density(point), joint[0] + joint[1])


def test_samples_follow_the_fitted_classes():
    x, y = two_classes()
    model = GaussianClassifier.fit(x, y)
    torch.manual_seed(1)
    new_x, new_y = model.sample(20_000)
    assert abs(new_y.float().mean().item() - 2 / 3) < 0.02
    torch.testing.assert_close(new_x[new_y == 0].mean(0), model.classes[0].mean, atol=0.05, rtol=0)


def test_logistic_regression_approaches_the_generative_decisions():
    x, y = two_classes()
    torch.manual_seed(0)
    logistic = logistic_regression(x, y)
    with torch.no_grad():
        agree = ((logistic(x).argmax(-1) == GaussianClassifier.fit(x, y).posterior(x).argmax(-1)).float().mean())
    assert agree > 0.95 and logistic.widths == (2, 2)


def test_a_class_with_fewer_than_two_points_is_refused():
    x, y = two_classes(5)
    with pytest.raises(ValueError, match=r"class counts \[5, 10, 1\]"):
        GaussianClassifier.fit(torch.cat([x, x[:1]]), torch.cat([y, torch.tensor([2])]))
    assert math.isfinite(GaussianClassifier.fit(x, y).density(x[:1]).item())
