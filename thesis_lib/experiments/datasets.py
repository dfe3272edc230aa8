"""The data the registered experiments train on, by name: ``(train_x, train_y, test_x, test_y)``.

An experiment's spec names its dataset; the md5 of the tensors returned here enters its key, so
the same name on other bytes is another experiment.
"""

from __future__ import annotations

import functools
from typing import Callable

import torch

from ..infra.data import compose_mnist, load_mnist

Data = tuple[torch.Tensor, "torch.Tensor | None", "torch.Tensor | None", "torch.Tensor | None"]

COMPOSED_TRAIN, COMPOSED_TEST = 20_000, 10_000

#: MNIST's training digits split in two: the generators' canvases use the first 40,000, the reader's
#: the last 20,000, so that no generator sees a digit of the reader's training canvases
GENERATOR_DIGITS = 40_000

#: the reader's training canvases (its 20,000 digits in many pairs and places)
READER_CANVASES = 120_000


def mnist() -> Data:
    """The 60,000 training and 10,000 test images of MNIST (uint8 [N, 28, 28]); labels unused."""
    train, test = load_mnist("train"), load_mnist("test")
    return train.images, None, test.images, None


def labelled_mnist() -> Data:
    """MNIST images (uint8 [N, 28, 28]) with their labels, training and test."""
    train, test = load_mnist("train"), load_mnist("test")
    return train.images, train.labels, test.images, test.labels


def generator_digits() -> Data:
    """The generators' 40,000 training digits and the 10,000 test digits, each label as a row [N, 1]
    (one digit per image: the condition of a conditional VAE of single digits)."""
    train, test = load_mnist("train"), load_mnist("test")
    return (train.images[:GENERATOR_DIGITS], train.labels[:GENERATOR_DIGITS, None], test.images,
            test.labels[:, None])


@functools.lru_cache(maxsize=1)
def composed_test() -> tuple[torch.Tensor, torch.Tensor]:
    """10,000 held-out canvases from the test digits (seed 1) and their labels [N, 2] (left, right)."""
    test = load_mnist("test")
    canvases = compose_mnist(test.images, test.labels, COMPOSED_TEST, seed=1)
    return canvases.images, canvases.labels


def _training_canvases(digits: slice, n: int, seed: int) -> Data:
    """``n`` canvases of the training digits ``digits`` with their labels, and the held-out test canvases."""
    train = load_mnist("train")
    composed = compose_mnist(train.images[digits], train.labels[digits], n, seed=seed)
    return (composed.images, composed.labels, *composed_test())


@functools.lru_cache(maxsize=1)
def labelled_composed_mnist() -> Data:
    """The generators' canvases (§2.3's composition, two digits in two slots of a 48×48 canvas):
    20,000 from the first 40,000 training digits (seed 0), and the held-out test canvases, with the
    labels [N, 2] (left, right) of each canvas."""
    return _training_canvases(slice(GENERATOR_DIGITS), COMPOSED_TRAIN, seed=0)


@functools.lru_cache(maxsize=1)
def composed_mnist() -> Data:
    """The canvases of :func:`labelled_composed_mnist`; labels unused."""
    train_x, _, test_x, _ = labelled_composed_mnist()
    return train_x, None, test_x, None


@functools.lru_cache(maxsize=1)
def reader_canvases() -> Data:
    """The reader's canvases: 120,000 from the last 20,000 training digits (seed 2), which no generator
    sees, and the held-out test canvases, with their labels [N, 2]."""
    return _training_canvases(slice(GENERATOR_DIGITS, None), READER_CANVASES, seed=2)


DATASETS: dict[str, Callable[[], Data]] = {
    "mnist": mnist,
    "labelled-mnist": labelled_mnist,
    "generator-digits": generator_digits,
    "composed-mnist": composed_mnist,
    "labelled-composed-mnist": labelled_composed_mnist,
    "reader-canvases": reader_canvases,
}
