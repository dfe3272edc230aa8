"""The one training loop of the book (Algorithm 1 and every later model) and seeded evaluation.

The dataset lives on the device as one tensor (uint8 images stay uint8 until a batch is sliced);
each epoch shuffles indices on the device and slices batches (``index_select``, a row copy: on a
CPU six times cheaper than advanced indexing ``x[idx]`` for [N, 28, 28] images): no per-sample
Python work and no DataLoader in the hot path. ``objective(model, x, y)`` returns the scalar to minimise for a
float batch ``x`` in [0, 1] and its targets ``y`` (or ``None``); under a KL warm-up
(``TrainConfig.kl_warmup_epochs``) it is called with ``kl_weight=`` the step's weight too.

With a checkpoint path, the state (weights, optimiser, epoch, random states) is written
atomically after every epoch, so a killed run resumes and loses at most one epoch.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .checkpoints import CHECKPOINT_FORMAT, load_checkpoint, save_atomic
from .config import TrainConfig, active_budget, default_device
from .seeding import seeded_evaluation

Objective = Callable[[nn.Module, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


@dataclasses.dataclass
class History:
    """Per-epoch mean objective on the training and test data, and where the model came from."""

    train: list[float]
    test: list[float]
    epochs: int
    wall_time: float
    device: str
    origin: str = "trained"
    extra: dict = dataclasses.field(default_factory=dict)


def progress_enabled(progress: bool | None) -> bool:
    """``progress`` if given, else on unless ``THESIS_PROGRESS`` is ``0``/``off``/``false``."""
    if progress is not None:
        return progress
    return os.environ.get("THESIS_PROGRESS", "on").lower() not in ("0", "off", "false", "no")


def as_float(batch: torch.Tensor) -> torch.Tensor:
    """uint8 pixels become floats in [0, 1]; other tensors become float32."""
    return batch.float().div_(255) if batch.dtype == torch.uint8 else batch.float()


@torch.no_grad()
def evaluate(model: nn.Module, objective: Objective, x: torch.Tensor, y: torch.Tensor | None = None, *,
             batch_size: int = 2000, seed: int = 0) -> float:
    """Mean objective over ``x`` (in eval mode, batches weighted by size, random draws seeded)."""
    with seeded_evaluation(model, seed) as device:
        total = torch.zeros((), dtype=torch.float64, device=device)
        for i in range(0, len(x), batch_size):
            xb = as_float(x[i:i + batch_size].to(device))
            yb = None if y is None else y[i:i + batch_size].to(device)
            total += objective(model, xb, yb).double() * len(xb)
    return total.item() / len(x)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam (``fused`` where the device supports it) or plain SGD, as the configuration says."""
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr)
    return torch.optim.Adam(params, lr=config.lr, eps=config.adam_eps, fused=True)


def fit(model: nn.Module, objective: Objective, train_x: torch.Tensor, *, config: TrainConfig,
        train_y: torch.Tensor | None = None, test_x: torch.Tensor | None = None,
        test_y: torch.Tensor | None = None, device: torch.device | str | None = None,
        progress: bool | None = None, desc: str | None = None, checkpoint: Path | None = None,
        key: str = "", spec: dict | None = None,
        on_epoch_end: Callable[[int, History], None] | None = None,
        curve: Callable[[nn.Module, int], dict | None] | None = None) -> History:
    """Train ``model`` for ``config.epochs`` epochs of shuffled minibatches (Algorithm 1's loop).

    With ``checkpoint``, the state is saved atomically after every epoch (under ``key``, with the
    experiment's ``spec`` if given) and a run that was interrupted resumes from the last saved epoch.
    ``curve(model, epochs_done)``, if given, is called after every epoch, before the save; what it
    returns (unless ``None``) is kept in ``history.extra["curve"][str(epochs_done)]``; its time is
    not counted in the wall time. It must leave
    the random state as it found it (measure inside :func:`~thesis_lib.infra.seeding.seeded_evaluation`).
    """
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    x = train_x.to(device)
    y = None if train_y is None else train_y.to(device)
    if y is not None and len(y) != len(x):
        raise ValueError(f"train_y has {len(y)} entries but train_x has {len(x)}")
    optimizer = make_optimizer(model, config)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    torch.manual_seed(config.seed)
    history = History([], [], 0, 0.0, str(device))
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(Path(checkpoint), key)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        gen.set_state(state["rng"]["shuffle"].to(gen.get_state().device))
        torch.set_rng_state(state["rng"]["torch"])
        history = History(**state["history"])
        history.origin = "cache" if history.epochs >= config.epochs else f"resumed after epoch {history.epochs}"
    else:
        history.extra["budget"] = active_budget(device)

    n, bs = len(x), config.batch_size
    bar = None
    if progress_enabled(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=config.epochs, initial=history.epochs, desc=desc or "training", unit="epoch")
    started = time.perf_counter() - history.wall_time
    model.train()
    steps_per_epoch = -(-n // bs)
    while history.epochs < config.epochs:
        epoch = history.epochs
        step = epoch * steps_per_epoch
        for group in optimizer.param_groups:
            group["lr"] = config.lr_at(epoch, step)
        perm = torch.randperm(n, device=device, generator=gen)
        total = torch.zeros((), device=device)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            if config.schedule_epoch_steps:
                for group in optimizer.param_groups:
                    group["lr"] = config.lr_at(epoch, step)
            warmup = {"kl_weight": config.kl_weight_at(epoch, step, steps_per_epoch)} if config.kl_warmup_epochs else {}
            loss = objective(model, as_float(x.index_select(0, idx)),
                             None if y is None else y.index_select(0, idx), **warmup)
            step += 1
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(idx)
        history.train.append(total.item() / n)
        if test_x is not None:
            history.test.append(evaluate(model, objective, test_x, test_y, seed=config.seed))
        history.epochs += 1
        history.wall_time = time.perf_counter() - started
        if curve is not None:
            measuring = time.perf_counter()
            point = curve(model, history.epochs)
            started += time.perf_counter() - measuring  # the wall time is training time
            if point is not None:
                history.extra.setdefault("curve", {})[str(history.epochs)] = point
        if checkpoint is not None:
            save_atomic(_checkpoint_state(model, optimizer, gen, history, key, spec, config), Path(checkpoint))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(train=f"{history.train[-1]:.4g}",
                            **({"test": f"{history.test[-1]:.4g}"} if history.test else {}))
        if on_epoch_end is not None:
            on_epoch_end(history.epochs, history)
    if bar is not None:
        bar.close()
    model.eval()
    return history


def _checkpoint_state(model, optimizer, gen, history, key, spec, config) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "key": key,
        "spec": spec or {},
        "config": config.as_dict(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "rng": {"shuffle": gen.get_state().cpu(), "torch": torch.get_rng_state()},
        "history": dataclasses.asdict(history),
    }
