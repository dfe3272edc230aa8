"""Random seeds: every random source at once, and seeded evaluations that leave no trace."""

from __future__ import annotations

import contextlib
import random
from typing import Iterator

import numpy as np
import torch
from torch import nn


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
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            yield device
    finally:
        model.train(was_training)
