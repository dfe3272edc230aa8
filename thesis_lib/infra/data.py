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


#: the canvas of composed MNIST, (rows, columns)
CANVAS = (48, 48)

#: the first and last column at which each slot's 28×28 digit field may start (left slot, right slot)
SLOT_COLUMNS = ((0, 4), (16, 20))

#: the first and last row at which a digit field may start (the whole height of the canvas)
SLOT_ROWS = (0, CANVAS[0] - 28)


@dataclasses.dataclass(frozen=True)
class ComposedMNIST:
    """Composed MNIST: ``images`` [n, 48, 48] (the digits' dtype); ``labels`` [n, 2] (left slot, right
    slot) and ``positions`` [n, 2, 2] (top-left row, column of each digit's 28×28 field)."""

    images: torch.Tensor
    labels: torch.Tensor
    positions: torch.Tensor


def place_at(digits: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Put pairs of 28×28 digits [n, 2, 28, 28] (uint8 or floats) on 48×48 canvases with their fields'
    top-left corners at ``positions`` [n, 2, 2] (row, column); strokes that meet are combined by the
    pixel-wise maximum. Returns the canvases [n, 48, 48]."""
    if digits.ndim != 4 or tuple(digits.shape[1:]) != (2, 28, 28):
        raise ValueError(f"digits.shape={tuple(digits.shape)} is not allowed; give pairs of digits [n, 2, 28, 28]")
    n = len(digits)
    out = torch.zeros(n, *CANVAS, dtype=digits.dtype)
    batch = torch.arange(n)[:, None, None]
    offsets = torch.arange(28)
    for j in range(2):
        r = (positions[:, j, 0, None] + offsets)[:, :, None]
        c = (positions[:, j, 1, None] + offsets)[:, None, :]
        out[batch, r, c] = torch.maximum(out[batch, r, c], digits[:, j])
    return out


def place_in_slots(digits: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Put pairs of 28×28 digits [n, 2, 28, 28] on 48×48 canvases (:func:`place_at`), the first in the left
    slot and the second in the right: each field starts at a random row of :data:`SLOT_ROWS` and a
    random column of its slot's :data:`SLOT_COLUMNS` (jitter, drawn with ``generator``, or torch's global
    one). MNIST's ink lies in the central 20×20 of each field, so the two digits' ink shares at most 8
    columns. Returns the canvases [n, 48, 48] and the positions [n, 2, 2]."""
    n = len(digits)
    rows = torch.randint(SLOT_ROWS[0], SLOT_ROWS[1] + 1, (n, 2), generator=generator)
    cols = torch.stack([torch.randint(low, high + 1, (n,), generator=generator) for low, high in SLOT_COLUMNS], 1)
    positions = torch.stack([rows, cols], dim=-1)
    return place_at(digits, positions), positions


def draw_of_each_label(labels: torch.Tensor, wanted: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """For each entry of ``wanted`` (digits 0–9, any shape) the index of a random image whose label it is."""
    order = labels.argsort(stable=True)
    counts = torch.bincount(labels, minlength=10)
    if len(wanted) and (wanted.min() < 0 or wanted.max() > 9):
        raise ValueError(f"wanted must hold digits 0..9, got values from {wanted.min()} to {wanted.max()}")
    if (counts[wanted] == 0).any():
        raise ValueError(f"wanted asks for a digit with no image among the labels (counts {counts.tolist()})")
    starts = torch.cumsum(counts, 0) - counts
    u = torch.rand(wanted.shape, generator=generator, dtype=torch.float64)
    return order[starts[wanted] + (u * counts[wanted]).long()]


def compose_mnist(images: torch.Tensor, labels: torch.Tensor, n: int, *, seed: int = 0,
                  requests: torch.Tensor | None = None) -> ComposedMNIST:
    """``n`` canvases of two MNIST digits, one in each slot (:func:`place_in_slots`): random digits, or
    with ``requests`` [n, 2] (left, right) a random image of each digit asked for. The same seed gives
    the same canvases on every machine (a CPU generator draws every choice)."""
    if images.ndim != 3 or tuple(images.shape[1:]) != (28, 28):
        raise ValueError(f"images must be MNIST digits [N, 28, 28], got {images.dtype} {tuple(images.shape)}")
    if len(labels) != len(images):
        raise ValueError(f"labels has {len(labels)} entries but images has {len(images)}")
    positive_int("n", n)
    if requests is not None and tuple(requests.shape) != (n, 2):
        raise ValueError(f"requests.shape={tuple(requests.shape)} is not allowed; give [n, 2] = [{n}, 2] digits")
    gen = torch.Generator().manual_seed(seed)
    if requests is None:
        picks = torch.randint(len(images), (n, 2), generator=gen)
    else:
        picks = draw_of_each_label(labels, requests, gen)
    canvases, positions = place_in_slots(images[picks], gen)
    return ComposedMNIST(canvases, labels[picks], positions)


def main() -> None:
    root = raw_dir()
    source = prepare_mnist(verbose=False)
    train, test = load_mnist("train"), load_mnist("test")
    print(f"MNIST ready in {root} (source: {source}): {len(train):,} training and {len(test):,} test images, "
          f"md5-verified")


if __name__ == "__main__":
    main()
