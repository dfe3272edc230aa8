"""The §2.3 experiments and helpers against PyTorch's own ops, NumPy and closed forms."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib import ae_experiments as ae
from thesis_lib.losses import reconstruction_mse
from thesis_lib.networks import mirrored_autoencoder
from thesis_lib.pca import fit_pca


def _images(n=32, side=28, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, side, side), generator=gen, dtype=torch.uint8)


# --- the registered experiments ------------------------------------------------------------

def test_algorithm_1_settings():
    for exp in (ae.ALG1_LINEAR, ae.ALG1_RELU):
        full = exp.config("full")
        assert (full.epochs, full.batch_size, full.lr, full.optimizer) == (1000, 256, 3e-4, "adam")
        assert exp.config("quick").epochs < full.epochs
        assert exp.objective is reconstruction_mse
    linear, relu = ae.linear_autoencoder(), ae.relu_autoencoder()
    assert linear.widths == relu.widths == (784, 128, 64, 12, 3, 12, 64, 128, 784)
    assert set(linear.activations) == {"identity"}
    assert relu.activations == ("relu",) * 3 + ("identity",) + ("relu",) * 3 + ("identity",)


def test_every_experiment_builds_and_maps_images_to_images():
    names = [exp.name for exp in ae.EXPERIMENTS]
    assert len(names) == len(set(names))
    assert {f"ae-sweep-{k}" for k in ae.BOTTLENECKS} <= set(names)
    for exp in ae.EXPERIMENTS:
        model = exp.build()
        pixels = 48 * 48 if exp is ae.COMPOSED else 784
        assert model(torch.rand(2, pixels)).shape == (2, pixels)
        assert exp.config("quick").epochs < exp.config("full").epochs
    for k, exp in ae.SWEEP.items():
        assert exp.build().bottleneck == k
    composed = ae.COMPOSED.config("full")
    assert (composed.batch_size, composed.lr) == (64, 1e-3) and ae.COMPOSED.build().bottleneck == 32


def test_reproduce_finds_the_experiments():
    from thesis_lib.reproduce import registered

    assert {exp.name for exp in ae.EXPERIMENTS} <= set(registered())


# --- the convolutional autoencoder ----------------------------------------------------------

@pytest.mark.parametrize("operator", ["thesis", "torch"])
@pytest.mark.parametrize("stride", [1, 2])
def test_image_conv_equals_nn_conv2d(operator, stride):
    torch.manual_seed(0)
    layer = ae.ImageConv(3, 5, kernel_size=3, padding=1, activation="relu", stride=stride)
    layer.operator = operator
    reference = nn.Conv2d(3, 5, 3, padding=1, stride=stride)
    reference.weight.data.copy_(layer.kernel.data)
    reference.bias.data.copy_(layer.bias.data)
    x = torch.randn(4, 3, 9, 7)
    torch.testing.assert_close(layer(x), F.relu(reference(x)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("operator", ["thesis", "torch"])
def test_max_pool_equals_torch(operator):
    pool = ae.MaxPool(2)
    pool.operator = operator
    x = torch.randn(3, 4, 14, 14)
    torch.testing.assert_close(pool(x), F.max_pool2d(x, 2))


def test_upsample_is_a_kronecker_product_with_a_block_of_ones():
    x = torch.randn(2, 3, 5, 4)
    expected = torch.kron(x, torch.ones(1, 1, 2, 2))
    torch.testing.assert_close(ae.Upsample(2)(x), expected)


def test_conv_autoencoder_same_function_with_thesis_operators():
    torch.manual_seed(1)
    model = ae.ConvAutoencoder(bottleneck=3)
    x = torch.rand(6, 784)
    fast = model(x)
    assert fast.shape == (6, 784) and model.bottleneck == 3
    assert model.encoder(x).shape == (6, 3)
    slow = ae.use_operator(model, "thesis")(x)
    torch.testing.assert_close(slow, fast, atol=1e-5, rtol=1e-5)
    assert all(m.operator == "thesis" for m in model.modules() if isinstance(m, (ae.ImageConv, ae.MaxPool)))
    with pytest.raises(ValueError, match="operator='numpy'"):
        ae.use_operator(model, "numpy")


# --- looking at trained models --------------------------------------------------------------

def test_codes_decode_reconstruct_and_mse_agree_with_nn_mseloss():
    torch.manual_seed(0)
    model = mirrored_autoencoder((784, 16, 3), activation="relu", output_activation="identity")
    images = _images()
    flat = images.reshape(len(images), -1).float() / 255
    codes = ae.latent_codes(model, images, batch_size=10)
    torch.testing.assert_close(codes, model.encoder(flat).detach())
    recon = ae.reconstruct(model, images, batch_size=7)
    assert recon.shape == images.shape
    torch.testing.assert_close(recon.reshape(len(images), -1), model(flat).detach())
    torch.testing.assert_close(ae.decode(model, codes), recon)
    expected = nn.MSELoss()(model(flat), flat).item()
    assert ae.mse_per_pixel(model, images) == pytest.approx(expected, rel=1e-5)
    table = ae.mse_table({"b": model, "a": fit_pca(images, 3)}, images)
    assert list(table) == ["b", "a"] and table["b"] == pytest.approx(expected, rel=1e-5)


def test_helpers_accept_pca_like_a_model():
    images = _images(40)
    pca = fit_pca(images, 5)
    codes = ae.latent_codes(pca, images)
    torch.testing.assert_close(ae.decode(pca, codes), ae.reconstruct(pca, images))
    flat = images.reshape(40, -1).float() / 255
    expected = nn.MSELoss()(pca(images), flat).item()
    assert ae.mse_per_pixel(pca, images) == pytest.approx(expected, rel=1e-5)


def test_decode_rejects_bad_shapes():
    model = mirrored_autoencoder((784, 16, 3))
    with pytest.raises(ValueError, match="codes.shape"):
        ae.decode(model, torch.zeros(3))
    with pytest.raises(ValueError, match="side=5"):
        ae.decode(model, torch.zeros(2, 3), side=5)


def test_markdown_table():
    text = ae.markdown_table(("model", "MSE"), [("PCA-3", 0.0516089), ("AE", 0.04), ("epochs", 3)])
    assert text.splitlines() == ["| model | MSE |", "|---|---|", "| PCA-3 | 0.05161 |", "| AE | 0.04000 |",
                                 "| epochs | 3 |"]


# --- linear autoencoders and PCA ------------------------------------------------------------

def test_affine_form_reproduces_the_linear_network():
    torch.manual_seed(0)
    model = mirrored_autoencoder((20, 9, 6, 2), activation="identity").double()
    A, c = ae.affine_form(model)
    x = torch.randn(5, 20, dtype=torch.float64)
    torch.testing.assert_close(x @ A.T + c, model(x).detach())
    assert torch.linalg.matrix_rank(A).item() == 2  # at most the bottleneck (and generically equal)
    with pytest.raises(ValueError, match="identity"):
        ae.affine_form(mirrored_autoencoder((20, 9, 2), activation="relu"))


def test_pca_autoencoder_computes_pca_exactly():
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(100, 30, generator=gen) * torch.linspace(1, 0.1, 30)
    pca = fit_pca(x, 3)
    model = ae.pca_autoencoder(pca, widths=(30, 12, 7, 3))
    assert set(model.activations) == {"identity"} and model.bottleneck == 3
    torch.testing.assert_close(model(x).detach(), pca(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="bottleneck 3"):
        ae.pca_autoencoder(pca, widths=(30, 12, 4))


# --- holes in the latent space --------------------------------------------------------------

def test_box_samples_lie_in_the_widened_box():
    codes = torch.tensor([[0.0, -1.0], [2.0, 3.0], [1.0, 0.0]])
    points = ae.box_samples(codes, 2000, margin=0.5, seed=1)
    assert points.shape == (2000, 2)
    low, high = torch.tensor([-1.0, -3.0]), torch.tensor([3.0, 5.0])
    assert (points >= low).all() and (points <= high).all()
    assert (points.min(0).values < low + 0.05).all() and (points.max(0).values > high - 0.05).all()
    torch.testing.assert_close(points, ae.box_samples(codes, 2000, margin=0.5, seed=1))
    with pytest.raises(ValueError, match="margin"):
        ae.box_samples(codes, 5, margin=-1.0)


def test_nearest_code_distance_against_brute_force():
    gen = torch.Generator().manual_seed(0)
    points, codes = torch.randn(7, 4, generator=gen), torch.randn(11, 4, generator=gen)
    p, c = points.numpy(), codes.numpy()
    expected = np.sqrt(((p[:, None, :] - c[None, :, :]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(ae.nearest_code_distance(points, codes).numpy(), expected, rtol=1e-5)
    own = ae.nearest_code_distance(codes, codes, exclude_self=True)
    d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)) + np.diag(np.full(11, np.inf))
    np.testing.assert_allclose(own.numpy(), d.min(1), rtol=1e-5)


# --- the latent-space explorer --------------------------------------------------------------

def test_latent_explorer_decodes_the_slider_code():
    import matplotlib

    matplotlib.use("Agg")
    from thesis_lib.widgets.latent3d import draw_decode_grid, grid_codes, latent_explorer

    torch.manual_seed(0)
    model = mirrored_autoencoder((784, 16, 3), activation="relu", output_activation="identity")
    codes, labels = torch.randn(200, 3), torch.arange(200) % 10
    explorer = latent_explorer(model, codes, labels)
    torch.testing.assert_close(explorer.code(), codes.median(0).values, atol=0.05, rtol=0)
    explorer.sliders[1].value = explorer.sliders[1].min
    z = explorer.code()
    assert z[1].item() == pytest.approx(torch.quantile(codes[:, 1], 0.01).item(), abs=1e-6)
    torch.testing.assert_close(explorer.image(), model.decoder(z[None]).detach().reshape(28, 28))
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        latent_explorer(model, torch.randn(10, 2), labels[:10])

    grid, v0, v1 = grid_codes(codes, axes=(0, 2), n=4)
    assert grid[2, 3, 0] == v0[3] and grid[2, 3, 2] == v1[2]
    torch.testing.assert_close(grid[:, :, 1], torch.full((4, 4), codes[:, 1].median().item()))
    fig = draw_decode_grid(model, codes, axes=(0, 2), n=4)
    mosaic = torch.as_tensor(fig.axes[0].images[0].get_array())
    top_left = model.decoder(grid[3, 0][None]).detach().clamp(0, 1).reshape(28, 28)  # largest z_3, smallest z_1
    torch.testing.assert_close(mosaic[:28, :28].float(), top_left, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="axes"):
        grid_codes(codes, axes=(1, 1))
