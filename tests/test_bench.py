"""``make bench``: each of the three loops really trains Algorithm 1's model, and the JSON line has
the keys and ratios the README and the issue notes quote."""

import pytest
import torch

from thesis_lib.experiments import bench
from thesis_lib.infra.data import load_mnist
from thesis_lib.losses import reconstruction_mse

CPU = torch.device("cpu")


def _mse(model, images):
    with torch.no_grad():
        return reconstruction_mse(model, images.reshape(len(images), -1).float() / 255, None).item()


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["library", "dataloader", "compute_floor"])
def test_each_loop_trains_algorithm_1s_model(loop):
    images = load_mnist("train").images[:2048]
    untrained = _mse(bench._model(CPU), images[:256])
    seconds, model = {"library": lambda: bench.time_library(images, CPU),
                      "dataloader": lambda: bench.time_dataloader(CPU, warmup_batches=2, limit=2048),
                      "compute_floor": lambda: bench.time_compute_floor(images, CPU, warmup_steps=2)}[loop]()
    assert seconds > 0 and _mse(model, images[:256]) < 0.97 * untrained  # 8 to 16 Adam steps at 3e-4: a few per cent


@pytest.mark.slow
@pytest.mark.parametrize("way", ["library", "minimal", "compute_floor"])
def test_each_vae_loop_lowers_the_negative_elbo(way):
    from thesis_lib.experiments.vaes import LIKELIHOOD
    from thesis_lib.infra.training import evaluate

    images = load_mnist("train").images[:1000]
    torch.manual_seed(0)
    untrained = evaluate(LIKELIHOOD.build(), LIKELIHOOD.objective_function, images[:200])
    seconds, model = bench.time_vae(images, CPU, way, warmup_steps=1)
    assert seconds > 0 and evaluate(model, LIKELIHOOD.objective_function, images[:200]) < 0.9 * untrained


@pytest.mark.slow
def test_the_json_line_has_the_times_and_their_ratios():
    result = bench.run(CPU, limit=1024)
    assert set(result) == {"benchmark", "device", "threads", "torch", "library_s", "dataloader_s",
                           "compute_floor_s", "dataloader_over_library", "library_over_compute_floor",
                           "algorithm1_1000_epochs_min", "vae", "vae_library_s", "vae_minimal_s",
                           "vae_compute_floor_s", "vae_library_over_compute_floor"}
    assert "1024 images" in result["benchmark"] and result["device"].startswith("cpu")
    assert result["dataloader_over_library"] == pytest.approx(result["dataloader_s"] / result["library_s"], rel=0.05)
    assert result["vae_library_over_compute_floor"] == pytest.approx(
        result["vae_library_s"] / result["vae_compute_floor_s"], rel=0.05)
    assert result["algorithm1_1000_epochs_min"] == pytest.approx(result["library_s"] * 60_000 / 1024 * 1000 / 60,
                                                                 rel=0.05)
