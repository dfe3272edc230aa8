"""The trained models of chapter 3.3, composed MNIST on demand (:mod:`thesis_lib.on_demand`).

* ``canvas-reader``: the :class:`~thesis_lib.slot_reader.SlotReader` trained on 120,000 real canvases
  of the 20,000 training digits that no generator sees; its evaluation is its accuracy on the 10,000
  held-out test canvases and the same reader trained as a CAS reader on 20,000 real canvases;
* ``cvae-conv-canvases``: the conditional convolutional VAE (:class:`~thesis_lib.conv_vae.ConvVAE`)
  on the generators' 20,000 canvases, given each canvas's two digits, with a code of 8 entries (with
  16, as the unconditioned one, its canvases were read as asked 26.5 % of the time, CAS 14.5 %: the
  code carried the digits and the decoder followed it more than the request);
* ``vae-conv-canvases``: the same VAE without a condition, filtered by the reader;
* ``cvae-digits``: a conditional VAE of single digits (784-200-4, ReLU) on the generators' 40,000
  training digits, the compositional baseline. Its code is small so that the digit is carried by the
  condition: with 16 code entries the judge of chapter 3.2 read 78.8 % of its digits as the label asked
  for, with 8 91.9 %, with 4 96.9 % (1,000 digits, 100 of each, 40 epochs each). The price is variety:
  with 16 entries the canvases were read as asked 50.3 % of the time and their CAS was 85.3 %; with 4,
  82.4 % and 73.8 % (this evaluation, one run each).

Each generator's evaluation (``make reproduce``, written into its manifest) measures it on the same
requests with the committed reader: 1,000 canvases, every ordered pair of digits 10 times, and a CAS
from 20,000 canvases (every ordered pair 200 times, or the filter's first 20,000 accepted draws).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from .. import on_demand
from ..conv_vae import generate
from ..infra.config import TrainConfig, pick
from ..infra.data import compose_mnist, load_mnist
from ..slot_reader import read_as_asked, read_canvases
from . import datasets
from .experiment import Experiment

#: the reader: four convolutions with 16, 32, 64 and 64 channels, 128 features
READER_ARCHITECTURE = {"kind": "slot-reader", "channels": [16, 32, 64, 64], "features": 128}

#: how every CAS reader trains (on 20,000 canvases)
CAS_CONFIG = TrainConfig(epochs=8, batch_size=64, lr=1e-3)

#: canvases per ordered pair of digits: for the request measures, and for a CAS training set
PER_PAIR, CAS_PER_PAIR = 10, 200

#: the rows of the training and the test data on which the manifests' objectives are measured
METRIC_ROWS = 1_000

#: the filter's draws, and how many of the accepted draws (at most) train the CAS reader
FILTER_DRAWS, FILTER_KEEP = 60_000, 20_000


def _reader_config(budget: str) -> TrainConfig:
    return TrainConfig(epochs=pick(quick=1, full=5, budget=budget), batch_size=64, lr=1e-3)


def _vae_config(budget: str) -> TrainConfig:
    return TrainConfig(epochs=pick(quick=1, full=20, budget=budget), batch_size=64, lr=1e-3)


def _digits_config(budget: str) -> TrainConfig:
    return TrainConfig(epochs=pick(quick=1, full=40, budget=budget), batch_size=100, lr=1e-3)


def cas_reader_architecture() -> dict:
    """The keyword arguments of a CAS reader: the reader's own architecture."""
    return {k: v for k, v in READER_ARCHITECTURE.items() if k != "kind"}


def reader_evaluation(reader: nn.Module) -> dict[str, float]:
    """The reader's accuracy on the held-out test canvases (both digits, and each slot), and the CAS of
    real data: a fresh reader trained as every CAS reader is, on the generators' 20,000 real canvases."""
    test_x, test_y = datasets.composed_test()
    train_x, train_y, _, _ = datasets.labelled_composed_mnist()
    probabilities = read_canvases(reader, test_x).probabilities
    per_slot = (probabilities.argmax(-1) == test_y).double().mean(0)
    return {"test_read_right": read_as_asked(probabilities, test_y).double().mean().item(),
            "test_left_right": per_slot[0].item(), "test_right_right": per_slot[1].item(),
            "cas_real": on_demand.classification_accuracy_score(train_x, train_y, test_x, test_y, CAS_CONFIG,
                                                                cas_reader_architecture())}


def real_canvases(requests: torch.Tensor, seed: int = 3) -> torch.Tensor:
    """Real test canvases for ``requests`` (a test digit of each asked label; seed 3: the reference)."""
    test = load_mnist("test")
    return compose_mnist(test.images, test.labels, len(requests), seed=seed, requests=requests).images


def real_measures(reader: nn.Module) -> dict[str, float]:
    """The request measures of real test canvases (seed 4, other draws than the reference's): the reader's
    ceiling for every generator, and the Fréchet distance between two real sets."""
    return request_measures(reader, lambda requests, generator: real_canvases(requests, seed=4))


def request_measures(reader: nn.Module, make, seconds_per_canvas: float | None = None) -> dict[str, float]:
    """The request measures of a generator ``make(requests, generator) -> canvases``, timed."""
    requests = on_demand.ordered_pairs(PER_PAIR)
    start = time.perf_counter()
    canvases = make(requests, torch.Generator().manual_seed(0))
    seconds = time.perf_counter() - start
    train_x = datasets.labelled_composed_mnist()[0]
    scores = on_demand.score_requests(reader, canvases, requests, real_canvases(requests), train_x)
    return {"read_as_asked": scores.read_as_asked, "frechet_distance": scores.frechet_distance,
            "nearest_training_distance": scores.nearest_training_distance, "requests": scores.n,
            "seconds_per_canvas": seconds_per_canvas or seconds / len(requests)}


def cas(canvases: torch.Tensor, labels: torch.Tensor) -> float:
    """The CAS of generated canvases and their labels, on the held-out test canvases."""
    return on_demand.classification_accuracy_score(canvases, labels, *datasets.composed_test(), CAS_CONFIG,
                                                   cas_reader_architecture())


def conditional_evaluation(model: nn.Module) -> dict[str, float]:
    """``cvae-conv-canvases``: canvases decoded for each request."""
    reader = READER.trained("full")[0]

    def make(requests, generator):
        return generate(model, len(requests), requests, generator)

    requests = on_demand.ordered_pairs(CAS_PER_PAIR)
    return request_measures(reader, make) | {
        "cas": cas(make(requests, torch.Generator().manual_seed(1)), requests)}


def compositional_evaluation(model: nn.Module) -> dict[str, float]:
    """``cvae-digits``: each request's digits drawn one by one and placed into their slots."""
    reader = READER.trained("full")[0]
    requests = on_demand.ordered_pairs(CAS_PER_PAIR)
    return request_measures(reader, lambda r, g: on_demand.compositional(model, r, g)) | {
        "cas": cas(on_demand.compositional(model, requests, torch.Generator().manual_seed(1)), requests)}


def filtered_evaluation(model: nn.Module) -> dict[str, float]:
    """``vae-conv-canvases``: of :data:`FILTER_DRAWS` draws the reader keeps those whose two slots it reads
    with confidence ≥ 0.9; a request is met by a kept draw read as asked (each used once), so the met
    requests are read as asked by construction and "read as asked" is the share of requests met. The
    distances are those of the met requests' canvases; the CAS trains on all kept draws, labelled as read."""
    reader = READER.trained("full")[0]
    start = time.perf_counter()
    filtered = on_demand.filter_by_reader(model, reader, FILTER_DRAWS, FILTER_DRAWS, torch.Generator().manual_seed(0))
    seconds_per_draw = (time.perf_counter() - start) / FILTER_DRAWS
    acceptance = filtered.acceptance()
    median = acceptance.flatten().median().item()
    requests = on_demand.ordered_pairs(PER_PAIR)
    canvases, met = filtered.meet(requests)
    scores = on_demand.score_requests(reader, canvases, requests[met], real_canvases(requests)[met],
                                      datasets.labelled_composed_mnist()[0])
    per_canvas = 1 / median if median else float("inf")
    return {"read_as_asked": met.double().mean().item(), "frechet_distance": scores.frechet_distance,
            "nearest_training_distance": scores.nearest_training_distance, "requests": len(requests),
            "requests_met": int(met.sum()), "seconds_per_canvas": seconds_per_draw * per_canvas,
            "draws": FILTER_DRAWS, "accepted_share": acceptance.sum().item(), "request_acceptance_median": median,
            "request_acceptance_min": acceptance.min().item(), "draws_per_accepted_canvas": per_canvas,
            "cas": cas(filtered.canvases[:FILTER_KEEP], filtered.labels[:FILTER_KEEP]),
            "cas_canvases": min(len(filtered.canvases), FILTER_KEEP)}


READER = Experiment("canvas-reader", READER_ARCHITECTURE, "slot-cross-entropy", "reader-canvases", _reader_config,
                    "slot reader of composed MNIST: 3x3 convolutions with 16, 32, 64, 64 channels and max pooling, "
                    "128 features, 10 logits per slot; Adam, cross-entropy of both slots",
                    evaluation=reader_evaluation, metric_rows=METRIC_ROWS)
CONDITIONAL = Experiment("cvae-conv-canvases", {"kind": "conv-vae", "latent": 8, "channels": [16, 32, 32],
                                                "conditional": True},
                         "canvas-negative-elbo", "labelled-composed-mnist", _vae_config,
                         "conditional convolutional VAE of composed MNIST, the request as label maps over its slots",
                         evaluation=conditional_evaluation, metric_rows=METRIC_ROWS)
UNCONDITIONAL = Experiment("vae-conv-canvases", {"kind": "conv-vae", "latent": 16, "channels": [16, 32, 32],
                                                 "conditional": False},
                           "canvas-negative-elbo", "composed-mnist", _vae_config,
                           "convolutional VAE of composed MNIST (no condition), filtered by the reader",
                           evaluation=filtered_evaluation, metric_rows=METRIC_ROWS)
DIGITS = Experiment("cvae-digits", {"kind": "conditional-vae", "widths": [784, 200], "latent": 4,
                                    "activation": "relu"},
                    "conditional-negative-elbo", "generator-digits", _digits_config,
                    "784-200-4 ReLU conditional VAE of single MNIST digits, the compositional baseline",
                    evaluation=compositional_evaluation)

EXPERIMENTS = [READER, CONDITIONAL, UNCONDITIONAL, DIGITS]
