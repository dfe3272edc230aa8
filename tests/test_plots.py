"""The shared plotting helpers: mosaics and image panels show exactly the pixels they are given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from thesis_lib.book.plots import image_panel, tile  # noqa: E402


def test_tile_places_images_row_by_row():
    images = torch.arange(6 * 2 * 3, dtype=torch.float32).reshape(6, 2, 3)
    mosaic = tile(images, rows=2)
    assert mosaic.shape == (4, 9)
    for k in range(6):
        r, c = divmod(k, 3)
        torch.testing.assert_close(mosaic[2 * r:2 * r + 2, 3 * c:3 * c + 3], images[k])
    square = torch.arange(4 * 9, dtype=torch.float32).reshape(4, 9)  # four flat 3x3 images
    torch.testing.assert_close(tile(square, rows=1)[:, 3:6], square[1].reshape(3, 3))
    with pytest.raises(ValueError, match="rows=4 is not allowed for 6 images"):
        tile(images, rows=4)


def test_image_panel_shows_the_image_with_its_size_and_a_symmetric_scale():
    fig, ax = plt.subplots()
    image = torch.tensor([[[-2.0, 1.0], [0.5, 0.0]]])
    shown = image_panel(ax, image, "response", symmetric=True)
    assert (shown.get_array() == image[0].numpy()).all()
    assert shown.get_clim() == (-2.0, 2.0) and ax.get_title() == "response\n2×2"
    assert image_panel(ax, image, "fixed", limits={"vmin": 0, "vmax": 255}).get_clim() == (0, 255)
    plt.close(fig)


def test_provenance_and_say_wrap_to_the_printed_width(capsys):
    from thesis_lib.book.plots import OUTPUT_WIDTH, provenance, say
    from thesis_lib.infra.training import History

    history = History([1.0], [1.0], 30, 1.0, "cpu", origin="committed checkpoint (budget full)",
                      extra={"budget": "full"})
    text = provenance(history, data="MNIST, 60,000 training and 10,000 test images")
    assert max(map(len, text.splitlines())) <= OUTPUT_WIDTH < len(" ".join(text.split()))
    assert " ".join(text.split()).startswith("full budget, trained on cpu, 30 epochs, MNIST")
    say("word " * 40)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) > 1 and max(map(len, printed)) <= OUTPUT_WIDTH
