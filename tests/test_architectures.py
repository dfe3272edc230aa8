"""thesis_lib.experiments.architectures: each kind of spec builds the model it names, with the widths,
activations and initialisation stated (the layers' outputs against F.linear and torch's activations, the
output bias against torch.logit of the mean pixel), and bad specs are refused naming what is allowed."""

import pytest
import torch
import torch.nn.functional as F

from thesis_lib.autoencoders import Autoencoder
from thesis_lib.conditional_vae import ConditionalVAE
from thesis_lib.conv_layers import ConvAutoencoder, DigitClassifier
from thesis_lib.conv_vae import ConvVAE
from thesis_lib.experiments import architectures
from thesis_lib.networks import DeepNetwork
from thesis_lib.slot_reader import SlotReader
from thesis_lib.vae import VAE

CLASSIFIER = {"kind": "dense", "widths": [784, 16, 10], "activation": "relu", "output_activation": "identity"}
VAE_SPEC = {"kind": "vae", "widths": [784, 8], "latent": 2, "activation": "relu", "beta": 1.0}


def _by_hand(model, x, phis):
    """The network's output computed layer by layer with F.linear and the given activations."""
    for layer, phi in zip(model.layers, phis):
        x = phi(F.linear(x, layer.W, layer.b))
    return x


def test_a_dense_spec_builds_the_network_it_names():
    torch.manual_seed(0)
    model = architectures.build(CLASSIFIER)
    assert isinstance(model, DeepNetwork) and model.widths == (784, 16, 10)
    x = torch.rand(5, 784)
    torch.testing.assert_close(model(x), _by_hand(model, x, (torch.relu, lambda t: t)))


def test_tanh_is_the_one_activation_beyond_the_thesis_examples():
    assert architectures.EXTRA_ACTIVATIONS == {"tanh": torch.tanh}
    torch.manual_seed(0)
    model = architectures.build({"kind": "dense", "widths": [6, 4, 3], "activation": "tanh",
                                 "output_activation": "sigmoid"})
    x = torch.randn(7, 6)
    torch.testing.assert_close(model(x), _by_hand(model, x, (torch.tanh, torch.sigmoid)))


def test_a_mirrored_autoencoder_spec_builds_the_encoder_and_its_mirror():
    torch.manual_seed(0)
    model = architectures.build({"kind": "mirrored-autoencoder", "widths": [20, 8, 3], "activation": "relu",
                                 "bottleneck_activation": "identity", "output_activation": "sigmoid"})
    assert isinstance(model, Autoencoder) and model.widths == (20, 8, 3, 8, 20) and model.bottleneck == 3
    x = torch.rand(4, 20)
    code = _by_hand(model.encoder, x, (torch.relu, lambda t: t))
    torch.testing.assert_close(model.encoder(x), code)
    torch.testing.assert_close(model(x), _by_hand(model.decoder, code, (torch.relu, torch.sigmoid)))


def test_the_convolutional_and_the_conditional_kinds_build_their_classes():
    torch.manual_seed(0)
    conv_ae = architectures.build({"kind": "conv-autoencoder", "bottleneck": 5})
    judge = architectures.build({"kind": "conv-classifier", "channels": [4, 6], "features": 12})
    cvae = architectures.build({"kind": "conditional-vae", "widths": [784, 32], "latent": 4, "activation": "tanh"})
    assert isinstance(conv_ae, ConvAutoencoder) and conv_ae.bottleneck == 5
    assert isinstance(judge, DigitClassifier) and judge.head.in_features == 12 and judge.head.width == 10
    assert [m.kernel.shape[0] for m in judge.modules() if hasattr(m, "kernel")] == [4, 6]
    assert isinstance(cvae, ConditionalVAE) and cvae.latent == 4
    assert cvae.encoder.widths == (794, 32, 8) and cvae.decoder.widths == (14, 32, 784)
    assert cvae.encoder.activations[0] == "tanh"
    reader = architectures.build({"kind": "slot-reader", "channels": [4, 6], "features": 12})
    vae = architectures.build({"kind": "conv-vae", "latent": 3, "channels": [2, 4, 6], "conditional": False})
    assert isinstance(reader, SlotReader) and [m.kernel.shape[0] for m in reader.modules()
                                               if hasattr(m, "kernel")] == [4, 6]
    assert reader.body[-1].width == 12 and reader(torch.rand(2, 48, 48)).shape == (2, 2, 10)
    assert isinstance(vae, ConvVAE) and vae.latent == 3 and not vae.conditional
    assert [m.kernel.shape[0] for m in vae.down] == [2, 4, 6]


def test_a_vae_spec_builds_its_vae_and_a_random_output_bias_is_the_default():
    torch.manual_seed(0)
    model = architectures.build(VAE_SPEC | {"beta": 4})
    assert isinstance(model, VAE) and model.latent == 2 and model.beta == 4.0
    assert model.encoder.widths == (784, 8, 4) and model.decoder.widths == (2, 8, 784)
    torch.manual_seed(0)
    explicit = architectures.build(VAE_SPEC | {"beta": 4, "output_bias": "random"})
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), explicit.state_dict().values()))


def test_the_train_mean_logit_bias_is_the_logit_of_each_pixels_mean_over_the_training_images():
    train_x = torch.randint(60, 200, (50, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    torch.manual_seed(0)
    model = architectures.build(VAE_SPEC | {"output_bias": "train-mean-logit"}, train_x)
    mean = train_x.reshape(50, -1).double().mean(0) / 255  # within (0.23, 0.79): no clipping
    torch.testing.assert_close(model.decoder.layers[-1].b.detach().double(), torch.logit(mean), rtol=1e-5, atol=1e-6)
    torch.manual_seed(0)
    random = architectures.build(VAE_SPEC)
    differing = [name for name, value in random.state_dict().items()
                 if not torch.equal(value, model.state_dict()[name])]
    assert differing == ["decoder.layers.1.b"]  # the output bias, and nothing else


def test_the_same_seed_builds_the_same_weights_and_the_spec_is_left_as_it_was():
    spec = dict(CLASSIFIER)
    torch.manual_seed(3)
    first = architectures.build(spec)
    torch.manual_seed(3)
    second = architectures.build(spec)
    assert spec == CLASSIFIER  # "kind" is not popped from the caller's dict
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))
    assert not torch.equal(first.layers[0].W, architectures.build(spec).layers[0].W)


def test_bad_architecture_specs_are_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match="kind='resnet' is not allowed; choose one of 'dense'"):
        architectures.build({"kind": "resnet"})
    with pytest.raises(ValueError, match="has fields that kind='dense' does not take"):
        architectures.build(CLASSIFIER | {"dropout": 0.5})
    with pytest.raises(ValueError, match="activation='gelu' is not allowed in an architecture spec"):
        architectures.build(CLASSIFIER | {"activation": "gelu"})
    with pytest.raises(ValueError, match="output_bias='zero' is not allowed; choose one of 'random'"):
        architectures.build(VAE_SPEC | {"output_bias": "zero"})
    with pytest.raises(ValueError, match="output_bias='train-mean-logit' sets the bias from the training images"):
        architectures.build(VAE_SPEC | {"output_bias": "train-mean-logit"})


def test_each_refusal_names_the_kinds_the_activations_or_the_fields_in_full():
    with pytest.raises(ValueError, match=r"^architecture kind=None is not allowed; choose one of 'dense', "
                                         r"'mirrored-autoencoder', 'conv-autoencoder', 'conv-classifier', "
                                         r"'slot-reader', 'conv-vae', 'vae', 'conditional-vae'$"):
        architectures.build({"widths": [784, 10]})
    with pytest.raises(ValueError, match=r"^activation='gelu' is not allowed in an architecture spec; choose one of "
                                         r"'relu', 'leaky_relu', 'sigmoid', 'identity', 'tanh'$"):
        architectures.build(CLASSIFIER | {"output_activation": "gelu"})
    with pytest.raises(ValueError, match=r"^architecture \{'kind': 'vae', 'widths': \[784, 8\]\} has fields that "
                                         r"kind='vae' does not take \(.*latent.*\); see "
                                         r"thesis_lib\.experiments\.architectures for each kind's fields$"):
        architectures.build({"kind": "vae", "widths": [784, 8]})
    with pytest.raises(ValueError, match=r"^output_bias='zero' is not allowed; choose one of 'random', "
                                         r"'train-mean-logit'$"):
        architectures.build(VAE_SPEC | {"output_bias": "zero"})
