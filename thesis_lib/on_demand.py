"""New composed canvases on demand (chapter 3.3, the thesis's §2.3 application): requests, three ways
to meet them, and the measures that compare the three with one reader (:mod:`.slot_reader`).

A request asks for a digit in each slot of a 48×48 canvas: "a 3 on the left and a 7 on the right".
The generators:

* a conditional convolutional VAE (:mod:`.conv_vae`) given the request;
* the compositional baseline: each digit drawn from a conditional VAE of single MNIST digits
  (:class:`~thesis_lib.conditional_vae.ConditionalVAE`) and placed into its slot as real canvases are
  (:func:`~thesis_lib.infra.data.place_in_slots`);
* an unconditioned VAE of canvases filtered by the reader: draws are kept when the reader reads both
  slots with confidence ≥ 0.9, and a request is met by a kept draw read as asked.

The measures, on requests for every ordered pair of digits equally often: the share read as asked;
the Fréchet distance between the reader's features of the generated canvases and of real canvases
with the same requests; the median distance to the nearest training canvas (in pixels, so that
copying shows); and the Classification Accuracy Score (CAS, Ravuri & Vinyals 2019): the accuracy on
real test canvases of a fresh reader trained on generated canvases only.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from . import conditional_vae, conv_vae
from .generation import nearest_neighbours
from .generation_metrics import CONFIDENCE, feature_frechet_distance
from .infra.config import TrainConfig
from .infra.device import as_float
from .infra.data import SLOT_COLUMNS, SLOT_ROWS, place_at, place_in_slots
from .infra.training import fit
from .infra.validation import positive_int
from .slot_reader import SlotReader, read_as_asked, read_canvases, slot_cross_entropy

Tensor = torch.Tensor


def ordered_pairs(per_pair: int) -> Tensor:
    """Requests [100·per_pair, 2]: every ordered pair of digits (left, right), each ``per_pair`` times
    in a row, pairs in the order (0, 0), (0, 1), ..., (9, 9)."""
    pairs = torch.cartesian_prod(torch.arange(10), torch.arange(10))
    return pairs.repeat_interleave(positive_int("per_pair", per_pair), 0)


@torch.no_grad()
def compositional(model: conditional_vae.ConditionalVAE, requests: Tensor,
                  generator: torch.Generator | None = None) -> Tensor:
    """The compositional baseline: for each request [n, 2] a new digit of each asked label from the
    conditional VAE of single digits, placed in its slot with the real canvases' jitter; [n, 48, 48]."""
    digits = conditional_vae.generate(model, requests.reshape(-1, 1), generator).reshape(-1, 2, 28, 28)
    return place_in_slots(digits, generator)[0]


#: the fields' top-left corners in the middle of each slot's jitter: the explorer's canvas
CENTRED = tuple(((SLOT_ROWS[0] + SLOT_ROWS[1]) // 2, (low + high) // 2) for low, high in SLOT_COLUMNS)


@torch.no_grad()
def style_axis(model: conditional_vae.ConditionalVAE, images: Tensor, labels: Tensor) -> Tensor:
    """The direction of the largest spread of the encoder's means μ(x, c) over digits ``images`` [n, 28, 28]
    with their ``labels`` [n], scaled to one standard deviation of the codes along it, [latent]."""
    c = conditional_vae.digit_counts(labels.reshape(-1, 1))
    mu, _ = model.encode(as_float(images).reshape(len(images), -1), c)
    centred = mu - mu.mean(0)
    _, singular, vectors = torch.linalg.svd(centred, full_matrices=False)
    axis = vectors[0] * singular[0] / (len(mu) - 1) ** 0.5
    return axis if axis[axis.abs().argmax()] > 0 else -axis


@torch.no_grad()
def request_canvas(model: conditional_vae.ConditionalVAE, left: int, right: int, z: Tensor) -> Tensor:
    """The explorer's canvas: both digits decoded from the same code z [latent] (the same style), each
    with its digit as the condition, placed at :data:`CENTRED`; [48, 48]."""
    labels = torch.tensor([[left], [right]])
    digits = model.decode_mean(z.reshape(1, -1).expand(2, -1), conditional_vae.digit_counts(labels))
    return place_at(digits.reshape(1, 2, 28, 28), torch.tensor([CENTRED]))[0]


@dataclasses.dataclass(frozen=True)
class Filtered:
    """The draws of an unconditioned VAE that the reader accepts: ``canvases`` [m, 48, 48] and the two
    digits read on each, ``labels`` [m, 2] (the first ``keep`` accepted); ``draws`` in all; ``accepted``
    [10, 10], how many draws were accepted as each ordered pair (left, right)."""

    canvases: Tensor
    labels: Tensor
    draws: int
    accepted: Tensor

    def acceptance(self) -> Tensor:
        """The share of draws accepted as each request (left, right), [10, 10]."""
        return self.accepted.double() / self.draws

    def meet(self, requests: Tensor) -> tuple[Tensor, Tensor]:
        """Canvases for the requests [n, 2] that the kept draws can meet, each with a draw read as asked,
        each draw used once (requests in order, first come first served); and which requests were met,
        bool [n]."""
        pair = self.labels[:, 0] * 10 + self.labels[:, 1]
        wanted = requests[:, 0] * 10 + requests[:, 1]
        have = torch.bincount(pair, minlength=100)
        order = pair.argsort(stable=True)
        starts = torch.cumsum(have, 0) - have
        rank = torch.zeros_like(wanted)
        for p in wanted.unique():
            rows = wanted == p
            rank[rows] = torch.arange(int(rows.sum()))
        met = rank < have[wanted]
        return self.canvases[order[(starts[wanted] + rank)[met]]], met


@torch.no_grad()
def filter_by_reader(model: conv_vae.ConvVAE, reader: nn.Module, draws: int, keep: int,
                     generator: torch.Generator | None = None, confidence: float = CONFIDENCE,
                     batch_size: int = 5000) -> Filtered:
    """Draw ``draws`` canvases from an unconditioned VAE and keep (at most ``keep`` of) those whose two
    slots the reader reads with probability ≥ ``confidence``; counts every accepted draw."""
    positive_int("draws", draws)
    positive_int("keep", keep)
    canvases, labels, accepted = [], [], torch.zeros(100, dtype=torch.long)
    kept = 0
    for start in range(0, draws, batch_size):
        batch = conv_vae.generate(model, min(batch_size, draws - start), generator=generator)
        probabilities = read_canvases(reader, batch).probabilities
        sure = probabilities.max(-1).values.min(1).values >= confidence
        read = probabilities.argmax(-1)[sure]
        accepted += torch.bincount(read[:, 0] * 10 + read[:, 1], minlength=100)
        room = keep - kept
        canvases.append(batch[sure][:room])
        labels.append(read[:room])
        kept += len(labels[-1])
    return Filtered(torch.cat(canvases), torch.cat(labels), draws, accepted.reshape(10, 10))


@dataclasses.dataclass(frozen=True)
class RequestScores:
    """A generator's canvases for a set of requests, measured by the reader (see the module's docstring)."""

    read_as_asked: float
    frechet_distance: float
    nearest_training_distance: float
    n: int


def score_requests(reader: nn.Module, canvases: Tensor, requests: Tensor, real: Tensor,
                   training: Tensor) -> RequestScores:
    """Score canvases [n, 48, 48] (floats in [0, 1] or uint8) made for ``requests`` [n, 2] against ``real``
    canvases [m, 48, 48] with the same requests and the generator's ``training`` canvases."""
    if len(canvases) != len(requests):
        raise ValueError(f"canvases has {len(canvases)} rows but requests has {len(requests)}")
    reading = read_canvases(reader, canvases)
    distance, _ = nearest_neighbours(as_float(canvases), training)
    return RequestScores(read_as_asked(reading.probabilities, requests).double().mean().item(),
                         feature_frechet_distance(reading.features, read_canvases(reader, real).features),
                         distance.median().item(), len(canvases))


def reader_accuracy(reader: nn.Module, canvases: Tensor, labels: Tensor) -> float:
    """The share of canvases whose two digits the reader reads right."""
    return read_as_asked(read_canvases(reader, canvases).probabilities, labels).double().mean().item()


def classification_accuracy_score(canvases: Tensor, labels: Tensor, test_canvases: Tensor, test_labels: Tensor,
                                  config: TrainConfig, architecture: dict | None = None) -> float:
    """CAS (Ravuri & Vinyals 2019): train a fresh :class:`~thesis_lib.slot_reader.SlotReader` (seeded with
    ``config.seed``; ``architecture``: its keyword arguments) on ``canvases`` [n, 48, 48] labelled
    ``labels`` [n, 2] only, and return its accuracy (both digits right) on real test canvases."""
    torch.manual_seed(config.seed)
    reader = SlotReader(**(architecture or {}))
    fit(reader, slot_cross_entropy, canvases, config=config, train_y=labels, progress=False)
    return reader_accuracy(reader, test_canvases, test_labels)
