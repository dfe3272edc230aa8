"""The one training loop of the book (Algorithm 1 and every later model) and seeded evaluation.

The dataset lives on the device as one tensor (uint8 images stay uint8 until a batch is sliced);
each epoch shuffles indices (a CPU generator, so the saved shuffle state resumes on any device;
the permutation moves to the device) and slices batches (``index_select``, a row copy: on a
CPU six times cheaper than advanced indexing ``x[idx]`` for [N, 28, 28] images): no per-sample
Python work and no DataLoader in the hot path. ``objective(model, x, y)`` returns the scalar to minimise for a
float batch ``x`` in [0, 1] and its targets ``y`` (or ``None``); under a KL warm-up
(``TrainConfig.kl_warmup_epochs``) it is called with ``kl_weight=`` the step's weight too.

With a checkpoint path, the state (weights, optimiser, epoch, random states: the shuffle's, the
CPU's and the device's) is written atomically after every epoch, so a killed run resumes and loses at
most one epoch. Nothing in a step reads a value back to the host: the objective runs unchecked
(its arguments are the loop's own) and the loss is summed on the device and read once per epoch (a
diverging run shows as an infinite or NaN loss in its history: chapter 2.2 shows one). ``step="graph"`` replays
each full batch's step as a CUDA graph (:mod:`.graph_step`).
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
from .config import TrainConfig
from .device import (active_budget, as_float, device_rng_state, resolve_device, set_device_rng_state,
                     wide_dtype)
from .graph_step import STEPS, GraphStep, check_step
from .seeding import seeded_evaluation
from .validation import choice, positive_int

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


@torch.no_grad()
def evaluate(model: nn.Module, objective: Objective, x: torch.Tensor, y: torch.Tensor | None = None, *,
             batch_size: int = 2000, seed: int = 0) -> float:
    """Mean objective over ``x`` (in eval mode, batches weighted by size, random draws seeded)."""
    with seeded_evaluation(model, seed) as device:
        total = torch.zeros((), dtype=wide_dtype(device), device=device)
        for i in range(0, len(x), batch_size):
            xb = as_float(x[i:i + batch_size].to(device))
            yb = None if y is None else y[i:i + batch_size].to(device)
            total += objective(model, xb, yb).to(total.dtype) * len(xb)
    return total.item() / len(x)


def make_optimizer(model: nn.Module, config: TrainConfig, *, graph: bool = False) -> torch.optim.Optimizer:
    """Adam (``fused``) or plain SGD, as the configuration says; for a CUDA graph (``graph``) Adam keeps
    its learning rate in a tensor and its state on the device (``capturable``), so a replayed step reads
    the rate of the moment."""
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr)
    if graph:
        lr = torch.tensor(config.lr, device=params[0].device)
        return torch.optim.Adam(params, lr=lr, eps=config.adam_eps, fused=True, capturable=True)
    return torch.optim.Adam(params, lr=config.lr, eps=config.adam_eps, fused=True)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Every parameter group's learning rate to ``lr`` (in place where the optimiser keeps it in a tensor)."""
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


def train_step(model: nn.Module, objective: Objective, optimizer: torch.optim.Optimizer, x: torch.Tensor,
               y: torch.Tensor | None, idx: torch.Tensor, total: torch.Tensor,
               kl_weight: float | torch.Tensor | None = None) -> None:
    """One step of Algorithm 1 on the rows ``idx`` of ``x`` (and ``y``): the objective, its gradient,
    the optimiser's update; ``total`` += the batch's loss times its size, on the device (no host read)."""
    warmup = {} if kl_weight is None else {"kl_weight": kl_weight}
    loss = objective(model, as_float(x.index_select(0, idx)), None if y is None else y.index_select(0, idx),
                     **warmup)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    total += loss.detach() * len(idx)


def fit(model: nn.Module, objective: Objective, train_x: torch.Tensor, *, config: TrainConfig,
        train_y: torch.Tensor | None = None, test_x: torch.Tensor | None = None,
        test_y: torch.Tensor | None = None, device: torch.device | str | None = None,
        progress: bool | None = None, desc: str | None = None, checkpoint: Path | None = None,
        key: str = "", spec: dict | None = None,
        on_epoch_end: Callable[[int, History], None] | None = None,
        curve: Callable[[nn.Module, int], dict | None] | None = None, step: str = "eager",
        every: int = 1) -> History:
    """Train ``model`` for ``config.epochs`` epochs of shuffled minibatches (Algorithm 1's loop).

    With ``checkpoint``, the state is saved atomically after every epoch (under ``key``, with the
    experiment's ``spec`` if given) and a run that was interrupted resumes from the last saved epoch,
    on this device or another. ``curve(model, epochs_done)``, if given, is called after every epoch,
    before the save; what it returns (unless ``None``) is kept in
    ``history.extra["curve"][str(epochs_done)]``. It must leave the random state as it found it
    (measure inside :func:`~thesis_lib.infra.seeding.seeded_evaluation`). The wall time is the sum of
    the epochs' own durations (their steps and test evaluation), without the curve, the checkpoint
    writes and the pauses between epochs or runs. ``step``: ``"eager"``; ``"graph"`` (CUDA only): every full batch
    replays one captured CUDA graph of the same step; ``"static"``: the graph's buffers without a graph.
    ``every``: evaluate on the test data and write the checkpoint after every ``every``-th epoch and the
    last one only (the same weights; ``history.extra`` records ``every`` and the evaluated epochs, and a
    killed run loses at most ``every`` epochs).
    """
    choice("step", step, STEPS)
    positive_int("every", every)
    device = resolve_device(device)
    check_step(step, device, config)
    model.to(device)
    x = train_x.to(device)
    y = None if train_y is None else train_y.to(device)
    if y is not None and len(y) != len(x):
        raise ValueError(f"train_y has {len(y)} entries but train_x has {len(x)}")
    optimizer = make_optimizer(model, config, graph=step != "eager")
    shuffle = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    history = History([], [], 0, 0.0, str(device))
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(Path(checkpoint), key)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = History(**state["history"])
        _restore_random_states(state["rng"], shuffle, device, history)
        history.origin = "cache" if history.epochs >= config.epochs else f"resumed after epoch {history.epochs}"
        history.device = str(device)
    else:
        history.extra["budget"] = active_budget(device)
    if every > 1:
        history.extra["every"] = every

    n, bs = len(x), config.batch_size
    bar = None
    if progress_enabled(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=config.epochs, initial=history.epochs, desc=desc or "training", unit="epoch")
    model.train()
    steps_per_epoch = -(-n // bs)
    total = torch.zeros((), device=device)
    graph = None if step == "eager" else GraphStep(model, objective, optimizer, x, y, total, bs,
                                                   warmup=bool(config.kl_warmup_epochs), capture=step == "graph")
    while history.epochs < config.epochs:
        epoch_started = time.perf_counter()
        epoch = history.epochs
        step_no = epoch * steps_per_epoch
        set_lr(optimizer, config.lr_at(epoch, step_no))
        perm = torch.randperm(n, generator=shuffle).to(device)
        total.zero_()
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            if config.schedule_epoch_steps:
                set_lr(optimizer, config.lr_at(epoch, step_no))
            weight = config.kl_weight_at(epoch, step_no, steps_per_epoch) if config.kl_warmup_epochs else None
            if graph is not None and len(idx) == bs:
                graph(idx, weight)
            else:
                train_step(model, objective, optimizer, x, y, idx, total, weight)
            step_no += 1
        history.train.append(total.item() / n)
        due = (epoch + 1) % every == 0 or epoch + 1 == config.epochs
        if test_x is not None and due:
            history.test.append(evaluate(model, objective, test_x, test_y, seed=config.seed))
            if every > 1:
                history.extra.setdefault("test_epochs", []).append(epoch + 1)
        history.epochs += 1
        history.wall_time += time.perf_counter() - epoch_started
        if curve is not None:
            point = curve(model, history.epochs)
            if point is not None:
                history.extra.setdefault("curve", {})[str(history.epochs)] = point
        if checkpoint is not None and due:
            save_atomic(_checkpoint_state(model, optimizer, shuffle, history, key, spec, config, device),
                        Path(checkpoint))
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


def _restore_random_states(rng: dict, shuffle: torch.Generator, device: torch.device, history: History) -> None:
    """The shuffle's and the CPU's states always; the device's when the run was saved on a device of the
    same type (another device's generator cannot take it: its draws then differ from an uninterrupted run)."""
    shuffle.set_state(rng["shuffle"].cpu())
    torch.set_rng_state(rng["torch"])
    saved_on = torch.device(history.device).type
    if rng.get("device") is not None and saved_on == device.type:
        set_device_rng_state(device, rng["device"])
    elif saved_on != device.type:
        history.extra.setdefault("devices", []).append(f"{saved_on} until epoch {history.epochs}")


def _checkpoint_state(model, optimizer, shuffle, history, key, spec, config, device) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "key": key,
        "spec": spec or {},
        "config": config.as_dict(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "rng": {"shuffle": shuffle.get_state(), "torch": torch.get_rng_state(), "device": device_rng_state(device)},
        "history": dataclasses.asdict(history),
    }
