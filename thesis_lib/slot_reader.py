"""The reader of composed MNIST (§2.3's canvases, chapter 3.3): a small CNN from chapter 1.3's layers
that reads both digits of a 48×48 canvas in slot order (left, right).

It is the instrument that checks a request: a canvas generated for "a 3 on the left and a 7 on the
right" is read as asked when the reader reads 3 in the left slot and 7 in the right. It is trained on
real canvases that no generator sees (experiment ``canvas-reader``); trained the same way on
generated canvases only, its accuracy on real canvases is a generator's Classification Accuracy
Score (Ravuri & Vinyals 2019).
"""

from __future__ import annotations

import torch
from torch import nn

from .conv_layers import ImageConv, MaxPool
from .generation_metrics import JudgeReading, read
from .networks import Layer, check_widths
from .risk import cross_entropy

Tensor = torch.Tensor

#: the slots of a canvas, in reading order
SLOTS = 2


class SlotReader(nn.Module):
    """48×48 canvas → for each entry of ``channels`` a 3×3 convolution (one pixel of zero padding, ReLU)
    and a 2×2 max-pool, halving the side (four stages: 48 → 3) → ``features`` (ReLU; :meth:`features`)
    → 10 logits per slot, [B, 2, 10]. Inputs [B, 48, 48] or flat [B, 2304]."""

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 64), features: int = 128):
        super().__init__()
        widths = check_widths((1,) + tuple(channels) + (features,), name="(1, channels..., features)")
        if 48 % 2 ** len(channels):
            raise ValueError(f"channels={channels!r} is not allowed: 48 must halve once per stage (1 to 4 stages)")
        stages = []
        for c_in, c_out in zip(widths[:-2], widths[1:-1]):
            stages += [ImageConv(c_in, c_out), MaxPool(2)]
        side = 48 // 2 ** len(channels)
        self.body = nn.Sequential(nn.Unflatten(1, (1, 48, 48)), *stages, nn.Flatten(),
                                  Layer(side * side * widths[-2], features, "relu"))
        self.head = nn.Sequential(Layer(features, SLOTS * 10, "identity"), nn.Unflatten(1, (SLOTS, 10)))

    def features(self, x: Tensor) -> Tensor:
        """The penultimate layer's activations, [B, features]."""
        return self.body(x.reshape(len(x), 48 * 48))

    def forward(self, x: Tensor) -> Tensor:
        """The logits of the ten digits in each slot, [B, 2, 10]."""
        return self.head(self.features(x))


def slot_cross_entropy(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """The reader's training objective: the cross-entropy of both slots' labels y [B, 2], summed over
    the slots, averaged over the batch."""
    logits = model(x)
    return cross_entropy(y.reshape(-1), logits.reshape(-1, 10)).reshape(len(x), SLOTS).sum(1).mean()


def read_canvases(reader: nn.Module, canvases: Tensor, batch_size: int = 2000) -> JudgeReading:
    """The reader's slot probabilities [n, 2, 10] and features [n, f] of canvases [n, 48, 48]
    (floats in [0, 1] or uint8), float64 on the CPU."""
    return read(reader, canvases, batch_size)


def read_as_asked(probabilities: Tensor, requests: Tensor) -> Tensor:
    """For each canvas whether both slots are read (argmax) as the digits asked for, bool [n]."""
    if probabilities.shape[:2] != requests.shape:
        raise ValueError(f"probabilities {tuple(probabilities.shape)} and requests {tuple(requests.shape)} "
                         "must agree: [n, 2, 10] and [n, 2]")
    return (probabilities.argmax(-1) == requests.to(probabilities.device)).all(1)
