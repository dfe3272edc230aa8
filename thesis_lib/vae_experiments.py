"""The trained VAEs of §3.2: each an :class:`~thesis_lib.train.Experiment` (``make reproduce`` trains them).

* ``vae-mnist-2d``: 784-512-256-2 (ReLU), a 2-D latent space to draw (Kingma & Welling 2013, Fig. 4);
* ``vae-mnist-nll``: 784-200-200-50 (tanh), the likelihood model of Burda et al. (2015, Table 1),
  Adam with eps 1e-4, batch 100, constant lr 1e-3 (the shared loop has no learning-rate schedule);
* ``vae-beta-<β>`` for β ∈ {0.5, 1, 2, 4}: 784-400-20 (ReLU) trained on reconstruction + β·KL;
* ``vae-composed-mnist``: 2304-512-256-32 (ReLU) on chapter 2.3's composed MNIST (two digits on a
  48×48 canvas, 20,000 training canvases).

All train on dynamically binarised images (:func:`~thesis_lib.vae.negative_elbo`); the test
objective is scored on a seeded binarisation. The data are chapter 2.3's (``ae_experiments.mnist``
and ``ae_experiments.composed_mnist``). ``quick`` is a few epochs for a CPU, ``full`` the budget for a GPU.
"""

from __future__ import annotations

import functools

import torch

from .ae_experiments import composed_mnist, mnist
from .config import TrainConfig, pick
from .train import Experiment
from .vae import VAE, beta_negative_elbo, negative_elbo

BETAS = (0.5, 1.0, 2.0, 4.0)


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


TWO_D = Experiment("vae-mnist-2d", vae_2d, negative_elbo, _config(quick=1, full=300), mnist,
                   "784-512-256-2 ReLU VAE, Bernoulli decoder, dynamically binarised MNIST")
LIKELIHOOD = Experiment("vae-mnist-nll", vae_nll, negative_elbo, _config(quick=2, full=1000, adam_eps=1e-4), mnist,
                        "784-200-200-50 tanh VAE of Burda et al. (2015), dynamically binarised MNIST")
BETA = {beta: Experiment(f"vae-beta-{beta:g}", functools.partial(vae_beta, beta), beta_negative_elbo,
                         _config(quick=1, full=200), mnist,
                         f"784-400-20 ReLU VAE trained on reconstruction + {beta:g}·KL")
        for beta in BETAS}
COMPOSED = Experiment("vae-composed-mnist", vae_composed, negative_elbo, _config(quick=2, full=300), composed_mnist,
                      "2304-512-256-32 ReLU VAE on composed MNIST (two digits on a 48x48 canvas)")

EXPERIMENTS = [TWO_D, LIKELIHOOD, *BETA.values(), COMPOSED]
