"""thesis_lib.latent_space: codes, decoded codes, reconstructions and holes in the latent space, against
nn.MSELoss and brute force."""

import numpy as np
import pytest
import torch
from torch import nn

from thesis_lib import latent_space
from thesis_lib.autoencoders import mirrored_autoencoder
from thesis_lib.pca import fit_pca


def _images(n=32, side=28, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, side, side), generator=gen, dtype=torch.uint8)


def test_codes_decode_reconstruct_and_mse_agree_with_nn_mseloss():
    torch.manual_seed(0)
    model = mirrored_autoencoder((784, 16, 3), activation="relu", output_activation="identity")
    images = _images()
    flat = images.reshape(len(images), -1).float() / 255
    codes = latent_space.latent_codes(model, images, batch_size=10)
    torch.testing.assert_close(codes, model.encoder(flat).detach())
    recon = latent_space.reconstruct(model, images, batch_size=7)
    assert recon.shape == images.shape
    torch.testing.assert_close(recon.reshape(len(images), -1), model(flat).detach())
    torch.testing.assert_close(latent_space.decode(model, codes), recon)
    expected = nn.MSELoss()(model(flat), flat).item()
    assert latent_space.mse_per_pixel(model, images) == pytest.approx(expected, rel=1e-5)
    table = latent_space.mse_table({"b": model, "a": fit_pca(images, 3)}, images)
    assert list(table) == ["b", "a"] and table["b"] == pytest.approx(expected, rel=1e-5)


def test_helpers_accept_pca_like_a_model():
    images = _images(40)
    pca = fit_pca(images, 5)
    codes = latent_space.latent_codes(pca, images)
    torch.testing.assert_close(latent_space.decode(pca, codes), latent_space.reconstruct(pca, images))
    flat = images.reshape(40, -1).float() / 255
    expected = nn.MSELoss()(pca(images), flat).item()
    assert latent_space.mse_per_pixel(pca, images) == pytest.approx(expected, rel=1e-5)


def test_decode_rejects_bad_shapes():
    model = mirrored_autoencoder((784, 16, 3))
    with pytest.raises(ValueError, match="codes.shape"):
        latent_space.decode(model, torch.zeros(3))
    with pytest.raises(ValueError, match="side=5"):
        latent_space.decode(model, torch.zeros(2, 3), side=5)


def test_box_samples_lie_in_the_widened_box():
    codes = torch.tensor([[0.0, -1.0], [2.0, 3.0], [1.0, 0.0]])
    points = latent_space.box_samples(codes, 2000, margin=0.5, seed=1)
    assert points.shape == (2000, 2)
    low, high = torch.tensor([-1.0, -3.0]), torch.tensor([3.0, 5.0])
    assert (points >= low).all() and (points <= high).all()
    assert (points.min(0).values < low + 0.05).all() and (points.max(0).values > high - 0.05).all()
    torch.testing.assert_close(points, latent_space.box_samples(codes, 2000, margin=0.5, seed=1))
    with pytest.raises(ValueError, match="margin"):
        latent_space.box_samples(codes, 5, margin=-1.0)


def test_nearest_code_distance_against_brute_force():
    gen = torch.Generator().manual_seed(0)
    points, codes = torch.randn(7, 4, generator=gen), torch.randn(11, 4, generator=gen)
    p, c = points.numpy(), codes.numpy()
    expected = np.sqrt(((p[:, None, :] - c[None, :, :]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(latent_space.nearest_code_distance(points, codes).numpy(), expected, rtol=1e-5)
    own = latent_space.nearest_code_distance(codes, codes, exclude_self=True)
    d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)) + np.diag(np.full(11, np.inf))
    np.testing.assert_allclose(own.numpy(), d.min(1), rtol=1e-5)


def test_points_between_codes_lie_on_the_segments_and_cover_them():
    codes = torch.tensor([[0.0, 0.0], [2.0, 4.0]])
    points = latent_space.between_codes(codes, 2000, seed=1)
    assert torch.allclose(points[:, 1], 2 * points[:, 0]) and points.min() >= 0 and points[:, 0].max() <= 2
    same = points[:, 0] % 2 == 0
    assert 0.3 < (points[:, 0][~same] / 2).mean() < 0.7
    assert torch.equal(points, latent_space.between_codes(codes, 2000, seed=1))
    with pytest.raises(ValueError, match="N >= 2"):
        latent_space.between_codes(codes[:1], 5)


def test_a_mixture_fitted_to_clustered_codes_finds_the_clusters_and_samples_them():
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-5.0, 0.0, 1.0], [5.0, 2.0, -1.0], [0.0, 8.0, 0.0]])
    codes = torch.cat([c + 0.3 * torch.randn(3000, 3, generator=gen) for c in centres])
    mixture = latent_space.fit_mixture(codes, components=3)
    found = torch.from_numpy(mixture.means_).float()
    assert torch.cdist(centres, found).min(1).values.max() < 0.05
    samples = latent_space.mixture_samples(mixture, 9000, seed=2)
    assert samples.shape == (9000, 3) and samples.dtype == torch.float32
    assert torch.cdist(samples, centres).min(1).values.max() < 2.5  # every sample near a cluster
    nearest = torch.cdist(samples, centres).argmin(1)
    assert (torch.bincount(nearest, minlength=3) - 3000).abs().max() < 200
    assert not torch.equal(nearest[:100], nearest[:100].sort().values)  # shuffled, not grouped
    assert torch.equal(samples, latent_space.mixture_samples(mixture, 9000, seed=2))
    with pytest.raises(ValueError, match="components=3"):
        latent_space.fit_mixture(codes[:2], components=3)
