"""The in-page explorers against torch: the hand-written JavaScript forward pass, run in Chromium
from file:// with every network request refused, decodes what torch decodes."""

import shutil
from pathlib import Path

import pytest
import torch

from thesis_lib.book import static_explorers as se
from thesis_lib.experiments.architectures import EXTRA_ACTIVATIONS
from thesis_lib.networks import DeepNetwork

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser.new_page()
        browser.close()


def decoder(activation: str, seed: int = 0) -> DeepNetwork:
    torch.manual_seed(seed)
    return DeepNetwork((3, 16, 32, 784), EXTRA_ACTIVATIONS.get(activation, activation),
                       output_activation="identity")


def open_explorers(page, tmp_path, explorers) -> list[str]:
    path = tmp_path / "explorers.html"
    path.write_text("<!doctype html><html><body>" + "".join(e.data for e in explorers) + "</body></html>")
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
                                      if route.request.url.startswith("file://") else route.abort()))
    page.goto(path.as_uri())
    assert not errors, errors
    return [u for u in requests if not u.startswith("file://")]


@pytest.mark.parametrize("activation, output", [("relu", "identity"), ("tanh", "sigmoid"), ("sigmoid", "sigmoid")])
def test_the_page_decodes_what_torch_decodes_as_the_slider_moves(page, tmp_path, activation, output):
    net = decoder(activation)
    grid = se.grid_explorer("grid", net, "test", [(-2.0, 2.0), (-1.0, 3.0), (0.0, 1.0)], output=output)
    start, end = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([-1.5, 0.5, 2.0])
    path = se.path_explorer("path", net, "test", start, end, output=output)
    assert open_explorers(page, tmp_path, [grid, path]) == []
    final = torch.sigmoid if output == "sigmoid" else (lambda v: v)
    for element, moves in (("grid", [(0, 0.1), (1, 0.9), (2, 0.3)]), ("path", [(0, 0.8)])):
        for index, fraction in moves:
            before = page.evaluate(f"() => window.thesisExplorers['{element}'].image")
            box = page.locator(f"#{element} input[type=range]").nth(index).bounding_box()
            page.mouse.click(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2)
            state = page.evaluate(f"() => window.thesisExplorers['{element}']")
            assert state["image"] != before, f"moving slider {index} of {element} changed nothing"
            z = torch.tensor(state["z"], dtype=torch.float32)
            with torch.no_grad():
                expected = final(net(z[None]))[0]
            assert (torch.tensor(state["image"]) - expected.double()).abs().max() <= 1e-4
    path_z = torch.tensor(page.evaluate("() => window.thesisExplorers['path'].z"), dtype=torch.float64)
    t = page.evaluate("() => window.thesisExplorers['path'].t[0]")
    torch.testing.assert_close(path_z, ((1 - t) * start + t * end).double(), rtol=1e-6, atol=1e-6)


def test_the_page_states_the_weights_it_carries_and_refuses_what_it_cannot_run():
    net = decoder("relu")
    layers = se.dense_layers(net)
    import hashlib

    expected = hashlib.md5(b"".join(p.detach().numpy().tobytes() for layer in net.layers for p in layer.theta))
    assert se.weights_md5(layers) == expected.hexdigest()
    assert f'data-weights-md5="{expected.hexdigest()}"' in se.grid_explorer("g", net, "x", [(0, 1)] * 3).data
    with pytest.raises(ValueError, match=r"activation='leaky_relu\(alpha=0.01\)' is not allowed"):
        se.dense_layers(DeepNetwork((3, 784), "leaky_relu", output_activation="leaky_relu"))
    with pytest.raises(ValueError, match="2 sliders need as many directions, got 1"):
        se.explorer("e", layers, base=[0, 0, 0], directions=[[1, 0, 0]], sliders=[("a", 0, 1, 0)] * 2,
                    title="", experiment="x")


def test_under_a_jupyter_server_the_copy_gives_way_to_a_note_and_still_checks_its_arguments(monkeypatch):
    net = decoder("relu")
    assert "thesis-explorer" in se.grid_explorer("g", net, "test", [(-1.0, 1.0)] * 3).data
    monkeypatch.setenv("JPY_SESSION_NAME", "chapters/x.ipynb")
    note = se.grid_explorer("g", net, "test", [(-1.0, 1.0)] * 3)
    assert note.data == se.LIVE_NOTE and "widget of the next cell" in note.data
    with pytest.raises(ValueError, match="need as many directions"):
        se.explorer("g", se.dense_layers(net), base=[0.0] * 3, directions=[[1.0, 0, 0]], sliders=[], title="",
                    experiment="test")


def test_the_on_demand_explorer_composes_what_torch_composes_for_the_digits_and_style_asked(page, tmp_path):
    from thesis_lib.conditional_vae import ConditionalVAE
    from thesis_lib.on_demand import CENTRED, request_canvas

    torch.manual_seed(5)
    model = ConditionalVAE((784, 32), latent=2)
    direction = torch.tensor([0.7, -0.4])
    explorer = se.on_demand_explorer("demand", model.decoder, "test", direction.tolist(), CENTRED)
    assert open_explorers(page, tmp_path, [explorer]) == []
    page.select_option("#demand select >> nth=0", "0")
    page.select_option("#demand select >> nth=1", "9")
    box = page.locator("#demand input[type=range]").bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + box["height"] / 2)
    state = page.evaluate("() => window.thesisExplorers['demand']")
    assert state["digits"] == [0, 9] and state["t"] > 0.5
    expected = request_canvas(model, 0, 9, state["t"] * direction)
    assert (torch.tensor(state["image"]).reshape(48, 48) - expected.double()).abs().max() <= 1e-4
    with pytest.raises(ValueError, match="must map a code of 3 .* to 784 pixels; it maps 12 to 784"):
        se.on_demand_explorer("d", model.decoder, "test", [0.0, 0.0, 0.0], CENTRED)
