"""Device, budget and training configuration, validated on creation.

The budget decides how long the chapters train: ``full`` is the thesis's own setting
(Algorithm 1: 1000 epochs), ``quick`` runs the same code with far fewer epochs so that a
2-core CPU executes the whole book in minutes. CUDA present: ``full``; otherwise ``quick``;
the environment variable ``THESIS_BUDGET=quick|full`` overrides.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import torch

from .validation import choice, non_negative_int, positive_int, positive_number

BUDGETS = ("quick", "full")
OPTIMIZERS = ("adam", "sgd")
LR_SCHEDULES = ("constant", "burda")


def default_device() -> torch.device:
    """CUDA if present, else Apple's MPS where available, else the CPU.

    ``THESIS_DEVICE`` (``cpu``, ``cuda``, ``mps``) overrides the choice.
    """
    forced = os.environ.get("THESIS_DEVICE")
    if forced:
        choice("THESIS_DEVICE", forced, ("cpu", "cuda", "mps"))
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def active_budget(device: torch.device | None = None) -> str:
    """``THESIS_BUDGET`` if set, else ``full`` on CUDA and ``quick`` elsewhere."""
    forced = os.environ.get("THESIS_BUDGET")
    if forced:
        choice("THESIS_BUDGET", forced, BUDGETS)
        return forced
    device = device or default_device()
    return "full" if device.type == "cuda" else "quick"


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
    last rate is kept after that). It depends only on the epoch, so a resumed or extended run
    follows the same rates.
    """

    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    seed: int = 0
    adam_eps: float = 1e-8
    lr_schedule: str = "constant"

    def __post_init__(self) -> None:
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        positive_number("lr", self.lr)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        non_negative_int("seed", self.seed)
        positive_number("adam_eps", self.adam_eps)
        choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)

    def lr_at(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (counted from 0) under ``lr_schedule``."""
        if self.lr_schedule == "constant":
            return self.lr
        stage, stage_end = 0, 1
        while stage < 7 and epoch >= stage_end:
            stage += 1
            stage_end += 3 ** stage
        return self.lr * 10 ** (-stage / 7)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
