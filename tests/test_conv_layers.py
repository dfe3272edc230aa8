"""Chapter 1.3's image layers as modules against torch's conv2d, max_pool2d and interpolate."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib import conv_layers


@pytest.mark.parametrize("operator", ["thesis", "torch"])
@pytest.mark.parametrize("stride", [1, 2])
def test_image_conv_equals_nn_conv2d(operator, stride):
    torch.manual_seed(0)
    layer = conv_layers.ImageConv(3, 5, kernel_size=3, padding=1, activation="relu", stride=stride)
    layer.operator = operator
    reference = nn.Conv2d(3, 5, 3, padding=1, stride=stride)
    reference.weight.data.copy_(layer.kernel.data)
    reference.bias.data.copy_(layer.bias.data)
    x = torch.randn(4, 3, 9, 7)
    torch.testing.assert_close(layer(x), F.relu(reference(x)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("operator", ["thesis", "torch"])
def test_max_pool_equals_torch(operator):
    pool = conv_layers.MaxPool(2)
    pool.operator = operator
    x = torch.randn(3, 4, 14, 14)
    torch.testing.assert_close(pool(x), F.max_pool2d(x, 2))


def test_upsample_is_a_kronecker_product_with_a_block_of_ones():
    x = torch.randn(2, 3, 5, 4)
    expected = torch.kron(x, torch.ones(1, 1, 2, 2))
    torch.testing.assert_close(conv_layers.Upsample(2)(x), expected)


def test_conv_autoencoder_same_function_with_thesis_operators():
    torch.manual_seed(1)
    model = conv_layers.ConvAutoencoder(bottleneck=3)
    x = torch.rand(6, 784)
    fast = model(x)
    assert fast.shape == (6, 784) and model.bottleneck == 3
    assert model.encoder(x).shape == (6, 3)
    slow = conv_layers.use_operator(model, "thesis")(x)
    torch.testing.assert_close(slow, fast, atol=1e-5, rtol=1e-5)
    assert all(m.operator == "thesis" for m in model.modules() if isinstance(m, (conv_layers.ImageConv, conv_layers.MaxPool)))
    with pytest.raises(ValueError, match="operator='numpy'"):
        conv_layers.use_operator(model, "numpy")
