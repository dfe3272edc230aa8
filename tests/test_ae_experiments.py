"""The registered autoencoder experiments of §2.3: Algorithm 1's settings, widths and activations."""

import torch

from thesis_lib.experiments import autoencoders as ae
from thesis_lib.experiments.experiment import registered


def test_algorithm_1_settings():
    for exp in (ae.ALG1_LINEAR, ae.ALG1_RELU):
        full = exp.config("full")
        assert (full.epochs, full.batch_size, full.lr, full.optimizer) == (1000, 256, 3e-4, "adam")
        assert exp.config("quick").epochs < full.epochs
        assert exp.objective == "mse"
    linear, relu = ae.ALG1_LINEAR.build(), ae.ALG1_RELU.build()
    assert linear.widths == relu.widths == (784, 128, 64, 12, 3, 12, 64, 128, 784)
    assert set(linear.activations) == {"identity"}
    assert relu.activations == ("relu",) * 3 + ("identity",) + ("relu",) * 3 + ("identity",)


def test_every_experiment_builds_and_maps_images_to_images():
    names = [exp.name for exp in ae.EXPERIMENTS]
    assert len(names) == len(set(names)) and set(names) <= set(registered())
    assert {f"ae-sweep-{k}" for k in ae.BOTTLENECKS} <= set(names)
    for exp in ae.EXPERIMENTS:
        model = exp.build()
        pixels = 48 * 48 if exp is ae.COMPOSED else 784
        assert model(torch.rand(2, pixels)).shape == (2, pixels)
        assert exp.config("quick").epochs < exp.config("full").epochs
    for k, exp in ae.SWEEP.items():
        assert exp.build().bottleneck == k
        assert exp.build().widths[:4] == (784, 128, 64, max(12, k))
    composed = ae.COMPOSED.config("full")
    assert (composed.batch_size, composed.lr) == (64, 1e-3) and ae.COMPOSED.build().bottleneck == 32
    assert ae.COMPOSED.data == "composed-mnist" and ae.CONV.architecture == {"kind": "conv-autoencoder",
                                                                             "bottleneck": 3}
