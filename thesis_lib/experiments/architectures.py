"""Models built from readable architecture specs, the part of an experiment's spec that says what
network is trained: ``build({"kind": "dense", "widths": [784, 64, 10], ...})``.

The spec, not the module's ``repr``, identifies the architecture, so renaming a class or editing
its ``extra_repr`` keeps every trained model's key. Kinds and their fields:

* ``dense``: a φ-deep network (Def 1.1.6) — ``widths``, ``activation``, ``output_activation``;
* ``mirrored-autoencoder``: encoder ``widths`` and its mirror (Def 2.1.1–2.1.3) — ``widths``,
  ``activation``, ``bottleneck_activation``, ``output_activation``;
* ``conv-autoencoder``: :class:`~thesis_lib.conv_layers.ConvAutoencoder` — ``bottleneck``;
* ``conditional-vae``: :class:`~thesis_lib.conditional_vae.ConditionalVAE` — ``widths``, ``latent``,
  ``activation``;
* ``slot-reader``: :class:`~thesis_lib.slot_reader.SlotReader` — ``channels``, ``features``;
* ``conv-vae``: :class:`~thesis_lib.conv_vae.ConvVAE` — ``latent``, ``channels``, ``conditional``;
* ``conv-classifier``: :class:`~thesis_lib.conv_layers.DigitClassifier` — ``channels``, ``features``;
* ``vae``: :class:`~thesis_lib.vae.VAE` — ``widths``, ``latent``, ``activation``, ``beta``, and
  optionally ``output_bias``: ``"random"`` (nn.Linear's initialisation, the default) or
  ``"train-mean-logit"`` (the logit of the training data's mean pixel, Burda et al.'s code; the
  training images are then needed to build the model).

Activations are named: those of :data:`~thesis_lib.activations.ACTIVATION_NAMES`, or ``tanh``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from ..activations import ACTIVATION_NAMES
from ..autoencoders import mirrored_autoencoder
from ..conditional_vae import ConditionalVAE
from ..conv_layers import ConvAutoencoder, DigitClassifier
from ..conv_vae import ConvVAE
from ..networks import DeepNetwork
from ..infra.validation import choice
from ..slot_reader import SlotReader
from ..vae import VAE, set_output_bias, train_mean_logit

#: activations an architecture spec may name beyond the thesis's examples (Ex 1.1.2)
EXTRA_ACTIVATIONS = {"tanh": torch.tanh}


def _activation(name: str):
    if name in EXTRA_ACTIVATIONS:
        return EXTRA_ACTIVATIONS[name]
    if name in ACTIVATION_NAMES:
        return name
    raise ValueError(f"activation={name!r} is not allowed in an architecture spec; choose one of "
                     f"{', '.join(map(repr, ACTIVATION_NAMES + tuple(EXTRA_ACTIVATIONS)))}")


def _dense(widths, activation, output_activation) -> nn.Module:
    return DeepNetwork(widths, _activation(activation), output_activation=_activation(output_activation))


def _mirrored(widths, activation, bottleneck_activation, output_activation) -> nn.Module:
    return mirrored_autoencoder(widths, _activation(activation), output_activation=_activation(output_activation),
                                bottleneck_activation=_activation(bottleneck_activation))


OUTPUT_BIASES = ("random", "train-mean-logit")


def _vae(widths, latent, activation, beta, output_bias="random") -> nn.Module:
    choice("output_bias", output_bias, OUTPUT_BIASES)
    return VAE(widths, latent=latent, activation=_activation(activation), beta=beta)


KINDS: dict[str, Callable[..., nn.Module]] = {
    "dense": _dense,
    "mirrored-autoencoder": _mirrored,
    "conv-autoencoder": ConvAutoencoder,
    "conv-classifier": lambda channels, features: DigitClassifier(tuple(channels), features),
    "slot-reader": lambda channels, features: SlotReader(tuple(channels), features),
    "conv-vae": lambda latent, channels, conditional: ConvVAE(latent, tuple(channels), conditional),
    "vae": _vae,
    "conditional-vae": lambda widths, latent, activation: ConditionalVAE(widths, latent, _activation(activation)),
}


def build(architecture: dict[str, Any], train_x: torch.Tensor | None = None) -> nn.Module:
    """The freshly initialised model an architecture spec describes (seed torch first for fixed weights);
    ``train_x``: the training images, for a spec whose initialisation reads them."""
    fields = dict(architecture)
    kind = fields.pop("kind", None)
    if kind not in KINDS:
        raise ValueError(f"architecture kind={kind!r} is not allowed; choose one of {', '.join(map(repr, KINDS))}")
    try:
        model = KINDS[kind](**fields)
    except TypeError as exc:
        raise ValueError(f"architecture {architecture} has fields that kind={kind!r} does not take ({exc}); "
                         "see thesis_lib.experiments.architectures for each kind's fields") from exc
    if fields.get("output_bias") == "train-mean-logit":
        if train_x is None:
            raise ValueError("output_bias='train-mean-logit' sets the bias from the training images: pass train_x")
        set_output_bias(model, train_mean_logit(train_x))
    return model
