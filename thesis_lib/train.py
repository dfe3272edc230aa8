"""The one training loop of the book (Algorithm 1 and every later model) and "load or train".

The dataset lives on the device as one tensor (uint8 images stay uint8 until a batch is sliced);
each epoch shuffles indices on the device and slices batches: no per-sample Python work and no
DataLoader in the hot path. ``objective(model, x, y)`` returns the scalar to minimise for a
float batch ``x`` in [0, 1] and its targets ``y`` (or ``None``).

Checkpoints hold only tensors and plain values (loaded with ``torch.load(weights_only=True)``),
are written atomically (temporary file, then rename) after every epoch, and carry the optimiser
state, the epoch and the random states, so a killed run resumes and loses at most one epoch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .config import TrainConfig, active_budget, default_device
from .paths import COMMITTED_DIR

CHECKPOINT_FORMAT = 1

Objective = Callable[[nn.Module, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


class CheckpointError(RuntimeError):
    """A checkpoint that is not ours, not plain data, or from another configuration."""


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


def _check_objective(objective: Objective) -> str:
    name = f"{getattr(objective, '__module__', '?')}.{getattr(objective, '__qualname__', '?')}"
    if "<lambda>" in name or "<locals>" in name:
        raise ValueError(f"objective={name} is not allowed; pass a named module-level function so that "
                         "trained models can be cached by the objective's name")
    return name


@torch.no_grad()
def evaluate(model: nn.Module, objective: Objective, x: torch.Tensor, y: torch.Tensor | None = None, *,
             batch_size: int = 2000, seed: int = 0) -> float:
    """Mean objective over ``x`` (in eval mode, batches weighted by size, random draws seeded)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    fork = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork):
        torch.manual_seed(seed)
        total = torch.zeros((), dtype=torch.float64, device=device)
        for i in range(0, len(x), batch_size):
            xb = as_float(x[i:i + batch_size].to(device))
            yb = None if y is None else y[i:i + batch_size].to(device)
            total += objective(model, xb, yb).double() * len(xb)
    model.train(was_training)
    return total.item() / len(x)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam (``fused`` where the device supports it) or plain SGD, as the configuration says."""
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr)
    return torch.optim.Adam(params, lr=config.lr, eps=config.adam_eps, fused=True)


def save_atomic(obj: dict, path: Path) -> None:
    """Write ``obj`` with ``torch.save`` to a temporary file beside ``path``, then rename it."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CheckpointError(f"cannot write a checkpoint into {path.parent} ({exc.strerror}); make the folder "
                              "writable or set THESIS_CACHE to a writable folder") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, key: str | None = None) -> dict:
    """Load a checkpoint as plain data only; refuse pickled objects and other configurations."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"refused to load {path}: it is not a plain-tensor checkpoint of this book "
                              f"({type(exc).__name__}: {str(exc)[:200]}). Delete it to train again.") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"refused to load {path}: not a checkpoint of format {CHECKPOINT_FORMAT}")
    if key is not None and state.get("key") != key:
        raise CheckpointError(f"{path} belongs to configuration {state.get('key')!r}, not {key!r}; "
                              "it was made for another model, objective, data or training setting")
    return state


def fit(model: nn.Module, objective: Objective, train_x: torch.Tensor, *, config: TrainConfig,
        train_y: torch.Tensor | None = None, test_x: torch.Tensor | None = None,
        test_y: torch.Tensor | None = None, device: torch.device | str | None = None,
        progress: bool | None = None, desc: str | None = None, checkpoint: Path | None = None,
        key: str = "", on_epoch_end: Callable[[int, History], None] | None = None) -> History:
    """Train ``model`` for ``config.epochs`` epochs of shuffled minibatches (Algorithm 1's loop).

    With ``checkpoint``, the state is saved atomically after every epoch and a run that was
    interrupted resumes from the last saved epoch.
    """
    _check_objective(objective)
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
    while history.epochs < config.epochs:
        for group in optimizer.param_groups:
            group["lr"] = config.lr_at(history.epochs)
        perm = torch.randperm(n, device=device, generator=gen)
        total = torch.zeros((), device=device)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = objective(model, as_float(x[idx]), None if y is None else y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(idx)
        history.train.append(total.item() / n)
        if test_x is not None:
            history.test.append(evaluate(model, objective, test_x, test_y, seed=config.seed))
        history.epochs += 1
        history.wall_time = time.perf_counter() - started
        if checkpoint is not None:
            save_atomic(_checkpoint_state(model, optimizer, gen, history, key, config), Path(checkpoint))
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


def _checkpoint_state(model, optimizer, gen, history, key, config) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "key": key,
        "config": config.as_dict(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "rng": {"shuffle": gen.get_state().cpu(), "torch": torch.get_rng_state()},
        "history": dataclasses.asdict(history),
    }


def tensor_digest(*tensors: torch.Tensor | None) -> str:
    """md5 of the tensors' bytes: identifies the exact data a model was trained on."""
    digest = hashlib.md5()
    for t in tensors:
        if t is not None:
            digest.update(str((t.dtype, tuple(t.shape))).encode())
            digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


#: configuration fields added after checkpoints were first made: they enter the key only when
#: changed from these values, so that the models trained before them keep their keys
LATER_FIELDS = {"lr_schedule": "constant"}


def experiment_key(name: str, model: nn.Module, objective: Objective, config: TrainConfig,
                   data_digest: str) -> str:
    """A hash of everything that defines a trained model except the number of epochs."""
    fields = {k: v for k, v in config.as_dict().items()
              if k != "epochs" and not (k in LATER_FIELDS and v == LATER_FIELDS[k])}
    spec = {"name": name, "model": repr(model), "objective": _check_objective(objective),
            "config": fields, "data": data_digest}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    """Where trained models are cached: ``THESIS_CACHE``, else ``$XDG_CACHE_HOME/thesis_vae``."""
    env = os.environ.get("THESIS_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "thesis_vae"


def committed_manifest(name: str) -> dict | None:
    path = COMMITTED_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def load_or_train(name: str, build: Callable[[], nn.Module], objective: Objective, config: TrainConfig,
                  train_x: torch.Tensor, train_y: torch.Tensor | None = None,
                  test_x: torch.Tensor | None = None, test_y: torch.Tensor | None = None, *,
                  device: torch.device | str | None = None, progress: bool | None = None,
                  use_committed: bool = True) -> tuple[nn.Module, History]:
    """The trained model for this configuration: committed, cached, resumed or trained now.

    1. ``checkpoints/<name>.pt`` (made by ``make reproduce``) when its manifest has the same key
       and at least ``config.epochs`` epochs;
    2. else the user's cache (``cache_dir()``), keyed by the configuration and data, resuming an
       interrupted run; training at ``config.epochs`` when nothing is there.

    The configuration's key is returned in ``history.extra["key"]``.
    """
    torch.manual_seed(config.seed)
    model = build()
    key = experiment_key(name, model, objective, config, tensor_digest(train_x, train_y))
    manifest = committed_manifest(name) if use_committed else None
    if manifest and manifest.get("key") == key and manifest.get("epochs", 0) >= config.epochs:
        state = load_checkpoint(COMMITTED_DIR / f"{name}.pt", key)
        model.load_state_dict(state["model"])
        history = History(**state["history"])
        history.origin = f"committed checkpoint (budget {manifest.get('budget', 'full')})"
        history.extra["key"] = key
        return model.to(device or default_device()).eval(), history
    path = cache_dir() / f"{name}-{key}-e{config.epochs}.pt"
    history = fit(model, objective, train_x, config=config, train_y=train_y, test_x=test_x, test_y=test_y,
                  device=device, progress=progress, desc=name, checkpoint=path, key=key)
    history.extra["key"] = key
    return model, history


Data = tuple[torch.Tensor, "torch.Tensor | None", "torch.Tensor | None", "torch.Tensor | None"]


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A named trained model: how to build it, what it minimises, how long, on what data.

    ``config(budget)`` gives the training configuration for ``"quick"`` or ``"full"``;
    ``data()`` returns ``(train_x, train_y, test_x, test_y)`` (targets may be ``None``).
    ``make reproduce`` trains every registered experiment at the full budget. ``evaluation``, if
    given, maps the trained model to further named numbers too costly for every run (such as a
    k = 5000 likelihood); ``make reproduce`` computes them once and writes them into the manifest.
    """

    name: str
    build: Callable[[], nn.Module]
    objective: Objective
    config: Callable[[str], TrainConfig]
    data: Callable[[], Data]
    description: str = ""
    evaluation: Callable[[nn.Module], dict[str, float]] | None = None

    def trained(self, budget: str | None = None, device: torch.device | str | None = None,
                progress: bool | None = None, use_committed: bool = True) -> tuple[nn.Module, History]:
        """Load or train this experiment's model at ``budget`` (default: the active budget)."""
        train_x, train_y, test_x, test_y = self.data()
        return load_or_train(self.name, self.build, self.objective, self.config(budget or active_budget()),
                             train_x, train_y, test_x, test_y, device=device, progress=progress,
                             use_committed=use_committed)

    def metrics(self, model: nn.Module) -> dict[str, float]:
        """The mean objective on the training and the test data (seeded, in eval mode)."""
        train_x, train_y, test_x, test_y = self.data()
        out = {"train_objective": evaluate(model, self.objective, train_x, train_y)}
        if test_x is not None:
            out["test_objective"] = evaluate(model, self.objective, test_x, test_y)
        return out
