"""The trained VAEs of §3.2, each an :class:`~thesis_lib.experiments.experiment.Experiment`
(``make reproduce`` trains them).

* ``vae-mnist-2d``: 784-512-256-2 (ReLU), a 2-D latent space to draw (Kingma & Welling 2013, Fig. 4);
* ``vae-mnist-nll``: 784-200-200-50 (tanh), the likelihood model of Burda et al. (2015, Table 1),
  Adam with eps 1e-4, batch 100, their learning-rate schedule (1e-3 · 10^(-i/7) for 3^i epochs)
  through its first six stages (i = 0..5, 364 of its 3,280 epochs) at the full budget;
  ``make reproduce`` also scores it with k = 5000 on all 10,000 test images;
* ``vae-mnist-nll-recipe``: the same VAE with the rest of the recipe of Burda et al.'s code and
  its usual addition: the decoder's output bias set to the logit of the mean training pixel and a
  KL warm-up over the first epochs (Sønderby et al. 2016), through stage 6 (1,093 epochs);
* ``iwae-mnist-nll``: the same architecture and bias trained on the IWAE bound with k = 5
  (Burda et al. 2015) through stage 6 (1,093 epochs);
* ``iwae-dreg-mnist-nll``: the same IWAE trained with the doubly reparameterised gradient (DReG,
  Tucker et al. 2019), through stage 5 (364 epochs);
* ``vae-beta-<β>`` for β ∈ {0.5, 1, 2, 4}: 784-400-20 (ReLU) trained on reconstruction + β·KL;
* ``vae-gauss-mse-sum`` and ``vae-gauss-mse-mean``: 784-400-20 (ReLU) with a Gaussian decoder on
  the grey images, trained on Ex 2.2.2's MSE summed over the pixels (the Gaussian likelihood up to
  constants) or averaged over them, + KL: Ex 2.2.2's scale erratum as an experiment.

All but the Gaussian pair train on dynamically binarised images (:func:`~thesis_lib.vae.negative_elbo`); the test
objective is scored on a seeded binarisation. ``quick`` is a few epochs for a CPU; ``full`` follows
the papers' schedules as far as the committed runs go (their manifests give each one's wall time).
"""

from __future__ import annotations

from ..infra.config import TrainConfig, pick
from ..infra.data import load_mnist
from ..likelihood import evaluate_likelihood
from ..vae import VAE, fixed_binarisation
from .experiment import Experiment

BETAS = (0.5, 1.0, 2.0, 4.0)


def vae_architecture(widths: tuple[int, ...], latent: int, activation: str = "relu", beta: float = 1.0) -> dict:
    """A :class:`~thesis_lib.vae.VAE` with encoder widths ``widths`` + 2·latent and the mirrored decoder."""
    return {"kind": "vae", "widths": list(widths), "latent": latent, "activation": activation, "beta": beta}


def _config(quick: int, full: int, **kw):
    def config(budget: str) -> TrainConfig:
        return TrainConfig(epochs=pick(quick=quick, full=full, budget=budget), batch_size=100, lr=1e-3, **kw)

    return config


def likelihood_protocol(model: VAE, k: int = 5000, images: int = 10_000) -> dict[str, float]:
    """Burda et al.'s protocol: -L_k with k samples on all 10,000 test images (or the first ``images``),
    binarised once (seed 0)."""
    report = evaluate_likelihood(model, fixed_binarisation(load_mnist("test").images[:images], seed=0), k=k)
    return {f"test_nll_k{k}": report.nll, f"test_negative_elbo_k{k}": report.negative_elbo,
            "test_reconstruction": report.reconstruction, "test_kl": report.kl}


def likelihood_curve(model: VAE) -> dict[str, float]:
    """The likelihood along training: -L_k with k = 1000 on the first 2,000 test images (binarised once)."""
    return likelihood_protocol(model, k=1000, images=2000)


#: the ends of the stages of Burda et al.'s schedule (1, 4, 13, 40, 121, 364, 1093, 3280 epochs)
STAGE_ENDS = tuple(sum(3 ** j for j in range(i + 1)) for i in range(8))

#: the KL warm-up of ``vae-mnist-nll-recipe``, in epochs
KL_WARMUP_EPOCHS = 10


NLL_WIDTHS, NLL_LATENT = (784, 200, 200), 50
TWO_D = Experiment("vae-mnist-2d", vae_architecture((784, 512, 256), 2), "negative-elbo", "mnist",
                   _config(quick=1, full=100), "784-512-256-2 ReLU VAE, Bernoulli decoder, dynamically binarised MNIST")
LIKELIHOOD = Experiment("vae-mnist-nll", vae_architecture(NLL_WIDTHS, NLL_LATENT, "tanh"), "negative-elbo", "mnist",
                        _config(quick=2, full=364, adam_eps=1e-4, lr_schedule="burda"),
                        "784-200-200-50 tanh VAE of Burda et al. (2015), dynamically binarised MNIST",
                        evaluation=likelihood_protocol)
RECIPE = Experiment("vae-mnist-nll-recipe", vae_architecture(NLL_WIDTHS, NLL_LATENT, "tanh") |
                    {"output_bias": "train-mean-logit"}, "negative-elbo", "mnist",
                    _config(quick=2, full=STAGE_ENDS[6], adam_eps=1e-4, lr_schedule="burda",
                            kl_warmup_epochs=KL_WARMUP_EPOCHS),
                    "784-200-200-50 tanh VAE, output bias from the data, KL warm-up, dynamically binarised MNIST",
                    evaluation=likelihood_protocol, curve=likelihood_curve, curve_epochs=STAGE_ENDS)
IWAE = Experiment("iwae-mnist-nll", vae_architecture(NLL_WIDTHS, NLL_LATENT, "tanh") |
                  {"output_bias": "train-mean-logit"}, "negative-iwae-bound-k5", "mnist",
                  _config(quick=1, full=STAGE_ENDS[6], adam_eps=1e-4, lr_schedule="burda"),
                  "784-200-200-50 tanh IWAE (k = 5), output bias from the data, dynamically binarised MNIST",
                  evaluation=likelihood_protocol, curve=likelihood_curve, curve_epochs=STAGE_ENDS)
IWAE_DREG = Experiment("iwae-dreg-mnist-nll", vae_architecture(NLL_WIDTHS, NLL_LATENT, "tanh") |
                       {"output_bias": "train-mean-logit"}, "negative-iwae-bound-k5-dreg", "mnist",
                       _config(quick=1, full=STAGE_ENDS[5], adam_eps=1e-4, lr_schedule="burda"),
                       "784-200-200-50 tanh IWAE (k = 5) trained with DReG gradients, output bias from the data, "
                       "dynamically binarised MNIST",
                       evaluation=likelihood_protocol, curve=likelihood_curve, curve_epochs=STAGE_ENDS)
BETA = {beta: Experiment(f"vae-beta-{beta:g}", vae_architecture((784, 400), 20, beta=beta), "beta-negative-elbo",
                         "mnist", _config(quick=1, full=30), f"784-400-20 ReLU VAE trained on reconstruction + {beta:g}·KL")
        for beta in BETAS}
GAUSSIAN = {pixels: Experiment(f"vae-gauss-mse-{pixels}", vae_architecture((784, 400), 20),
                               f"mse-{pixels}-negative-elbo", "mnist", _config(quick=1, full=30),
                               f"784-400-20 ReLU VAE, Gaussian decoder, MSE {pixels} over the pixels + KL")
            for pixels in ("sum", "mean")}
EXPERIMENTS = [TWO_D, LIKELIHOOD, RECIPE, IWAE, IWAE_DREG, *BETA.values(), *GAUSSIAN.values()]
