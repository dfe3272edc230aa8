"""thesis_lib.book.widgets.kernel: the kernel explorer and its static twin against PyTorch's conv2d and
avg_pool2d, the presets of vision.named_kernels rounded as torch.round does, and the figure's panels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from thesis_lib import vision as V
from thesis_lib.book.widgets import kernel as kernel_widget
from thesis_lib.book.widgets.kernel import draw_response, kernel_explorer


def _images():
    return torch.randint(0, 256, (3, 12, 12), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)


def test_kernel_explorer_follows_its_entries_and_presets():
    images = _images()
    explorer = kernel_explorer(images, torch.tensor([4, 1, 7]), preset="Sobel y")
    torch.testing.assert_close(explorer.kernel(), V.sobel_kernels()[1])
    explorer.entries[0].value = 2.5
    explorer.index.value = 2
    expected = explorer.kernel()
    assert expected[0, 0] == 2.5
    torch.testing.assert_close(explorer.response(), F.conv2d(images[2].float()[None, None], expected[None, None])[0, 0])
    explorer.preset.value = "identity"
    torch.testing.assert_close(explorer.response(), images[2, 1:-1, 1:-1].float())
    with pytest.raises(ValueError, match=r"preset='emboss' is not allowed"):
        kernel_explorer(images, preset="emboss")
    fig = draw_response(images[0], V.box_kernel(3))
    torch.testing.assert_close(torch.as_tensor(fig.axes[2].images[0].get_array()).float(),
                               F.avg_pool2d(images[0].float()[None], 3, stride=1)[0])


@pytest.mark.parametrize("preset", list(V.named_kernels()))
def test_each_preset_fills_the_grid_rounded_to_four_decimals(preset):
    explorer = kernel_explorer(_images(), preset=preset)
    assert explorer.preset.value == preset
    torch.testing.assert_close(explorer.kernel(), torch.round(V.named_kernels()[preset], decimals=4), rtol=0, atol=1e-7)
    plt.close("all")


def test_the_figure_is_redrawn_once_per_change_with_the_digits_number_and_label(monkeypatch):
    drawn = []

    def spy(image, kernel, title="digit", fig=None):
        drawn.append((image, kernel, title))
        return draw_response(image, kernel, title, fig)

    monkeypatch.setattr(kernel_widget, "draw_response", spy)
    images, labels = _images(), torch.tensor([4, 1, 7])
    explorer = kernel_explorer(images, labels, preset="box")
    assert len(drawn) == 1 and drawn[-1][2] == "test image 0, label 4"
    explorer.index.value = 2
    assert len(drawn) == 2 and drawn[-1][2] == "test image 2, label 7" and torch.equal(drawn[-1][0], images[2])
    explorer.preset.value = "Sobel x"  # nine entries change, one redraw
    assert len(drawn) == 3 and torch.equal(drawn[-1][1], V.sobel_kernels()[0])
    explorer.entries[4].value = 3.0
    assert len(drawn) == 4 and drawn[-1][1][1, 1] == 3.0
    assert kernel_explorer(images, preset="box").index.max == 2  # the last image
    kernel_explorer(images)
    assert drawn[-1][2] == "test image 0"  # without labels, no label
    plt.close("all")


def test_draw_response_shows_the_digit_the_kernel_and_the_response_with_symmetric_colour_ranges():
    image, kernel = _images()[1], V.sobel_kernels()[0]
    fig = draw_response(image, kernel, title="a digit")
    digit, weights, response = fig.axes[:3]
    assert [ax.get_title() for ax in (digit, weights, response)] == ["a digit\n12×12", "kernel k\n3×3",
                                                                     "response ψ0⋆k\n10×10"]
    expected = F.conv2d(image.float()[None, None], kernel[None, None])[0, 0]
    torch.testing.assert_close(torch.as_tensor(response.images[0].get_array()).float(), expected)
    bound = expected.abs().max().item()
    assert response.images[0].get_clim() == pytest.approx((-bound, bound))
    assert weights.images[0].get_clim() == (-2.0, 2.0) and digit.images[0].get_clim() == (0, 255)
    assert [t.get_text() for t in weights.texts] == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    plt.close(fig)


def test_a_zero_kernel_draws_with_unit_colour_ranges_and_other_shapes_are_refused():
    fig = draw_response(_images()[0], torch.zeros(3, 3))
    assert fig.axes[1].images[0].get_clim() == (-1.0, 1.0) and fig.axes[2].images[0].get_clim() == (-1.0, 1.0)
    plt.close(fig)
    with pytest.raises(ValueError, match=r"^image\.shape=\(1, 12, 12\), kernel\.shape=\(3, 3\) are not allowed; "
                                         r"both must be 2-D \(one channel\)$"):
        draw_response(_images()[:1], torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"^preset='emboss' is not allowed; choose one of 'identity', 'Sobel x', "
                                         r"'Sobel y', 'box', 'Gaussian σ=1', 'sharpen'$"):
        kernel_explorer(_images(), preset="emboss")
