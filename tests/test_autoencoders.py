"""Encoders, decoders and autoencoders (Def 2.1.1, 2.1.2, 2.1.5; Algorithm 1's model) against nn.Linear."""

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from thesis_lib.autoencoders import Autoencoder, Decoder, Encoder, mirrored_autoencoder
from thesis_lib.networks import DeepNetwork

dims = st.integers(min_value=1, max_value=7)
fast = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize("cls,bad,match", [
    (Encoder, (5, 4, 6, 2), r"widths=\(5, 4, 6, 2\) is not allowed for an encoder .* d_1=4 < d_2=6"),
    (Decoder, (2, 4, 3, 5), r"widths=\(2, 4, 3, 5\) is not allowed for a decoder .* d_1=4 > d_2=3"),
    (Decoder, (4, 2, 5), r"widths=\(4, 2, 5\) is not allowed for a decoder .* d_0=4 > d_1=2"),
])
def test_encoder_and_decoder_refuse_non_monotone_widths(cls, bad, match):
    with pytest.raises(ValueError, match=match):
        cls(bad)


def test_encoder_and_decoder_accept_monotone_widths_including_equal_ones():
    assert Encoder((5, 4, 3, 2)).widths == (5, 4, 3, 2)
    assert Decoder((2, 3, 4, 5)).widths == (2, 3, 4, 5)
    assert Encoder((5, 5, 5)).depth == Decoder((5, 5, 5)).depth == 2


@fast
@given(st.lists(dims, min_size=2, max_size=5), st.integers(1, 4))
def test_autoencoder_is_decoder_after_encoder(raw, batch):
    widths = tuple(sorted(raw, reverse=True))
    ae = mirrored_autoencoder(widths, "relu", output_activation="sigmoid").double()
    x = torch.rand(batch, widths[0], dtype=torch.float64)
    assert ae(x).shape == x.shape
    torch.testing.assert_close(ae(x), ae.decoder(ae.encoder(x)))
    assert ae.bottleneck == widths[-1] and ae.depth == 2 * (len(widths) - 1)
    assert ae.widths == widths + widths[-2::-1]
    parts = ae.encoder.theta + ae.decoder.theta
    assert len(ae.theta) == len(parts) and all(a is c and b is d for (a, b), (c, d) in zip(ae.theta, parts))


def test_algorithm_1_model():
    ae = mirrored_autoencoder(output_activation="sigmoid")
    assert ae.widths == (784, 128, 64, 12, 3, 12, 64, 128, 784)
    assert ae.depth == 8 and ae.bottleneck == 3
    assert ae.encoder.widths == (784, 128, 64, 12, 3) and ae.decoder.widths == (3, 12, 64, 128, 784)
    assert ae.activations == ("relu",) * 7 + ("sigmoid",)
    ref = nn.Sequential(*[nn.Linear(k, m) for k, m in zip(ae.widths[:-1], ae.widths[1:])])
    assert ae.num_parameters == sum(p.numel() for p in ref.parameters()) == 219_891
    assert len(ae.state_dict()) == 16
    bottle = mirrored_autoencoder(bottleneck_activation="identity")
    assert bottle.activations == ("relu",) * 3 + ("identity",) + ("relu",) * 4


def test_autoencoder_parts_share_parameters_and_state_dict_round_trips():
    ae = mirrored_autoencoder((6, 4, 2), output_activation="sigmoid")
    ae.double()
    assert ae.encoder.theta[0][0].dtype == torch.float64 and ae.encoder.theta[0][0] is ae.theta[0][0]
    twin = mirrored_autoencoder((6, 4, 2), output_activation="sigmoid").double()
    twin.load_state_dict(ae.state_dict())
    x = torch.rand(3, 6, dtype=torch.float64)
    assert torch.equal(twin(x), ae(x))
    clone = copy.deepcopy(ae)
    assert clone.encoder.layers[0] is clone.layers[0] and torch.equal(clone(x), ae(x))


def test_autoencoder_refuses_wrong_parts():
    with pytest.raises(ValueError, match=r"decoder's output dimension must be 5"):
        Autoencoder(Encoder((5, 4, 2)), Decoder((2, 3, 6)))
    with pytest.raises(ValueError, match=r"network 1 has output dimension 2 but network 2 has input dimension 3"):
        Autoencoder(Encoder((5, 4, 2)), Decoder((3, 4, 5)))
    with pytest.raises(ValueError, match="is not allowed for an encoder"):
        Autoencoder(DeepNetwork((5, 6, 2)), Decoder((2, 3, 5)))
    with pytest.raises(ValueError, match="is not allowed for a decoder"):
        Autoencoder(Encoder((5, 4, 2)), DeepNetwork((2, 6, 5)))
    with pytest.raises(ValueError, match=r"^encoder=Linear\(.*\) is not allowed; it must be a DeepNetwork$"):
        Autoencoder(nn.Linear(5, 2), Decoder((2, 5)))
    with pytest.raises(ValueError, match=r"^decoder=Linear\(.*\) is not allowed; it must be a DeepNetwork$"):
        Autoencoder(Encoder((5, 2)), nn.Linear(2, 5))
    with pytest.raises(ValueError, match="is not allowed for an encoder"):
        mirrored_autoencoder((3, 12, 784))


def test_a_mirrored_autoencoder_uses_its_activation_in_both_parts():
    model = mirrored_autoencoder((6, 4, 2), activation="sigmoid", output_activation="identity",
                                 bottleneck_activation="identity")
    assert model.encoder.activations == ("sigmoid", "identity")
    assert model.decoder.activations == ("sigmoid", "identity")
