"""A named trained model, identified by an explicit, versioned spec; "load or train" it.

An :class:`Experiment` says what is trained — architecture (widths, activations), objective,
data, training fields — as plain values. Its spec (:meth:`Experiment.spec`) is what the cache
key hashes; the budget's number of epochs is not part of it, so the committed full-budget model
serves the quick budget too. A committed checkpoint whose spec differs from the experiment's is never used, and the
reader is told which fields differ before anything trains.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import warnings
from typing import Any, Callable

import torch
from torch import nn

from ..infra.checkpoints import cache_dir, committed_manifest, committed_path, load_checkpoint, tensor_digest
from ..infra.config import BUDGETS, TrainConfig
from ..infra.device import active_budget, resolve_device
from ..infra.training import History, Objective, evaluate, fit
from ..conditional_vae import conditional_negative_elbo
from ..conv_vae import canvas_negative_elbo
from ..losses import reconstruction_mse
from ..risk import cross_entropy_risk
from ..slot_reader import slot_cross_entropy
from ..vae import (beta_negative_elbo, negative_elbo, negative_iwae_bound, negative_iwae_bound_dreg,
                   squared_error_negative_elbo)
from . import architectures
from .datasets import DATASETS, Data

#: the version of the spec's layout; a change of layout or meaning bumps it (and every key)
SPEC_VERSION = 1

#: the objectives an experiment may name
OBJECTIVES: dict[str, Objective] = {
    "mse": reconstruction_mse,
    "cross-entropy": cross_entropy_risk,
    "negative-elbo": negative_elbo,
    "beta-negative-elbo": beta_negative_elbo,
    "negative-iwae-bound-k5": functools.partial(negative_iwae_bound, k=5),
    "negative-iwae-bound-k5-dreg": functools.partial(negative_iwae_bound_dreg, k=5),
    "mse-sum-negative-elbo": functools.partial(squared_error_negative_elbo, pixels="sum"),
    "mse-mean-negative-elbo": functools.partial(squared_error_negative_elbo, pixels="mean"),
    "conditional-negative-elbo": conditional_negative_elbo,
    "slot-cross-entropy": slot_cross_entropy,
    "canvas-negative-elbo": canvas_negative_elbo,
}

#: the objectives with a KL term that a warm-up (``TrainConfig.kl_warmup_epochs``) can weigh: those that take ``kl_weight``
WARMUP_OBJECTIVES = tuple(name for name, objective in OBJECTIVES.items()
                          if "kl_weight" in inspect.signature(objective).parameters)

#: modules that define a list ``EXPERIMENTS`` of :class:`Experiment`
EXPERIMENT_MODULES = ("thesis_lib.experiments.classifiers", "thesis_lib.experiments.autoencoders",
                      "thesis_lib.experiments.vaes", "thesis_lib.experiments.canvases")


class CommittedCheckpointMismatch(UserWarning):
    """A committed checkpoint exists under the experiment's name but cannot be used for this run."""


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A named trained model: its architecture spec, objective and dataset names, and its training.

    ``config(budget)`` gives the training configuration for ``"quick"`` or ``"full"``. ``evaluation``,
    if given, maps the trained model to further named numbers too costly for every run (such as a
    k = 5000 likelihood); ``make reproduce`` computes them once and writes them into the manifest.
    ``curve``, if given, is measured on the model after each epoch of ``curve_epochs`` while it
    trains at the full budget (kept in the checkpoint's history, ``history.extra["curve"]``); it does
    not change what is trained. ``metric_rows``, if given, limits :meth:`metrics` to the first rows of
    the training and the test data (for convolutional models of many canvases, whose manifest the
    checkpoint test re-evaluates on every run).
    """

    name: str
    architecture: dict[str, Any]
    objective: str
    data: str
    config: Callable[[str], TrainConfig]
    description: str = ""
    evaluation: Callable[[nn.Module], dict[str, float]] | None = None
    curve: Callable[[nn.Module], dict[str, float]] | None = None
    curve_epochs: tuple[int, ...] = ()
    metric_rows: int | None = None

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective={self.objective!r} is not allowed; choose one of "
                             f"{', '.join(map(repr, OBJECTIVES))}")
        if self.data not in DATASETS:
            raise ValueError(f"data={self.data!r} is not allowed; choose one of {', '.join(map(repr, DATASETS))}")
        if self.curve_epochs and self.curve is None:
            raise ValueError(f"curve_epochs={self.curve_epochs} is set but the experiment has no curve to measure")
        if self.objective not in WARMUP_OBJECTIVES and any(self.config(b).kl_warmup_epochs for b in BUDGETS):
            raise ValueError(f"kl_warmup_epochs is set but objective={self.objective!r} has no KL term to warm up; "
                             f"a warm-up is allowed with {', '.join(map(repr, WARMUP_OBJECTIVES))}")

    def build(self, train_x: torch.Tensor | None = None) -> nn.Module:
        """A freshly initialised model of this architecture (from torch's current random state; an
        initialisation from the data reads the training images, ``train_x`` or this experiment's)."""
        if train_x is None and "output_bias" in self.architecture:
            train_x = self.dataset()[0]
        return architectures.build(self.architecture, train_x)

    @property
    def objective_function(self) -> Objective:
        return OBJECTIVES[self.objective]

    def dataset(self) -> Data:
        """``(train_x, train_y, test_x, test_y)``; targets may be ``None``."""
        return DATASETS[self.data]()

    def spec(self, budget: str, data: Data | None = None) -> dict[str, Any]:
        """Everything that defines the trained model except the number of epochs, as plain values
        (``data``: this experiment's :meth:`dataset`, if the caller has it already)."""
        train_x, train_y, _, _ = data or self.dataset()
        training = {k: v for k, v in self.config(budget).as_dict().items() if k != "epochs"}
        return {"spec_version": SPEC_VERSION, "name": self.name, "architecture": dict(self.architecture),
                "objective": self.objective, "data": {"name": self.data, "md5": tensor_digest(train_x, train_y)},
                "training": training}

    def trained(self, budget: str | None = None, device: torch.device | str | None = None,
                progress: bool | None = None, use_committed: bool = True, step: str = "eager",
                every: int = 1) -> tuple[nn.Module, History]:
        """Load or train this experiment's model at ``budget`` (default: the budget of ``device``, where
        it trains: the active device unless given)."""
        device = resolve_device(device)
        return load_or_train(self, budget or active_budget(device), device=device, progress=progress,
                             use_committed=use_committed, step=step, every=every)

    def metrics(self, model: nn.Module) -> dict[str, float]:
        """The mean objective on the training and the test data, or on their first :attr:`metric_rows`
        rows (seeded, in eval mode)."""
        rows = slice(self.metric_rows)
        train_x, train_y, test_x, test_y = (None if t is None else t[rows] for t in self.dataset())
        out = {"train_objective": evaluate(model, self.objective_function, train_x, train_y)}
        if test_x is not None:
            out["test_objective"] = evaluate(model, self.objective_function, test_x, test_y)
        return out


def spec_key(spec: dict[str, Any]) -> str:
    """The cache key of a spec: a hash of its canonical JSON."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def spec_differences(committed: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """``"field: committed A, now B"`` for every leaf where two specs differ (dotted field names)."""
    out = []
    for field in sorted(set(committed) | set(current)):
        a, b = committed.get(field, "(absent)"), current.get(field, "(absent)")
        if isinstance(a, dict) and isinstance(b, dict):
            out += spec_differences(a, b, f"{prefix}{field}.")
        elif a != b:
            out.append(f"{prefix}{field}: committed {a!r}, now {b!r}")
    return out


def committed_mismatch(experiment: Experiment, budget: str, spec: dict[str, Any] | None = None) -> str | None:
    """Why ``checkpoints/<name>.pt`` cannot serve ``experiment`` at ``budget`` (another spec, named
    field by field, or too few epochs), ``"absent"`` when there is none, or ``None`` when it can.
    ``spec``: the experiment's spec at ``budget``, if the caller has it already."""
    manifest = committed_manifest(experiment.name)
    if manifest is None:
        return "absent"
    spec = spec or experiment.spec(budget)
    if manifest.get("key") != spec_key(spec):
        differences = spec_differences(manifest.get("spec", {}), spec) or ["(no field differs: the manifest's key is not its spec's)"]
        return "it was trained for another spec: " + "; ".join(differences)
    epochs = experiment.config(budget).epochs
    if manifest.get("epochs", 0) < epochs:
        return f"it has {manifest.get('epochs')} epochs but this budget asks for {epochs}"
    return None


def load_or_train(experiment: Experiment, budget: str, *, device: torch.device | str | None = None,
                  progress: bool | None = None, use_committed: bool = True, step: str = "eager",
                  every: int = 1) -> tuple[nn.Module, History]:
    """The trained model of ``experiment`` at ``budget``: committed, cached, resumed or trained now.

    1. ``checkpoints/<name>.pt`` (made by ``make reproduce``) when its manifest has the same key
       and at least the budget's epochs (otherwise a warning says why it is not used);
    2. else the user's cache (``cache_dir()``), keyed by the spec, resuming an interrupted run;
       training at the budget's epochs when nothing is there.

    ``step`` and ``every`` are how a model trains (:func:`~thesis_lib.infra.training.fit`), not what:
    they are no part of the key. The spec's key is returned in ``history.extra["key"]``.
    """
    config = experiment.config(budget)
    data = experiment.dataset()
    spec = experiment.spec(budget, data)
    key = spec_key(spec)
    torch.manual_seed(config.seed)
    model = experiment.build(data[0])
    mismatch = committed_mismatch(experiment, budget, spec) if use_committed else "absent"
    if mismatch not in (None, "absent"):
        warnings.warn(f"checkpoints/{experiment.name}.pt is not used: {mismatch}. Training in the cache instead.",
                      CommittedCheckpointMismatch, stacklevel=3)
    if mismatch is None:
        state = load_checkpoint(committed_path(experiment.name, ".pt"), key)
        model.load_state_dict(state["model"])
        history = History(**state["history"])
        history.origin = "committed checkpoint (budget full)"
        history.extra["key"] = key
        return model.to(resolve_device(device)).eval(), history
    train_x, train_y, test_x, test_y = data
    path = cache_dir() / f"{experiment.name}-{key}-e{config.epochs}.pt"
    curve = None
    if experiment.curve is not None and budget == "full":
        def curve(model: nn.Module, epoch: int) -> dict | None:
            return experiment.curve(model) if epoch in experiment.curve_epochs else None
    history = fit(model, experiment.objective_function, train_x, config=config, train_y=train_y, test_x=test_x,
                  test_y=test_y, device=device, progress=progress, desc=experiment.name, checkpoint=path, key=key,
                  spec=spec, curve=curve, step=step, every=every)
    history.extra["key"] = key
    return model, history


def registered() -> dict[str, Experiment]:
    """Every experiment of :data:`EXPERIMENT_MODULES`, by name."""
    import importlib

    found: dict[str, Experiment] = {}
    for module_name in EXPERIMENT_MODULES:
        for experiment in importlib.import_module(module_name).EXPERIMENTS:
            found[experiment.name] = experiment
    return found
