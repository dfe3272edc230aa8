"""MNIST as tensors (Prop 2.3.4), and composed MNIST (the thesis's §2.3 application).

:func:`load_mnist` prepares and verifies the files first (:mod:`thesis_lib.infra.mnist_files`).
Run ``python -m thesis_lib.infra.data`` to prepare the files and see which source was used.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import torch

from .mnist_files import SPLITS, data_root, prepare_mnist, raw_dir
from .validation import positive_int


@dataclasses.dataclass(frozen=True)
class MNISTSplit:
    """One MNIST split: ``images`` uint8 [N, 28, 28], ``labels`` int64 [N]."""

    images: torch.Tensor
    labels: torch.Tensor
    split: str
    source: str

    def __iter__(self):
        return iter((self.images, self.labels))

    def __len__(self) -> int:
        return len(self.labels)


@functools.lru_cache(maxsize=4)
def _load(root: Path, split: str) -> MNISTSplit:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    source = prepare_mnist(root)
    image_name, label_name = SPLITS[split]
    directory = raw_dir(root)
    return MNISTSplit(read_image_file(str(directory / image_name)),
                      read_label_file(str(directory / label_name)), split, source)


def load_mnist(split: str = "train", root: str | os.PathLike | None = None) -> MNISTSplit:
    """Real MNIST (Prop 2.3.4): ``images, labels = load_mnist("train")``.

    Prepares and verifies the files first (see :func:`prepare_mnist`); ``.source`` tells where
    they came from.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not allowed; choose one of {', '.join(map(repr, SPLITS))}")
    return _load(data_root(root).resolve(), split)


@dataclasses.dataclass(frozen=True)
class ComposedMNIST:
    """Composed MNIST: ``images`` uint8 [n, H, W]; ``labels`` [n, k] and ``positions`` [n, k, 2]
    (top-left row, column) of the k digits placed on each canvas."""

    images: torch.Tensor
    labels: torch.Tensor
    positions: torch.Tensor


def compose_mnist(images: torch.Tensor, labels: torch.Tensor, n: int, *, digits: int = 2,
                  canvas: tuple[int, int] = (48, 48), seed: int = 0) -> ComposedMNIST:
    """Place ``digits`` random MNIST digits at random positions on an H×W canvas, ``n`` times.

    Overlapping strokes are combined by the pixel-wise maximum. The same seed gives the same
    images on every machine (a CPU generator draws the choices).
    """
    if images.ndim != 3 or images.dtype != torch.uint8:
        raise ValueError(f"images must be a uint8 tensor [N, h, w], got {images.dtype} {tuple(images.shape)}")
    if len(labels) != len(images):
        raise ValueError(f"labels has {len(labels)} entries but images has {len(images)}")
    positive_int("n", n)
    positive_int("digits", digits)
    h, w = images.shape[1:]
    H, W = canvas
    if H < h or W < w:
        raise ValueError(f"canvas={canvas!r} is not allowed; it must be at least the digit size ({h}, {w})")
    gen = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(images), (n, digits), generator=gen)
    rows = torch.randint(H - h + 1, (n, digits), generator=gen)
    cols = torch.randint(W - w + 1, (n, digits), generator=gen)
    out = torch.zeros(n, H, W, dtype=torch.uint8)
    batch = torch.arange(n)[:, None, None]
    for j in range(digits):
        r = (rows[:, j, None] + torch.arange(h))[:, :, None]
        c = (cols[:, j, None] + torch.arange(w))[:, None, :]
        out[batch, r, c] = torch.maximum(out[batch, r, c], images[picks[:, j]])
    return ComposedMNIST(out, labels[picks], torch.stack([rows, cols], dim=-1))


def main() -> None:
    root = raw_dir()
    source = prepare_mnist(verbose=False)
    train, test = load_mnist("train"), load_mnist("test")
    print(f"MNIST ready in {root} (source: {source}): {len(train):,} training and {len(test):,} test images, "
          f"md5-verified")


if __name__ == "__main__":
    main()
