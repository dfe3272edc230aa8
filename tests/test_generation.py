"""thesis_lib.generation: the latent grid, prior samples, interpolation and nearest neighbours."""

import pytest
import torch
from torch.distributions import Normal

from latent_helpers import small_vae
from thesis_lib.generation import interpolate, latent_grid, nearest_neighbours, sample_prior


# --- generation -------------------------------------------------------------------------------

def test_latent_grid_is_the_inverse_normal_cdf():
    grid = latent_grid(5, 0.1, 0.9)
    u = torch.linspace(0.1, 0.9, 5)
    values = torch.tensor([Normal(0.0, 1.0).icdf(t).item() for t in u])
    torch.testing.assert_close(grid[:5, 0], values)  # first row: z_1 left to right
    torch.testing.assert_close(grid[::5, 1], values.flip(0))  # first column: z_2 top to bottom
    with pytest.raises(ValueError, match="low"):
        latent_grid(3, 0.0, 0.9)


def test_sampling_and_interpolation():
    model = small_vae().float()
    gen = torch.Generator().manual_seed(0)
    samples = sample_prior(model, 8, gen)
    z = torch.randn(8, model.latent, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(samples, torch.sigmoid(model.decoder(z)))
    a, b = torch.rand(16), torch.rand(16)
    path = interpolate(model, a, b, 5)
    with torch.no_grad():
        ends = model(torch.stack([a, b]))
    torch.testing.assert_close(path[[0, -1]], ends)


def test_nearest_neighbours_match_brute_force():
    gen = torch.Generator().manual_seed(0)
    refs = torch.randint(0, 256, (300, 3, 3), dtype=torch.uint8, generator=gen)
    queries = torch.rand(10, 3, 3, generator=gen)
    dist, idx = nearest_neighbours(queries, refs, batch_size=64)
    full = ((queries.reshape(10, 1, 9) - refs.reshape(1, 300, 9).float() / 255) ** 2).sum(-1).sqrt()
    torch.testing.assert_close(dist, full.min(1).values, rtol=1e-4, atol=1e-4)
    # the index found is a nearest neighbour (two orders of summation may break a near-tie differently)
    torch.testing.assert_close(full.gather(1, idx[:, None])[:, 0], full.min(1).values, rtol=1e-4, atol=1e-4)
