"""The trained classifiers of §1.2's comparison: full-batch gradient descent, minibatch SGD and Adam.

The same 784-64-10 ReLU classifier (identity output, cross-entropy risk) is trained on all 60,000
MNIST training images with each optimiser for the same number of per-sample gradient evaluations
(an epoch costs 60,000 of them whatever the batch): full-batch GD takes one step per epoch, SGD and
Adam take 938 steps of 64 images. ``quick`` runs 2 epochs, ``full`` 30; ``make reproduce`` trains
the full budget and the chapter loads it at either budget.

``judge-mnist`` is the book's instrument for generated digits (§3.2): a LeNet-style CNN
(:class:`~thesis_lib.conv_layers.DigitClassifier`) trained with Adam on the labelled training
images; its manifest states its test accuracy.
"""

from __future__ import annotations

from torch import nn

from ..infra.config import TrainConfig, pick
from ..infra.data import load_mnist
from ..infra.training import evaluate
from ..risk import zero_one_risk
from .experiment import Experiment

TRAIN_IMAGES = 60_000

#: 784-64-10, ReLU hidden layer, identity output (logits)
CLASSIFIER = {"kind": "dense", "widths": [784, 64, 10], "activation": "relu", "output_activation": "identity"}


def _config(batch_size: int, lr: float, optimizer: str):
    def config(budget: str) -> TrainConfig:
        return TrainConfig(epochs=pick(quick=2, full=30, budget=budget), batch_size=batch_size, lr=lr,
                           optimizer=optimizer)

    return config


GD = Experiment("clf-gd", CLASSIFIER, "cross-entropy", "labelled-mnist", _config(TRAIN_IMAGES, 0.3, "sgd"),
                "784-64-10 ReLU classifier, full-batch gradient descent (step 0.3), cross-entropy")
SGD = Experiment("clf-sgd", CLASSIFIER, "cross-entropy", "labelled-mnist", _config(64, 0.05, "sgd"),
                 "784-64-10 ReLU classifier, minibatch SGD (batch 64, step 0.05), cross-entropy")
ADAM = Experiment("clf-adam", CLASSIFIER, "cross-entropy", "labelled-mnist", _config(64, 1e-3, "adam"),
                  "784-64-10 ReLU classifier, Adam (batch 64, lr 1e-3), cross-entropy")

#: the judge's architecture: 5×5 convolutions with 8 and 16 channels, 64 features
JUDGE_ARCHITECTURE = {"kind": "conv-classifier", "channels": [8, 16], "features": 64}


def test_accuracy(model: nn.Module) -> dict[str, float]:
    """The share of the 10,000 test images the classifier labels correctly."""
    test = load_mnist("test")
    return {"test_accuracy": 1 - evaluate(model, zero_one_risk, test.images, test.labels)}


JUDGE = Experiment("judge-mnist", JUDGE_ARCHITECTURE, "cross-entropy", "labelled-mnist",
                   lambda budget: TrainConfig(epochs=pick(quick=1, full=20, budget=budget), batch_size=64, lr=1e-3),
                   "LeNet-style CNN (5x5 convolutions, 8 and 16 channels, 64 features), Adam, cross-entropy: "
                   "the judge of generated digits", evaluation=test_accuracy)

EXPERIMENTS = [GD, SGD, ADAM, JUDGE]
