"""The training step as a CUDA graph: captured once, replayed for every full batch of a run.

A step of :func:`~thesis_lib.infra.training.train_step` launches dozens of small kernels (an MLP's
forward and backward pass and a fused Adam update); on a GPU their launches, not their arithmetic,
bound the time. A CUDA graph records the launches once and replays them with one call. What a
replay reads must live at fixed addresses, so the step works on static buffers:

* the batch's row indices (``idx``, the batch size; the gather from the resident dataset is inside
  the graph), the KL warm-up weight (``kl_weight``), the epoch's loss sum (the loop's ``total``);
* the learning rate, in a tensor of the capturable fused Adam (:func:`~thesis_lib.infra.training.make_optimizer`).

A partial last batch has another shape: the loop runs it eagerly with the same optimiser. Capturing
needs a few warm-up steps first; they run on a side stream and are then undone (weights, optimiser
state, loss sum and the device's random state restored), so the run trains exactly the steps it
would have trained. Random draws inside a replay (binarisation, the reparameterisation) advance the
device's generator as eager steps do, though not with the same numbers.

``fit(step="static")`` runs the same body through the same buffers and optimiser without a graph
(each "replay" executes it): on any device, how the buffers, the partial last batch and the step
are tested without CUDA, and what the graph is compared with on CUDA.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .config import TrainConfig

#: the ways :func:`~thesis_lib.infra.training.fit` can run a step: plainly, through the graph's static
#: buffers without a graph, or as a captured CUDA graph
STEPS = ("eager", "static", "graph")
#: warm-up steps before a capture (PyTorch's examples use 3; they are undone afterwards)
WARMUP_STEPS = 3


def check_step(step: str, device: torch.device, config: TrainConfig) -> None:
    """A graph step needs CUDA, and it and its static twin need Adam (whose state and rate live in
    device tensors)."""
    if step == "eager":
        return
    if step == "graph" and device.type != "cuda":
        raise ValueError(f"step='graph' needs a CUDA device, but the device is {device.type!r}; "
                         "use step='eager' or 'static' there")
    if config.optimizer != "adam":
        raise ValueError(f"step={step!r} needs optimizer='adam', not {config.optimizer!r}")


class GraphStep:
    """One training step on static buffers, captured as a CUDA graph (``capture=True``) or run eagerly.

    ``step(idx, kl_weight)`` copies the batch's indices (exactly the batch size) and the warm-up weight
    (a float, or ``None`` without warm-up) into the buffers, then replays the step.
    """

    def __init__(self, model: nn.Module, objective: Callable, optimizer: torch.optim.Optimizer,
                 x: torch.Tensor, y: torch.Tensor | None, total: torch.Tensor, batch_size: int, *,
                 warmup: bool, capture: bool):
        from .training import train_step

        self.model, self.optimizer, self.total = model, optimizer, total
        device = total.device
        self.idx = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.kl_weight = torch.ones((), device=device) if warmup else None
        self._body: Callable[[], None] = lambda: train_step(model, objective, optimizer, x, y, self.idx, total,
                                                             self.kl_weight)
        self.graph = self._capture() if capture else None

    def __call__(self, idx: torch.Tensor, kl_weight: float | None = None) -> None:
        if len(idx) != len(self.idx):
            raise ValueError(f"idx has {len(idx)} entries; the captured step takes batches of {len(self.idx)} "
                             "(run a partial batch eagerly)")
        self.idx.copy_(idx, non_blocking=True)
        if self.kl_weight is not None:
            self.kl_weight.fill_(1.0 if kl_weight is None else kl_weight)
        if self.graph is None:
            self._body()
        else:
            self.graph.replay()

    def _capture(self) -> "torch.cuda.CUDAGraph":
        saved = self._snapshot()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                self._body()
        torch.cuda.current_stream().wait_stream(side)
        self._restore(saved)
        graph = torch.cuda.CUDAGraph()
        # gradients set to None before the capture are allocated inside it: each replay writes them anew
        self.optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            self._body()
        return graph

    def _snapshot(self) -> dict:
        params = [p.detach().clone() for p in self.model.parameters()]
        state = {id(p): {k: v.clone() for k, v in s.items()} for p, s in self.optimizer.state.items()}
        return {"params": params, "state": state, "total": self.total.clone(),
                "rng": torch.cuda.get_rng_state(self.total.device)}

    @torch.no_grad()
    def _restore(self, saved: dict) -> None:
        for p, value in zip(self.model.parameters(), saved["params"]):
            p.copy_(value)
        for p, state in self.optimizer.state.items():
            before = saved["state"].get(id(p))
            for k, v in state.items():
                v.copy_(before[k]) if before is not None else v.zero_()
        self.total.copy_(saved["total"])
        torch.cuda.set_rng_state(saved["rng"], self.total.device)
