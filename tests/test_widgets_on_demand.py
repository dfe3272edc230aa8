"""thesis_lib.book.widgets.on_demand: the live explorer draws the canvas of the digits and style asked
for, against the decoder run by hand and placed with NumPy."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

from thesis_lib.book.widgets.on_demand import on_demand_explorer
from thesis_lib.conditional_vae import ConditionalVAE


def test_the_explorer_redraws_the_asked_digits_with_the_asked_style(shown_by):
    import thesis_lib.book.widgets.on_demand as module

    shown = shown_by(module)
    torch.manual_seed(0)
    model = ConditionalVAE((784, 32), latent=2)
    direction = torch.tensor([0.5, -1.0])
    box = on_demand_explorer(model, direction)
    (left, right), style = box.children[0].children, box.children[1]
    assert (left.value, right.value, style.value) == (3, 7, 0.0)
    left.value, right.value, style.value = 0, 9, 1.5
    image = shown[-1].axes[0].images[0].get_array()
    z = (1.5 * direction).repeat(2, 1)
    with torch.no_grad():
        digits = torch.sigmoid(model.decoder(torch.cat([z, torch.eye(10)[[0, 9]]], 1))).reshape(2, 28, 28).numpy()
    expected = np.zeros((48, 48), dtype=np.float32)
    expected[10:38, 2:30] = digits[0]
    expected[10:38, 18:46] = np.maximum(expected[10:38, 18:46], digits[1])
    np.testing.assert_allclose(np.asarray(image), expected, rtol=1e-5, atol=1e-6)
    assert shown[-1].axes[0].get_title() == "asked 0 + 9, style +1.50"
    plt.close("all")
