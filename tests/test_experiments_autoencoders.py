"""thesis_lib.experiments.autoencoders: the registered autoencoder experiments of §2.3 against what Algorithm 1 and
the module's docstring state (settings, widths, activations, data), each mapping images to images."""

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


def test_each_autoencoder_has_its_stated_name_data_and_training_setting():
    """Algorithm 1's Adam, 3e-4, batch 256 for all but ae-composed (1e-3, batch 64); the sweep and the
    convolutional model 100 epochs at the full budget, Algorithm 1's two models 1000; all minimise the MSE."""
    settings = {exp.name: (exp.data, exp.config("full").batch_size, exp.config("full").lr, exp.config("full").optimizer,
                           exp.config("full").epochs) for exp in ae.EXPERIMENTS}
    assert settings == {"ae-alg1-linear": ("mnist", 256, 3e-4, "adam", 1000),
                        "ae-alg1-relu": ("mnist", 256, 3e-4, "adam", 1000),
                        **{f"ae-sweep-{k}": ("mnist", 256, 3e-4, "adam", 100) for k in (2, 3, 5, 10, 20)},
                        "ae-conv-3": ("mnist", 256, 3e-4, "adam", 100),
                        "ae-composed": ("composed-mnist", 64, 1e-3, "adam", 200)}
    assert {exp.objective for exp in ae.EXPERIMENTS} == {"mse"}


def test_the_relu_autoencoders_have_identity_bottleneck_and_output():
    for exp in (ae.ALG1_RELU, *ae.SWEEP.values(), ae.COMPOSED):
        model = exp.build()
        depth = len(model.activations) // 2
        assert model.activations == ("relu",) * (depth - 1) + ("identity",) + ("relu",) * (depth - 1) + ("identity",)
    assert ae.COMPOSED.build().widths == (2304, 64, 32, 64, 2304)
