"""Random seeds: every random source at once, and seeded evaluations that leave no trace."""

from __future__ import annotations

import contextlib
import random
from typing import Iterator

import numpy as np
import torch
from torch import nn

from .device import fork_rng, model_device


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's random sources; return a CPU generator with that seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def seeded_evaluation(model: nn.Module, seed: int = 0) -> Iterator[torch.device]:
    """Evaluate ``model`` reproducibly: eval mode and torch's random state seeded with ``seed`` inside;
    the caller's random state and the model's train/eval mode are restored on exit. Yields the
    model's device."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    try:
        with fork_rng(device):
            torch.manual_seed(seed)
            yield device
    finally:
        model.train(was_training)
