"""The trained VAEs of §3.2: each an :class:`~thesis_lib.train.Experiment` (``make reproduce`` trains them).

* ``vae-mnist-2d``: 784-512-256-2 (ReLU), a 2-D latent space to draw (Kingma & Welling 2013, Fig. 4);
* ``vae-mnist-nll``: 784-200-200-50 (tanh), the likelihood model of Burda et al. (2015, Table 1),
  Adam with eps 1e-4, batch 100, constant lr 1e-3 (the shared loop has no learning-rate schedule);
* ``vae-beta-<β>`` for β ∈ {0.5, 1, 2, 4}: 784-400-20 (ReLU) trained on reconstruction + β·KL;
* ``vae-composed-mnist``: 2304-512-256-32 (ReLU) on composed MNIST (two digits on a 48×48 canvas).

All train on dynamically binarised images (:func:`~thesis_lib.vae.negative_elbo`); the test
objective is scored on a seeded binarisation. ``quick`` is a few epochs for a CPU, ``full`` the
budget for a GPU.
"""

from __future__ import annotations

import functools

import torch

from .config import TrainConfig, pick
from .data import compose_mnist, load_mnist
from .train import Data, Experiment
from .vae import VAE, beta_negative_elbo, negative_elbo

BETAS = (0.5, 1.0, 2.0, 4.0)
COMPOSED_TRAIN, COMPOSED_TEST = 60_000, 10_000
COMPOSED_SEEDS = {"train": 0, "test": 1}


def mnist() -> Data:
    """The 60,000 training and 10,000 test images of MNIST (uint8); no labels are used."""
    train, test = load_mnist("train"), load_mnist("test")
    return train.images, None, test.images, None


@functools.lru_cache(maxsize=1)
def composed_mnist() -> Data:
    """Two MNIST digits per 48×48 canvas: 60,000 composed from the training digits, 10,000 from the test digits."""
    train, test = load_mnist("train"), load_mnist("test")
    composed_train = compose_mnist(train.images, train.labels, COMPOSED_TRAIN, seed=COMPOSED_SEEDS["train"])
    composed_test = compose_mnist(test.images, test.labels, COMPOSED_TEST, seed=COMPOSED_SEEDS["test"])
    return composed_train.images, None, composed_test.images, None


def vae_2d() -> VAE:
    return VAE((784, 512, 256), latent=2, activation="relu")


def vae_nll() -> VAE:
    return VAE((784, 200, 200), latent=50, activation=torch.tanh)


def vae_beta(beta: float) -> VAE:
    return VAE((784, 400), latent=20, activation="relu", beta=beta)


def vae_composed() -> VAE:
    return VAE((48 * 48, 512, 256), latent=32, activation="relu")


def _config(quick: int, full: int, **kw):
    def config(budget: str) -> TrainConfig:
        return TrainConfig(epochs=pick(quick=quick, full=full, budget=budget), batch_size=100, lr=1e-3, **kw)

    return config


TWO_D = Experiment("vae-mnist-2d", vae_2d, negative_elbo, _config(quick=2, full=300), mnist,
                   "784-512-256-2 ReLU VAE, Bernoulli decoder, dynamically binarised MNIST")
LIKELIHOOD = Experiment("vae-mnist-nll", vae_nll, negative_elbo, _config(quick=3, full=1000, adam_eps=1e-4), mnist,
                        "784-200-200-50 tanh VAE of Burda et al. (2015), dynamically binarised MNIST")
BETA = {beta: Experiment(f"vae-beta-{beta:g}", functools.partial(vae_beta, beta), beta_negative_elbo,
                         _config(quick=1, full=200), mnist,
                         f"784-400-20 ReLU VAE trained on reconstruction + {beta:g}·KL")
        for beta in BETAS}
COMPOSED = Experiment("vae-composed-mnist", vae_composed, negative_elbo, _config(quick=1, full=300), composed_mnist,
                      "2304-512-256-32 ReLU VAE on composed MNIST (two digits on a 48x48 canvas)")

EXPERIMENTS = [TWO_D, LIKELIHOOD, *BETA.values(), COMPOSED]
