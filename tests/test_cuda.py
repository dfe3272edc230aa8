"""On a CUDA device (skipped without one): the loop trains what the CPU trains, the graph step what the
eager step trains, checkpoints move between the CPU and CUDA, and the committed models score on CUDA
what their manifests say. ``make test-gpu`` runs these with the library tests and every chapter.

Tolerances follow the precision policy (:mod:`thesis_lib.infra.device`: full fp32 on CUDA too): the
two devices sum in other orders, so results agree to fp32 rounding grown over a few hundred steps,
not bit for bit."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib.infra.checkpoints import load_checkpoint
from thesis_lib.infra.config import TrainConfig
from thesis_lib.infra.data import load_mnist
from thesis_lib.infra.device import PRECISION_POLICY, precision_in_force
from thesis_lib.infra.training import fit

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CONFIG = TrainConfig(epochs=3, batch_size=100, lr=1e-3, seed=7)
#: a few hundred fp32 Adam steps on two devices: relative agreement of losses and weights
RTOL, ATOL = 1e-3, 1e-5


def classifier() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.Tanh(), nn.Linear(64, 10))


def cross_entropy(model, x, y):
    return F.cross_entropy(model(x), y)


def run(device, step="eager", config=CONFIG, **kw):
    train = load_mnist("train")
    model = classifier()
    history = fit(model, cross_entropy, train.images[:2050], train_y=train.labels[:2050], config=config,
                  test_x=train.images[:500], test_y=train.labels[:500], device=device, progress=False,
                  step=step, **kw)
    return model.cpu(), history


def assert_same_training(a, b, rtol=RTOL, atol=ATOL):
    (model_a, history_a), (model_b, history_b) = a, b
    torch.testing.assert_close(torch.tensor(history_a.train), torch.tensor(history_b.train), rtol=rtol, atol=0)
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=rtol, atol=atol)


def test_the_policy_is_in_force_on_the_device():
    assert precision_in_force() == PRECISION_POLICY


def test_a_few_epochs_on_cuda_train_what_the_cpu_trains():
    assert_same_training(run("cuda"), run("cpu"))


def test_the_graph_step_trains_what_the_static_step_trains():
    """Same buffers, optimiser and partial last batch (2,050 = 20 · 100 + 50); only the graph differs."""
    assert_same_training(run("cuda", "graph"), run("cuda", "static"), rtol=1e-5, atol=1e-7)
    assert_same_training(run("cuda", "graph"), run("cuda", "eager"))


def test_the_graph_step_trains_a_vae_with_warmup_and_schedule():
    from thesis_lib.experiments.vaes import RECIPE
    from thesis_lib.infra.training import evaluate

    images = load_mnist("train").images[:3000]
    torch.manual_seed(0)
    model = RECIPE.build(images)
    untrained = evaluate(model, RECIPE.objective_function, images[:500])
    config = TrainConfig(epochs=3, batch_size=100, lr=1e-3, adam_eps=1e-4, lr_schedule="burda", kl_warmup_epochs=2)
    history = fit(model, RECIPE.objective_function, images, config=config, device="cuda", progress=False, step="graph")
    assert all(math.isfinite(v) for v in history.train)
    assert evaluate(model, RECIPE.objective_function, images[:500]) < 0.8 * untrained


@pytest.mark.parametrize("first, then", [("cpu", "cuda"), ("cuda", "cpu")])
def test_a_checkpoint_resumes_on_the_other_device(tmp_path, first, then):
    path = tmp_path / "run.pt"
    run(first, config=TrainConfig(epochs=1, batch_size=100, lr=1e-3, seed=7), checkpoint=path)
    resumed = run(then, checkpoint=path)
    assert resumed[1].origin == "resumed after epoch 1" and resumed[1].extra["devices"] == [f"{first} until epoch 1"]
    assert_same_training(resumed, run("cpu"))


def test_a_resumed_cuda_run_draws_the_noise_of_an_uninterrupted_one(tmp_path):
    """The CUDA generator's state is saved and restored: a VAE run (binarisation and reparameterisation
    draw on the device) resumed after one epoch ends where the uninterrupted run ends."""
    from thesis_lib.vae import VAE, negative_elbo

    images = load_mnist("train").images[:1000]
    config = TrainConfig(epochs=3, batch_size=100, lr=1e-3)

    def vae_run(**kw):
        torch.manual_seed(0)
        model = VAE((784, 64), 8)
        return model, fit(model, negative_elbo, images, config=config, device="cuda", progress=False, **kw)

    whole_model, whole = vae_run()
    path = tmp_path / "vae.pt"

    class Stop(Exception):
        pass

    def stop(epoch, history):
        raise Stop

    with pytest.raises(Stop):
        vae_run(checkpoint=path, on_epoch_end=stop)
    assert load_checkpoint(path)["rng"]["device"] is not None
    model, resumed = vae_run(checkpoint=path)
    assert_same_training((model.cpu(), resumed), (whole_model.cpu(), whole), rtol=1e-5, atol=1e-7)


def test_every_committed_checkpoint_scores_its_manifest_on_cuda():
    from thesis_lib.book import pages
    from thesis_lib.experiments.experiment import registered

    for manifest in pages.manifests():
        experiment = registered()[manifest["name"]]
        model, history = experiment.trained("quick" if "of_epochs" in manifest else "full", device="cuda")
        assert history.origin.startswith("committed checkpoint")
        metrics = experiment.metrics(model)
        for name, value in manifest["metrics"].items():
            assert math.isclose(metrics[name], value, rel_tol=1e-3), f"{experiment.name} {name}: {metrics[name]} vs {value}"
