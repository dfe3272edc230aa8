"""Budget and training configuration, validated on creation (the device: :mod:`.device`).

The budget decides how long the chapters train: ``full`` is the thesis's own setting
(Algorithm 1: 1000 epochs), ``quick`` runs the same code with far fewer epochs so that a
2-core CPU executes the whole book in minutes. CUDA present: ``full``; otherwise ``quick``;
the environment variable ``THESIS_BUDGET=quick|full`` overrides.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .device import BUDGETS, active_budget
from .validation import choice, non_negative_int, positive_int, positive_number

OPTIMIZERS = ("adam", "sgd")
LR_SCHEDULES = ("constant", "burda")
KL_WARMUP_BY = ("step", "epoch")
#: recipe fields and their neutral values; a field at its neutral value is left out of ``as_dict()``
#: (and so of every spec and key), so configurations that do not use it keep the keys they had
RECIPE_NEUTRAL = {"kl_warmup_epochs": 0, "kl_warmup_by": "step", "schedule_epoch_steps": 0}


def pick(quick: Any, full: Any, budget: str | None = None) -> Any:
    """The value for the active budget: ``pick(quick=5, full=1000)``."""
    budget = budget or active_budget()
    choice("budget", budget, BUDGETS)
    return full if budget == "full" else quick


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; every field is checked when the object is made.

    ``epochs`` is the budget-dependent part; every other field identifies the experiment.
    ``lr_schedule``: ``"constant"``, or ``"burda"``, the schedule of Burda et al. (2015, §5):
    ``lr · 10^(-i/7)`` during the 3^i epochs of stage i = 0, 1, ..., 7 (3280 epochs in all; the
    last rate is kept after that). It depends only on the epoch (or step), so a resumed or extended
    run follows the same rates.

    The recipe of Burda et al. and its common additions, all off by default:

    * ``schedule_epoch_steps``: 0, the schedule counts this run's epochs; N > 0, a schedule epoch is
      N optimiser steps (Burda et al.'s is 3000: 60,000 images in batches of 20), so a run with
      another batch size follows the paper's steps;
    * ``kl_warmup_epochs``: W > 0, the KL term's weight rises linearly from 0 to 1 over the first
      W epochs (Sønderby et al. 2016), step by step (``kl_warmup_by="step"``) or once per epoch
      (``"epoch"``); see :meth:`kl_weight_at`.
    """

    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    seed: int = 0
    adam_eps: float = 1e-8
    lr_schedule: str = "constant"
    kl_warmup_epochs: int = 0
    kl_warmup_by: str = "step"
    schedule_epoch_steps: int = 0

    def __post_init__(self) -> None:
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        positive_number("lr", self.lr)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        non_negative_int("seed", self.seed)
        positive_number("adam_eps", self.adam_eps)
        choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        non_negative_int("kl_warmup_epochs", self.kl_warmup_epochs)
        choice("kl_warmup_by", self.kl_warmup_by, KL_WARMUP_BY)
        non_negative_int("schedule_epoch_steps", self.schedule_epoch_steps)

    def lr_at(self, epoch: int, step: int | None = None) -> float:
        """The learning rate of epoch ``epoch`` (counted from 0) under ``lr_schedule``; with
        ``schedule_epoch_steps`` set, of optimiser step ``step`` (counted from 0 over the whole run)."""
        if self.lr_schedule == "constant":
            return self.lr
        if self.schedule_epoch_steps:
            if step is None:
                raise ValueError("step is needed when schedule_epoch_steps is set (the schedule counts steps)")
            epoch = step // self.schedule_epoch_steps
        stage, stage_end = 0, 1
        while stage < 7 and epoch >= stage_end:
            stage += 1
            stage_end += 3 ** stage
        return self.lr * 10 ** (-stage / 7)

    def kl_weight_at(self, epoch: int, step: int, steps_per_epoch: int) -> float:
        """The KL term's weight at optimiser step ``step`` (from 0 over the run) of epoch ``epoch``:
        1 without warm-up; else min(1, (step + 1) / (W · steps_per_epoch)) by step, or
        min(1, (epoch + 1) / W) by epoch, with W = ``kl_warmup_epochs``."""
        if not self.kl_warmup_epochs:
            return 1.0
        if self.kl_warmup_by == "epoch":
            return min(1.0, (epoch + 1) / self.kl_warmup_epochs)
        return min(1.0, (step + 1) / (self.kl_warmup_epochs * steps_per_epoch))

    def as_dict(self) -> dict:
        """The fields as plain values, recipe fields only where they differ from :data:`RECIPE_NEUTRAL`."""
        return {k: v for k, v in dataclasses.asdict(self).items() if RECIPE_NEUTRAL.get(k, object()) != v}
