"""thesis_lib.experiments.datasets: each registered dataset against load_mnist's splits and compose_mnist with the
digits, sizes and seeds its docstrings state (generators: 20,000 canvases of the first 40,000 training digits,
seed 0; reader: 120,000 of the last 20,000, seed 2; test: 10,000 of the test digits, seed 1)."""

import torch

from thesis_lib.experiments import datasets
from thesis_lib.experiments.datasets import DATASETS
from thesis_lib.infra.data import compose_mnist, load_mnist


def test_mnist_and_composed_mnist_have_their_stated_shapes_and_composed_mnist_is_computed_once():
    train_x, train_y, test_x, test_y = datasets.mnist()
    assert train_x.shape == (60_000, 28, 28) and test_x.shape == (10_000, 28, 28) and train_y is test_y is None
    c_train, _, c_test, _ = datasets.composed_mnist()
    assert c_train.shape == (20_000, 48, 48) and c_test.shape == (10_000, 48, 48) and c_train.dtype == torch.uint8
    assert all(a is b for a, b in zip(datasets.composed_mnist(), datasets.composed_mnist()))  # chapter 2.3's data


def test_labelled_composed_mnist_has_the_canvases_of_composed_mnist_and_two_labels_each():
    train_x, train_y, test_x, test_y = datasets.labelled_composed_mnist()
    plain = datasets.composed_mnist()
    assert plain[0] is train_x and plain[2] is test_x and plain[1] is plain[3] is None
    assert train_y.shape == (20_000, 2) and test_y.shape == (10_000, 2) and int(train_y.max()) == 9


def test_the_registry_names_each_dataset():
    assert DATASETS == {"mnist": datasets.mnist, "labelled-mnist": datasets.labelled_mnist,
                        "generator-digits": datasets.generator_digits,
                        "composed-mnist": datasets.composed_mnist,
                        "labelled-composed-mnist": datasets.labelled_composed_mnist,
                        "reader-canvases": datasets.reader_canvases}


def test_mnist_is_the_training_split_then_the_test_split_with_or_without_labels():
    train, test = load_mnist("train"), load_mnist("test")
    images_only, labelled = datasets.mnist(), datasets.labelled_mnist()
    for got, expected in zip(labelled, (train.images, train.labels, test.images, test.labels)):
        assert torch.equal(got, expected)
    assert torch.equal(images_only[0], train.images) and torch.equal(images_only[2], test.images)
    assert labelled[1].dtype == torch.int64 and labelled[0].dtype == torch.uint8


def test_composed_mnist_is_composed_from_the_generators_digits_with_seed_0_and_the_test_digits_with_seed_1():
    train_x, train_y, test_x, test_y = datasets.labelled_composed_mnist()
    assert (datasets.COMPOSED_TRAIN, datasets.COMPOSED_TEST, datasets.GENERATOR_DIGITS) == (20_000, 10_000, 40_000)
    test = load_mnist("test")
    expected = compose_mnist(test.images, test.labels, 10_000, seed=1)
    assert torch.equal(test_x, expected.images) and torch.equal(test_y, expected.labels)
    train = load_mnist("train")
    expected = compose_mnist(train.images[:40_000], train.labels[:40_000], 20_000, seed=0)
    assert torch.equal(train_x, expected.images) and torch.equal(train_y, expected.labels)


def test_the_readers_canvases_use_only_the_digits_no_generator_sees():
    train_x, train_y, test_x, test_y = datasets.reader_canvases()
    generators = datasets.labelled_composed_mnist()
    assert test_x is generators[2] and test_y is generators[3]
    train = load_mnist("train")
    expected = compose_mnist(train.images[40_000:], train.labels[40_000:], 120_000, seed=2)
    assert train_x.shape == (120_000, 48, 48) and datasets.READER_CANVASES == 120_000
    assert torch.equal(train_x[:1000], expected.images[:1000]) and torch.equal(train_y, expected.labels)
    digits, labels, test_digits, test_labels = datasets.generator_digits()
    assert torch.equal(digits, train.images[:40_000]) and torch.equal(labels[:, 0], train.labels[:40_000])
    assert labels.shape == (40_000, 1) and test_labels.shape == (10_000, 1) and test_digits.shape == (10_000, 28, 28)
