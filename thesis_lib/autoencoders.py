"""Encoders, decoders and autoencoders (Def 2.1.1, 2.1.2, 2.1.5): deep networks whose widths fall,
rise, or fall and rise again, built by :func:`~thesis_lib.networks.compose`.
"""

from __future__ import annotations

from typing import Sequence

from torch import nn

from .networks import ActivationSpec, DeepNetwork, check_widths, compose

#: Algorithm 1's encoder widths 784 -> 128 -> 64 -> 12 -> 3 (the decoder mirrors them)
ALGORITHM_1_WIDTHS = (784, 128, 64, 12, 3)


def check_encoder_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Def 2.1.1: an encoder's widths d_0 >= d_1 >= ... >= d_L, or a ValueError naming the first rise."""
    widths = check_widths(widths)
    for i in range(1, len(widths)):
        if widths[i] > widths[i - 1]:
            raise ValueError(f"widths={widths!r} is not allowed for an encoder (Def 2.1.1): the widths must be "
                             f"non-increasing, but d_{i - 1}={widths[i - 1]} < d_{i}={widths[i]}")
    return widths


def check_decoder_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Def 2.1.2: a decoder's widths d_0 <= d_1 <= ... <= d_L, or a ValueError naming the first drop."""
    widths = check_widths(widths)
    for i in range(1, len(widths)):
        if widths[i] < widths[i - 1]:
            raise ValueError(f"widths={widths!r} is not allowed for a decoder (Def 2.1.2): the widths must be "
                             f"non-decreasing, but d_{i - 1}={widths[i - 1]} > d_{i}={widths[i]}")
    return widths


class Encoder(DeepNetwork):
    """Encoding neural network f_e (Def 2.1.1): widths d_0 >= d_1 >= ... >= d_L."""

    @staticmethod
    def _check(widths: Sequence[int]) -> tuple[int, ...]:
        return check_encoder_widths(widths)


class Decoder(DeepNetwork):
    """Decoding neural network f_d (Def 2.1.2): widths d_0 <= d_1 <= ... <= d_L."""

    @staticmethod
    def _check(widths: Sequence[int]) -> tuple[int, ...]:
        return check_decoder_widths(widths)


class Autoencoder(DeepNetwork):
    """Autoencoding neural network f_a = f_d ∘ f_e : R^{n_i} -> R^{n_i} (Def 2.1.5, Remark 2.1.6).

    It is the network ``compose(encoder, decoder)`` (same layers, same parameters); ``.encoder``,
    ``.decoder`` give the two parts and ``.bottleneck`` is n_b, the encoder's output dimension.
    """

    def __init__(self, encoder: DeepNetwork, decoder: DeepNetwork):
        for name, part, check in (("encoder", encoder, check_encoder_widths),
                                  ("decoder", decoder, check_decoder_widths)):
            if not isinstance(part, DeepNetwork):
                raise ValueError(f"{name}={part!r} is not allowed; it must be a DeepNetwork")
            check(part.widths)
        if decoder.output_dim != encoder.input_dim:
            raise ValueError(f"decoder with widths {decoder.widths} is not allowed for an encoder with widths "
                             f"{encoder.widths}: an autoencoder maps R^{encoder.input_dim} to itself, so the "
                             f"decoder's output dimension must be {encoder.input_dim}")
        chain = compose(encoder, decoder)
        nn.Module.__init__(self)
        self.layers = chain.layers
        self._parts = (encoder, decoder)

    @property
    def encoder(self) -> DeepNetwork:
        return self._parts[0]

    @property
    def decoder(self) -> DeepNetwork:
        return self._parts[1]

    @property
    def bottleneck(self) -> int:
        """n_b, the output dimension of the encoder."""
        return self.encoder.output_dim

    def extra_repr(self) -> str:
        return f"widths={self.widths}, depth={self.depth}, bottleneck={self.bottleneck}"


def mirrored_autoencoder(widths: Sequence[int] = ALGORITHM_1_WIDTHS, activation: ActivationSpec = "relu",
                         output_activation: ActivationSpec | None = None,
                         bottleneck_activation: ActivationSpec | None = None) -> Autoencoder:
    """Encoder with ``widths`` (n_i, ..., n_b) and the decoder with the same widths reversed.

    The default is Algorithm 1's model: 784 -> 128 -> 64 -> 12 -> 3 -> 12 -> 64 -> 128 -> 784.
    ``activation`` is φ on every layer (Def 1.1.6); ``bottleneck_activation`` replaces it on the
    encoder's last layer and ``output_activation`` on the decoder's last layer.
    """
    widths = check_encoder_widths(widths)
    encoder = Encoder(widths, activation, output_activation=bottleneck_activation)
    decoder = Decoder(widths[::-1], activation, output_activation=output_activation)
    return Autoencoder(encoder, decoder)
