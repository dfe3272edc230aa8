"""Generated digits measured by the book's judge (§3.2), not only by eye.

The judge is a trained MNIST classifier (:class:`~thesis_lib.conv_layers.DigitClassifier`,
experiment ``judge-mnist``). For a set of generated images it gives

* the share it labels with confidence at least 0.9 (recognisable digits),
* the entropy of the histogram of its labels (diversity over the digits: log 10 ≈ 2.303 nats
  when every digit is generated equally often, 0 when one digit is), and
* the Fréchet distance between Gaussians fitted to its penultimate-layer features of the samples
  and of the test images: the method of FID (Heusel et al. 2017) with an MNIST network in place
  of Inception, so its values are not comparable with published FIDs. Training against test
  images gives its floor.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from .infra.seeding import seeded_evaluation
from .infra.device import as_float
from .infra.validation import positive_int

Tensor = torch.Tensor

#: the confidence from which a generated digit counts as recognised
CONFIDENCE = 0.9


@dataclasses.dataclass(frozen=True)
class JudgeReading:
    """The judge's class probabilities [n, 10] and penultimate features [n, f] of n images (float64, CPU)."""

    probabilities: Tensor
    features: Tensor


@torch.no_grad()
def read(judge: nn.Module, images: Tensor, batch_size: int = 2000) -> JudgeReading:
    """Run the judge (a module with ``features`` and ``head``; :class:`~thesis_lib.slot_reader.SlotReader`
    too) on the images it reads ([n, 784] or [n, 28, 28] for the judge), floats in [0, 1] or uint8,
    ``batch_size`` at a time; the softmax is over the last axis of the head's output."""
    positive_int("batch_size", batch_size)
    probabilities, features = [], []
    with seeded_evaluation(judge) as device:
        for i in range(0, len(images), batch_size):
            f = judge.features(as_float(images[i:i + batch_size]).to(device))
            probabilities.append(torch.softmax(judge.head(f), dim=-1).cpu().double())
            features.append(f.cpu().double())
    return JudgeReading(torch.cat(probabilities), torch.cat(features))


def confident_share(probabilities: Tensor, threshold: float = CONFIDENCE) -> float:
    """The share of images whose most probable label has probability ≥ ``threshold``."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold={threshold!r} is not allowed; it must lie in (0, 1]")
    return (probabilities.max(dim=-1).values >= threshold).double().mean().item()


def label_entropy(probabilities: Tensor) -> float:
    """The entropy in nats of the histogram of the judge's labels (argmax) over the images."""
    counts = torch.bincount(probabilities.argmax(dim=-1), minlength=probabilities.shape[-1]).double()
    p = counts[counts > 0] / counts.sum()
    return -(p * p.log()).sum().item()


def gaussian_fit(features: Tensor) -> tuple[Tensor, Tensor]:
    """The mean [f] and the unbiased covariance [f, f] of features [n, f], in float64."""
    if len(features) < 2:
        raise ValueError(f"features has {len(features)} row(s); a covariance needs at least 2")
    x = features.double()
    return x.mean(0), torch.cov(x.T)


def _psd_sqrt(matrix: Tensor) -> Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(mean_a: Tensor, cov_a: Tensor, mean_b: Tensor, cov_b: Tensor) -> float:
    """d² = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}), the squared 2-Wasserstein distance between
    N(μ_a, Σ_a) and N(μ_b, Σ_b) (Dowson & Landau 1982); tr (Σ_a Σ_b)^{1/2} is computed as the trace
    of the symmetric (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}, which has the same eigenvalues."""
    root_a = _psd_sqrt(cov_a.double())
    cross = torch.linalg.eigvalsh(root_a @ cov_b.double() @ root_a).clamp(min=0).sqrt().sum()
    d2 = (mean_a - mean_b).double().square().sum() + cov_a.double().trace() + cov_b.double().trace() - 2 * cross
    return max(d2.item(), 0.0)


def feature_frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """The Fréchet distance between the Gaussians fitted to two sets of features."""
    return frechet_distance(*gaussian_fit(features_a), *gaussian_fit(features_b))


@dataclasses.dataclass(frozen=True)
class GenerationScores:
    """The judge's three numbers for n generated images (see the module's docstring)."""

    confident_share: float
    label_entropy: float
    frechet_distance: float
    n: int

    @property
    def label_entropy_share(self) -> float:
        """The label entropy over its maximum log 10."""
        return self.label_entropy / math.log(10)


def score(judge: nn.Module, samples: Tensor, reference: JudgeReading) -> GenerationScores:
    """Score generated images [n, 784] against the judge's reading of reference images (the test set)."""
    reading = read(judge, samples)
    return GenerationScores(confident_share(reading.probabilities), label_entropy(reading.probabilities),
                            feature_frechet_distance(reading.features, reference.features), len(samples))
