"""thesis_lib.infra.data: real MNIST against its published facts (shapes, first labels, label counts), and
composed MNIST against a canvas rebuilt by hand (the digits' windows, their pixelwise maximum)."""

import pytest
import torch

from thesis_lib.infra import mnist_files
from thesis_lib.infra.data import compose_mnist, load_mnist


def test_unknown_split_names_the_allowed_values():
    with pytest.raises(ValueError, match=r"split='validation'.*'train', 'test'"):
        load_mnist("validation")


def test_real_mnist_matches_the_published_facts():
    """Prop 2.3.4 and the published facts of MNIST (first labels, label counts), on the verified files."""
    train, test = load_mnist("train"), load_mnist("test")
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert train.labels[0] == 5 and test.labels[0] == 7
    assert torch.bincount(train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    origin = mnist_files.raw_dir() / "SOURCE.txt"  # the files are there (make data): nothing is fetched
    expected = "verified local files" + (f" (from {origin.read_text().strip()})" if origin.exists() else "")
    assert train.source == test.source == expected


def _digits(n=20):
    g = torch.Generator().manual_seed(1)
    return torch.randint(1, 256, (n, 28, 28), generator=g, dtype=torch.uint8), torch.arange(n) % 10


def test_composed_mnist_shapes_and_determinism():
    images, labels = _digits()
    a = compose_mnist(images, labels, 7, digits=3, canvas=(40, 56), seed=3)
    b = compose_mnist(images, labels, 7, digits=3, canvas=(40, 56), seed=3)
    c = compose_mnist(images, labels, 7, digits=3, canvas=(40, 56), seed=4)
    assert a.images.shape == (7, 40, 56) and a.images.dtype == torch.uint8
    assert a.labels.shape == (7, 3) and a.positions.shape == (7, 3, 2)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_composed_mnist_places_each_digit_where_it_says():
    images, labels = _digits()
    out = compose_mnist(images, labels, 5, digits=1, canvas=(50, 60), seed=0)
    for k in range(5):
        r, c = out.positions[k, 0].tolist()
        digit = images[(labels == out.labels[k, 0]).nonzero()[:, 0]]
        window = out.images[k, r:r + 28, c:c + 28]
        assert any(torch.equal(window, d) for d in digit)
        assert out.images[k].sum() == window.sum()


def test_overlapping_digits_combine_by_the_pixelwise_maximum():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (30, 6, 5), generator=gen, dtype=torch.uint8)
    ids = torch.arange(30)  # unique labels say which image was placed
    out = compose_mnist(images, ids, 40, digits=3, canvas=(9, 8), seed=2)
    for k in range(40):
        expected = torch.zeros(9, 8, dtype=torch.uint8)
        for (r, c), label in zip(out.positions[k].tolist(), out.labels[k].tolist()):
            window = expected[r:r + 6, c:c + 5]
            window.copy_(torch.maximum(window, images[label]))
        assert torch.equal(out.images[k], expected)
    same_place = compose_mnist(images, ids, 5, digits=2, canvas=(6, 5), seed=0)  # both digits at (0, 0)
    for k in range(5):
        a, b = same_place.labels[k].tolist()
        assert torch.equal(same_place.images[k], torch.maximum(images[a], images[b]))


def test_composed_mnist_rejects_bad_arguments():
    images, labels = _digits()
    with pytest.raises(ValueError, match="canvas=.*at least the digit size"):
        compose_mnist(images, labels, 2, canvas=(20, 60))
    with pytest.raises(ValueError, match="digits=0 is not allowed"):
        compose_mnist(images, labels, 2, digits=0)
