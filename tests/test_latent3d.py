"""thesis_lib.book.widgets.latent3d: the 3-D latent explorer and its static twins against the decoder run by
hand, torch.quantile and median for the grid and the sliders, and the drawn scatter's points per digit."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.colors import to_rgba

from thesis_lib.autoencoders import mirrored_autoencoder
from thesis_lib.book.widgets import latent3d
from thesis_lib.book.widgets.latent3d import (DIGIT_COLOURS, digit_legend, draw_decode_grid, draw_latent_scatter,
                                              grid_codes, latent_explorer)


def _codes(n=200, dims=3, seed=0):
    return torch.randn(n, dims, generator=torch.Generator().manual_seed(seed)), torch.arange(n) % 10


def test_latent_explorer_decodes_the_slider_code():
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
    plt.close("all")


def test_the_scatter_draws_the_first_max_points_codes_in_their_digits_colour_and_the_code_as_a_star():
    codes, labels = _codes(50)
    ax = draw_latent_scatter(codes, labels, max_points=23, point=torch.tensor([0.5, -1.0, 2.0]), elev=35, azim=10)
    by_label = {c.get_label(): c for c in ax.collections}
    assert list(by_label) == [str(d) for d in range(10)] + ["z"]
    counts = torch.bincount(labels[:23], minlength=10).tolist()
    assert [len(by_label[str(d)].get_offsets()) for d in range(10)] == counts
    for d in range(10):
        assert tuple(by_label[str(d)].get_facecolor()[0][:3]) == pytest.approx(to_rgba(DIGIT_COLOURS(d))[:3])
    assert len(by_label["z"].get_offsets()) == 1
    star = [float(v[0]) for v in by_label["z"]._offsets3d]
    assert star == [0.5, -1.0, 2.0]
    assert (ax.elev, ax.azim) == (35, 10) and [ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()] == [
        "$z_1$", "$z_2$", "$z_3$"]
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "digit" and len(legend.get_texts()) == 11
    plt.close("all")


def test_one_digit_legend_for_several_scatters():
    codes, labels = _codes(30)
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    draw_latent_scatter(codes, labels, ax=ax, legend=False)
    assert ax.get_legend() is None
    digit_legend(fig, ax)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [str(d) for d in range(10)]
    plt.close(fig)


def test_the_grid_spans_the_1st_to_99th_percentile_through_the_median_or_a_given_code():
    codes, _ = _codes(500, dims=4)
    grid, values0, values1 = grid_codes(codes, axes=(3, 1), n=5)
    q = torch.quantile(codes, torch.tensor([0.01, 0.99]), dim=0)
    torch.testing.assert_close(values0, torch.linspace(q[0, 3].item(), q[1, 3].item(), 5))
    torch.testing.assert_close(values1, torch.linspace(q[0, 1].item(), q[1, 1].item(), 5))
    assert grid.shape == (5, 5, 4)
    for i in range(5):
        for j in range(5):
            assert grid[i, j, 3] == values0[j] and grid[i, j, 1] == values1[i]
            torch.testing.assert_close(grid[i, j, [0, 2]], codes.median(0).values[[0, 2]])
    fixed = torch.tensor([7.0, 0.0, -7.0, 0.0])
    grid, _, _ = grid_codes(codes, axes=(3, 1), n=5, fixed=fixed)
    assert (grid[..., 0] == 7.0).all() and (grid[..., 2] == -7.0).all()
    default, v0, v1 = grid_codes(codes)
    assert default.shape == (9, 9, 4) and default[0, 8, 0] == v0[8] and default[8, 0, 1] == v1[8]  # axes (0, 1)


def test_the_decode_grid_names_its_axes_and_the_fixed_coordinates():
    torch.manual_seed(0)
    model = mirrored_autoencoder((784, 16, 3), activation="relu", output_activation="identity")
    codes, _ = _codes()
    fig = draw_decode_grid(model, codes, axes=(1, 2), n=3)
    ax = fig.axes[0]
    grid, values0, values1 = grid_codes(codes, axes=(1, 2), n=3)
    assert ax.get_title() == f"decoded $f_d(z)$ on a grid ($z_1$ = {grid[0, 0, 0].item():.2g})"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("latent coordinate $z_2$", "latent coordinate $z_3$")
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{v:.2g}" for v in values0.tolist()]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{v:.2g}" for v in values1.flip(0).tolist()]
    assert ax.get_xticks().tolist() == [13.5, 41.5, 69.5]  # the centre of each 28-pixel cell
    plt.close(fig)
    torch.manual_seed(0)
    flat = mirrored_autoencoder((784, 16, 2))
    fig = draw_decode_grid(flat, _codes(dims=2)[0], n=2)
    assert fig.axes[0].get_title() == "decoded $f_d(z)$ on a grid"  # nothing is fixed in a 2-D latent space
    plt.close(fig)


def test_the_explorers_sliders_span_the_percentiles_and_each_change_redraws_the_view(monkeypatch):
    torch.manual_seed(0)
    model = mirrored_autoencoder((784, 16, 3), activation="relu", output_activation="identity")
    codes, labels = _codes()
    views = []

    def spy(codes, labels, ax=None, elev=20, azim=-60, point=None, **kw):
        views.append((elev, azim, point))
        return ax

    monkeypatch.setattr(latent3d, "draw_latent_scatter", spy)
    explorer = latent_explorer(model, codes, labels)
    q = torch.quantile(codes, torch.tensor([0.01, 0.5, 0.99]), dim=0)
    for i, slider in enumerate(explorer.sliders):
        assert (slider.min, slider.max, slider.description) == pytest.approx((q[0, i].item(), q[2, i].item(),
                                                                               f"z{i + 1}"), abs=1e-6)
        assert slider.step == pytest.approx((q[2, i] - q[0, i]).item() / 100)
    assert len(views) == 1 and views[0][:2] == (20, -60)
    explorer.azimuth.value = 45
    explorer.elevation.value = -30
    explorer.sliders[2].value = explorer.sliders[2].max
    assert len(views) == 4 and views[-1][:2] == (-30, 45)
    torch.testing.assert_close(views[-1][2], explorer.code())
    assert explorer.code()[2].item() == pytest.approx(q[2, 2].item(), abs=1e-6)
    plt.close("all")


def test_codes_of_another_shape_are_refused():
    torch.manual_seed(0)
    model = mirrored_autoencoder((784, 16, 3))
    with pytest.raises(ValueError, match=r"^codes with shape \(10, 2\) are not allowed; they must be a tensor "
                                         r"\[N, 3\]$"):
        draw_latent_scatter(torch.zeros(10, 2), torch.zeros(10))
    with pytest.raises(ValueError, match=r"^codes with shape list are not allowed; they must be a tensor \[N, 3\]$"):
        latent_explorer(model, [[0.0, 0.0, 0.0]], torch.zeros(1))
    with pytest.raises(ValueError, match=r"^codes with shape \(5,\) are not allowed; they must be a tensor \[N, d\]$"):
        grid_codes(torch.zeros(5))
    with pytest.raises(ValueError, match=r"^axes=\(0, 3\) is not allowed; give two different latent coordinates in "
                                         r"0\.\.2$"):
        grid_codes(torch.zeros(4, 3), axes=(0, 3))
