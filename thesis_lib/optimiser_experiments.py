"""The trained classifiers of §1.2's comparison: full-batch gradient descent, minibatch SGD and Adam.

The same 784-64-10 ReLU classifier (identity output, cross-entropy risk) is trained on all 60,000
MNIST training images with each optimiser for the same number of per-sample gradient evaluations
(an epoch costs 60,000 of them whatever the batch): full-batch GD takes one step per epoch, SGD and
Adam take 938 steps of 64 images. ``quick`` runs 2 epochs, ``full`` 30; ``make reproduce`` trains
the full budget and the chapter loads it at either budget.
"""

from __future__ import annotations

from .config import TrainConfig, pick
from .data import load_mnist
from .networks import DeepNetwork
from .risk import cross_entropy_risk
from .train import Data, Experiment

TRAIN_IMAGES = 60_000


def classifier() -> DeepNetwork:
    """784-64-10, ReLU hidden layer, identity output (logits)."""
    return DeepNetwork((784, 64, 10), "relu", output_activation="identity")


def labelled_mnist() -> Data:
    """MNIST images (uint8 [N, 28, 28]) with their labels, training and test."""
    train, test = load_mnist("train"), load_mnist("test")
    return train.images, train.labels, test.images, test.labels


def _config(batch_size: int, lr: float, optimizer: str):
    def config(budget: str) -> TrainConfig:
        return TrainConfig(epochs=pick(quick=2, full=30, budget=budget), batch_size=batch_size, lr=lr,
                           optimizer=optimizer)

    return config


GD = Experiment("clf-gd", classifier, cross_entropy_risk, _config(TRAIN_IMAGES, 0.3, "sgd"), labelled_mnist,
                "784-64-10 ReLU classifier, full-batch gradient descent (step 0.3), cross-entropy")
SGD = Experiment("clf-sgd", classifier, cross_entropy_risk, _config(64, 0.05, "sgd"), labelled_mnist,
                 "784-64-10 ReLU classifier, minibatch SGD (batch 64, step 0.05), cross-entropy")
ADAM = Experiment("clf-adam", classifier, cross_entropy_risk, _config(64, 1e-3, "adam"), labelled_mnist,
                  "784-64-10 ReLU classifier, Adam (batch 64, lr 1e-3), cross-entropy")

EXPERIMENTS = [GD, SGD, ADAM]
