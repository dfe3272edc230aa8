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


def test_the_json_line_gives_each_ways_median_and_minimum_over_interleaved_rounds(monkeypatch):
    """Rounds of known times (round r takes r + 1 times a way's base time, in a shuffled order): the
    medians, minima and ratios are those of the known times."""
    base = {"library": 2.0, "library_epoch": 2.2, "dataloader": 8.0, "compute_floor": 1.6, "vae_library": 5.0,
            "vae_library_epoch": 5.3, "vae_minimal": 4.8, "vae_compute_floor": 4.0}
    order = iter([3, 0, 4, 1, 2])
    monkeypatch.setattr(bench, "time_round", lambda *a: {k: v * (r + 1) for r in [next(order)]
                                                         for k, v in base.items()})
    result = bench.run(CPU, limit=1024, repeats=5)
    assert result["repeats"] == 5 and "1024 images" in result["benchmark"] and result["device"].startswith("cpu")
    for k, v in base.items():
        assert result[f"{k}_s"] == pytest.approx(3 * v) and result[f"{k}_min_s"] == pytest.approx(v)
    assert result["library_over_compute_floor"] == pytest.approx(2.0 / 1.6, abs=0.005)
    assert result["vae_library_over_compute_floor"] == pytest.approx(5.0 / 4.0, abs=0.005)
    assert result["dataloader_over_library"] == pytest.approx(4.0)
    assert result["algorithm1_1000_epochs_min"] == pytest.approx(3 * 2.2 * 60_000 / 1024 * 1000 / 60, abs=0.05)


@pytest.mark.slow
def test_a_round_times_every_way_on_the_cpu():
    images = load_mnist("train").images[:512]
    times = bench.time_round(images, load_mnist("test").images[:512], CPU, limit=512)
    assert set(times) == {"library", "library_epoch", "dataloader", "compute_floor", "vae_library",
                          "vae_library_epoch", "vae_minimal", "vae_compute_floor"}
    assert all(t > 0 for t in times.values())
