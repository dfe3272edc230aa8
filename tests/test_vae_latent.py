"""thesis_lib.book.widgets.vae_latent: the latent-space explorers and their static figures."""

import matplotlib.pyplot as plt
import pytest
import torch

from thesis_lib.book.plots import tile
from thesis_lib.book.widgets.vae_latent import (
    interpolation_explorer,
    interpolation_figure,
    latent_explorer,
    latent_manifold_figure,
)
from thesis_lib.generation import latent_grid
from thesis_lib.vae import VAE


# --- the latent-space explorers (widgets/vae_latent.py) ---------------------------------------

def test_manifold_figure_shows_the_decoded_grid():
    torch.manual_seed(0)
    model = VAE((16, 8), latent=2)
    fig = latent_manifold_figure(model, n=4, codes=torch.randn(20, 2), labels=torch.randint(0, 10, (20,)))
    shown = torch.tensor(fig.axes[1].images[0].get_array())
    with torch.no_grad():
        expected = tile(model.decode_mean(latent_grid(4)).reshape(-1, 4, 4), 4)
    torch.testing.assert_close(shown, expected)
    plt.close("all")


def test_explorers_redraw_what_the_sliders_ask_for(shown_by):
    import thesis_lib.book.widgets.vae_latent as explorers

    shown = shown_by(explorers)
    torch.manual_seed(0)
    model = VAE((16, 8), latent=2)
    z1, z2 = latent_explorer(model).children[0].children
    z1.value, z2.value = 1.5, -0.5
    with torch.no_grad():
        expected = model.decode_mean(torch.tensor([[1.5, -0.5]])).reshape(4, 4)
    torch.testing.assert_close(torch.as_tensor(shown[-1].axes[1].get_images()[0].get_array()), expected)
    x_a, x_b = torch.rand(16), torch.rand(16)
    slider = interpolation_explorer(model, x_a, x_b).children[0]
    slider.value = 1.0
    with torch.no_grad():
        end = model.decode_mean(model.encode(x_b[None])[0]).reshape(4, 4)
    torch.testing.assert_close(torch.as_tensor(shown[-1].axes[1].get_images()[0].get_array()), end)
    fig = interpolation_figure(model, [(torch.rand(16), torch.rand(16))], steps=4)
    assert len(fig.axes) == 6
    plt.close("all")
    with pytest.raises(ValueError, match="latent=3"):
        latent_explorer(VAE((16, 8), latent=3))
    with pytest.raises(ValueError, match="square"):
        latent_manifold_figure(VAE((15, 8), latent=2))
