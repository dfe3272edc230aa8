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

COMPOSED_TRAIN, COMPOSED_TEST, COMPOSED_CANVAS = 20_000, 10_000, (48, 48)


def mnist() -> Data:
    """The 60,000 training and 10,000 test images of MNIST (uint8 [N, 28, 28]); labels unused."""
    train, test = load_mnist("train"), load_mnist("test")
    return train.images, None, test.images, None


def labelled_mnist() -> Data:
    """MNIST images (uint8 [N, 28, 28]) with their labels, training and test."""
    train, test = load_mnist("train"), load_mnist("test")
    return train.images, train.labels, test.images, test.labels


@functools.lru_cache(maxsize=1)
def labelled_composed_mnist() -> Data:
    """Two digits per 48×48 canvas (Prop 2.3.4): 20,000 from the training digits (seed 0), 10,000 from
    the test digits (seed 1), with the two digits' labels [N, 2] of each canvas."""
    train, test = load_mnist("train"), load_mnist("test")
    composed_train = compose_mnist(train.images, train.labels, COMPOSED_TRAIN, canvas=COMPOSED_CANVAS, seed=0)
    composed_test = compose_mnist(test.images, test.labels, COMPOSED_TEST, canvas=COMPOSED_CANVAS, seed=1)
    return composed_train.images, composed_train.labels, composed_test.images, composed_test.labels


@functools.lru_cache(maxsize=1)
def composed_mnist() -> Data:
    """The canvases of :func:`labelled_composed_mnist`; labels unused."""
    train_x, _, test_x, _ = labelled_composed_mnist()
    return train_x, None, test_x, None


DATASETS: dict[str, Callable[[], Data]] = {
    "mnist": mnist,
    "labelled-mnist": labelled_mnist,
    "composed-mnist": composed_mnist,
    "labelled-composed-mnist": labelled_composed_mnist,
}
