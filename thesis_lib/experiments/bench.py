"""Benchmark: one epoch of Algorithm 1's model three ways, on this machine, in one run.

    python -m thesis_lib.experiments.bench [--repeats 5] [--device cuda]     (or: make bench)

Algorithm 1: the 784-128-64-12-3 mirrored autoencoder, Adam with learning rate 3e-4, MSE,
batch 256, all 60,000 training images. The three ways:

- ``library``: :func:`thesis_lib.infra.training.fit` (dataset resident on the device, shuffled index
  slices), its steps alone; ``library_epoch``: the same as a user runs it, each epoch with its
  evaluation on the 10,000 test images and its checkpoint written, the cost a user waits for; on
  CUDA also ``library_graph``, the user's epoch with ``step="graph"`` (each step a CUDA graph);
- ``dataloader``: the common torchvision ``MNIST`` dataset + ``ToTensor`` + ``DataLoader`` loop
  (no workers);
- ``compute_floor``: forward, backward and optimiser step only, over an epoch of shuffled batches
  sliced and converted to floats before the clock starts (:func:`prepared_batches`): no data
  movement in the timed loop. (One fixed batch repeated is no floor: the model overfits it, and
  the VAE's steps then get slower than real training's.)

All three use the same objective (the library's ``reconstruction_mse``) and optimiser (the library's
fused Adam), so the times differ only in how the data reach the model. (``torch.optim.Adam`` at its defaults is far slower on a CPU here: its
second-moment estimates of dead units decay into denormal floats.)

The likelihood VAE of chapter 3.2 (``vae-mnist-nll``: 784-200-200-50 tanh, negative ELBO with
dynamic binarisation, Adam eps 1e-4, batch 100) is timed the same way, three ways: the library's
loop, a minimal hand-written loop over the same resident data, and its compute floor over
prepared batches.

Each loop that trains is timed over its second epoch, after a first one that warms up: an epoch
slows down as training goes on (Adam's state fills with small numbers), so the ways are compared at
the same point of training. A shared machine's timings swing (±30 % between single runs on 2 cores),
so the ways are interleaved and the round is repeated (``--repeats``, at least 5): the JSON line
gives each way's median and minimum, and the ratios of medians; the target is
``library_over_compute_floor`` ≤ 1.05 for both models (on a CPU).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from ..autoencoders import mirrored_autoencoder
from ..infra.config import TrainConfig
from ..infra.device import as_float, resolve_device
from ..infra.validation import positive_int
from ..infra.data import load_mnist
from ..infra.mnist_files import data_root
from ..infra.training import fit, make_optimizer
from ..losses import reconstruction_mse

BATCH = 256
LR = 3e-4
CONFIG = TrainConfig(epochs=1, batch_size=BATCH, lr=LR)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _model(device: torch.device):
    torch.manual_seed(0)
    return mirrored_autoencoder().to(device)


def time_library(images: torch.Tensor, device: torch.device, epochs: int = 2, step: str = "eager",
                 test_images: torch.Tensor | None = None) -> tuple[float, nn.Module]:
    """Seconds of the last of ``epochs`` epochs of the library's loop (the first one warms up), its
    evaluation on ``test_images`` and its checkpoint included when ``test_images`` are given, and the
    trained model."""
    marks: list[float] = []
    start = time.perf_counter()

    def mark(epoch, history):
        _sync(device)
        marks.append(time.perf_counter())

    model = _model(device)
    with tempfile.TemporaryDirectory() as folder:
        fit(model, reconstruction_mse, images, config=TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR),
            test_x=test_images, device=device, progress=False, on_epoch_end=mark, step=step,
            checkpoint=None if test_images is None else Path(folder) / "bench.pt")
    return marks[-1] - (marks[-2] if len(marks) > 1 else start), model


def time_dataloader(device: torch.device, warmup_batches: int | None = None,
                    limit: int | None = None) -> tuple[float, nn.Module]:
    """Seconds of the second epoch of the torchvision Dataset + ToTensor + DataLoader loop (over the
    first ``limit`` images if given; the first epoch warms up, only its first ``warmup_batches`` if
    given), and the trained model."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import transforms
    from torchvision.datasets import MNIST

    dataset = MNIST(str(data_root()), train=True, transform=transforms.ToTensor(), download=False)
    if limit is not None:
        dataset = Subset(dataset, range(limit))
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=0)
    model = _model(device)
    optimizer = make_optimizer(model, CONFIG)

    def step(x):
        x = x.to(device).view(-1, 784)
        loss = reconstruction_mse(model, x, None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for i, (x, _) in enumerate(loader):
        if i == warmup_batches:
            break
        step(x)
    _sync(device)
    start = time.perf_counter()
    for x, _ in loader:
        step(x)
    _sync(device)
    return time.perf_counter() - start, model


def prepared_batches(images: torch.Tensor, batch_size: int, device: torch.device) -> list[torch.Tensor]:
    """One epoch of shuffled float batches of ``images`` [N, 784] on ``device``, made before any clock starts."""
    x = images.to(device).reshape(len(images), -1)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0)).to(device)
    return [as_float(x[idx]) for idx in perm.split(batch_size)]


def time_compute_floor(images: torch.Tensor, device: torch.device,
                       warmup_steps: int | None = None) -> tuple[float, nn.Module]:
    """Seconds of an epoch of steps over :func:`prepared_batches` (no data movement), after a first
    epoch that warms up (only its first ``warmup_steps`` steps if given), and the trained model."""
    model = _model(device)
    optimizer = make_optimizer(model, CONFIG)
    batches = prepared_batches(images, BATCH, device)

    def step(x):
        loss = reconstruction_mse(model, x, None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for x in batches[:warmup_steps]:
        step(x)
    _sync(device)
    start = time.perf_counter()
    for x in batches:
        step(x)
    _sync(device)
    return time.perf_counter() - start, model


def _vae(device: torch.device):
    from .vaes import LIKELIHOOD

    torch.manual_seed(0)
    return LIKELIHOOD.build().to(device), LIKELIHOOD.objective_function, LIKELIHOOD.config("full")


def time_vae(images: torch.Tensor, device: torch.device, way: str, warmup_steps: int | None = None,
             test_images: torch.Tensor | None = None) -> tuple[float, nn.Module]:
    """Seconds of the second epoch of the likelihood VAE: ``way`` = ``"library"`` (:func:`fit`'s steps),
    ``"library_epoch"`` (with its evaluation on ``test_images`` and its checkpoint), ``"library_graph"``
    (that, with CUDA graphs),
    ``"minimal"`` (shuffled index slices of the resident data, nothing else) or ``"compute_floor"``
    (the steps alone, over :func:`prepared_batches`); the first epoch warms up (only its first
    ``warmup_steps`` steps if given, for ``minimal`` and ``compute_floor``). And the trained model."""
    model, objective, full = _vae(device)
    config = TrainConfig(epochs=2, batch_size=full.batch_size, lr=full.lr, adam_eps=full.adam_eps)
    if way.startswith("library"):
        marks: list[float] = []
        user = way != "library"
        with tempfile.TemporaryDirectory() as folder:
            fit(model, objective, images, config=config, device=device, progress=False,
                test_x=test_images if user else None, checkpoint=Path(folder) / "bench.pt" if user else None,
                on_epoch_end=lambda epoch, history: (_sync(device), marks.append(time.perf_counter())),
                step="graph" if way == "library_graph" else "eager")
        return marks[-1] - marks[-2], model
    optimizer = make_optimizer(model, config)
    x = images.to(device)
    prepared = prepared_batches(images, config.batch_size, device) if way == "compute_floor" else None

    def step(batch):
        loss = objective(model, batch, None)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    gen = torch.Generator().manual_seed(0)

    def epoch(steps: int | None = None) -> None:
        if prepared is not None:
            for batch in prepared[:steps]:
                step(batch)
            return
        for idx in torch.randperm(len(x), generator=gen).to(device).split(config.batch_size)[:steps]:
            step(as_float(x.index_select(0, idx)))

    epoch(warmup_steps)
    _sync(device)
    start = time.perf_counter()
    epoch()
    _sync(device)
    return time.perf_counter() - start, model


def _ways(device: torch.device) -> tuple[tuple[str, ...], tuple[str, ...]]:
    user = ("library_epoch", "library_graph") if device.type == "cuda" else ("library_epoch",)
    return ("library", *user, "dataloader", "compute_floor"), ("library", *user, "minimal", "compute_floor")


def time_round(images: torch.Tensor, test_images: torch.Tensor, device: torch.device,
               limit: int | None = None) -> dict[str, float]:
    """One round: every way of both models once, in a fixed order; seconds by name (``vae_`` for the VAE's)."""
    ways, vae_ways = _ways(device)
    out = {}
    for way in ways:
        if way.startswith("library"):
            out[way] = time_library(images, device, step="graph" if way == "library_graph" else "eager",
                                    test_images=None if way == "library" else test_images)[0]
        elif way == "dataloader":
            out[way] = time_dataloader(device, limit=limit)[0]
        else:
            out[way] = time_compute_floor(images, device)[0]
    for way in vae_ways:
        out[f"vae_{way}"] = time_vae(images, device, way, test_images=test_images)[0]
    return out


def run(device: torch.device, limit: int | None = None, repeats: int = 5) -> dict:
    """The timings as one JSON-ready dict: ``repeats`` interleaved rounds (:func:`time_round`), each
    way's median and minimum (over the first ``limit`` training images if given)."""
    images = load_mnist("train").images[:limit]
    test_images = load_mnist("test").images[:limit]
    rounds = [time_round(images, test_images, device, limit) for _ in range(repeats)]
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    minimum = {k: min(r[k] for r in rounds) for k in rounds[0]}
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or platform.machine()
    out = {
        "benchmark": f"Algorithm 1, one epoch (784-128-64-12-3 mirrored, Adam 3e-4, MSE, batch 256, "
                     f"{len(images)} images; the library's epoch with its test evaluation and checkpoint)",
        "device": f"{device} ({name})",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "repeats": repeats,
        "vae": "vae-mnist-nll, one epoch (784-200-200-50 tanh, negative ELBO, Adam eps 1e-4, batch 100)",
    }
    for k in rounds[0]:
        out[f"{k}_s"] = round(median[k], 3)
        out[f"{k}_min_s"] = round(minimum[k], 3)
    out["dataloader_over_library"] = round(median["dataloader"] / median["library"], 2)
    out["library_over_compute_floor"] = round(median["library"] / median["compute_floor"], 2)
    out["vae_library_over_compute_floor"] = round(median["vae_library"] / median["vae_compute_floor"], 2)
    fastest = min(median["library_epoch"], median.get("library_graph", float("inf")))
    out["algorithm1_1000_epochs_min"] = round(fastest * 60_000 / len(images) * 1000 / 60, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the book's default device)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (median and minimum; default 5)")
    args = parser.parse_args()
    device = resolve_device(args.device, name="--device")
    print(json.dumps(run(device, repeats=positive_int("--repeats", args.repeats))))


if __name__ == "__main__":
    main()
