"""thesis_lib.experiments.classifiers: the registered classifiers of §1.2 and the judge of §3.2 against what the
module's docstring and chapter 1.2 state (784-64-10 ReLU, cross-entropy, GD γ = 0.3 on all 60,000 images, SGD
γ = 0.05 and Adam α = 0.001 in batches of 64, 2 and 30 epochs; the judge: 5×5 convolutions with 8 and 16
channels, 64 features, Adam), and the judge's test accuracy against MNIST's published test label counts."""

import math

import pytest
import torch
from torch import nn

from thesis_lib.experiments import classifiers as clf
from thesis_lib.experiments.experiment import registered
from thesis_lib.infra.config import TrainConfig
from thesis_lib.networks import DeepNetwork
from thesis_lib.risk import cross_entropy_risk

#: digits 0..9 among MNIST's 10,000 test images (LeCun, Cortes & Burges)
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_four_experiments_are_registered_under_their_names():
    assert [e.name for e in clf.EXPERIMENTS] == ["clf-gd", "clf-sgd", "clf-adam", "judge-mnist"]
    assert clf.EXPERIMENTS == [clf.GD, clf.SGD, clf.ADAM, clf.JUDGE]
    assert all(registered()[e.name] is e for e in clf.EXPERIMENTS)


def test_the_three_optimisers_train_the_same_784_64_10_relu_classifier_on_labelled_mnist():
    assert clf.CLASSIFIER == {"kind": "dense", "widths": [784, 64, 10], "activation": "relu",
                              "output_activation": "identity"}
    for exp in (clf.GD, clf.SGD, clf.ADAM):
        assert exp.architecture == clf.CLASSIFIER and exp.objective == "cross-entropy"
        assert exp.data == "labelled-mnist" and exp.objective_function is cross_entropy_risk
        torch.manual_seed(0)
        model = exp.build()
        assert isinstance(model, DeepNetwork) and model.widths == (784, 64, 10)
        assert [layer.activation for layer in model.layers] == ["relu", "identity"]


@pytest.mark.parametrize("name, batch_size, lr, optimizer", [("clf-gd", 60_000, 0.3, "sgd"),
                                                             ("clf-sgd", 64, 0.05, "sgd"),
                                                             ("clf-adam", 64, 1e-3, "adam")])
def test_each_optimiser_has_its_stated_step_and_batch_for_2_or_30_epochs(name, batch_size, lr, optimizer):
    exp = registered()[name]
    for budget, epochs in (("quick", 2), ("full", 30)):
        assert exp.config(budget) == TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer)


def test_every_optimiser_gets_the_same_per_sample_gradient_budget():
    """An epoch costs the 60,000 training images whatever the batch: one GD step, or 938 steps of 64."""
    assert clf.TRAIN_IMAGES == 60_000
    steps = {e.name: math.ceil(clf.TRAIN_IMAGES / e.config("full").batch_size) for e in (clf.GD, clf.SGD, clf.ADAM)}
    assert steps == {"clf-gd": 1, "clf-sgd": 938, "clf-adam": 938}
    assert len({e.config("full").epochs for e in (clf.GD, clf.SGD, clf.ADAM)}) == 1


def test_the_judge_is_a_small_lenet_trained_with_adam_and_scored_by_its_test_accuracy():
    assert clf.JUDGE_ARCHITECTURE == {"kind": "conv-classifier", "channels": [8, 16], "features": 64}
    assert clf.JUDGE.architecture == clf.JUDGE_ARCHITECTURE and clf.JUDGE.objective == "cross-entropy"
    assert clf.JUDGE.data == "labelled-mnist" and clf.JUDGE.evaluation is clf.test_accuracy
    assert clf.JUDGE.config("quick") == TrainConfig(epochs=1, batch_size=64, lr=1e-3, optimizer="adam")
    assert clf.JUDGE.config("full") == TrainConfig(epochs=20, batch_size=64, lr=1e-3, optimizer="adam")
    torch.manual_seed(0)
    judge = clf.JUDGE.build()
    kernels = [m.kernel.shape for m in judge.modules() if hasattr(m, "kernel")]
    assert [tuple(k[:1]) + tuple(k[2:]) for k in kernels] == [(8, 5, 5), (16, 5, 5)]
    assert judge.head.in_features == 64 and judge.head.width == 10
    assert judge(torch.rand(3, 1, 28, 28)).shape == (3, 10)


class _AlwaysSays(nn.Module):
    """A classifier whose logits always pick ``digit``."""

    def __init__(self, digit):
        super().__init__()
        self.digit = digit

    def forward(self, x):
        return nn.functional.one_hot(torch.full((len(x),), self.digit), 10).float()


@pytest.mark.parametrize("digit", [1, 5])
def test_test_accuracy_is_the_share_of_the_10000_test_images_labelled_correctly(digit):
    assert sum(TEST_LABEL_COUNTS) == 10_000
    assert clf.test_accuracy(_AlwaysSays(digit)) == {"test_accuracy": pytest.approx(TEST_LABEL_COUNTS[digit] / 10_000,
                                                                                     abs=1e-12)}
