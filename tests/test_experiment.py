"""Experiments identified by their spec: the cache key, load-or-train, and committed checkpoints that
do not match (a warning naming the fields, then training in the cache)."""

import warnings

import pytest
import torch

from thesis_lib.autoencoders import Autoencoder
from thesis_lib.experiments import reproduce
from thesis_lib.experiments.datasets import DATASETS
from thesis_lib.experiments.experiment import (CommittedCheckpointMismatch, Experiment, registered,
                                               spec_differences, spec_key)
from thesis_lib.infra import paths
from thesis_lib.infra.checkpoints import CheckpointError, weights_digest
from thesis_lib.infra.config import TrainConfig
from thesis_lib.infra.data import load_mnist
from thesis_lib.networks import Layer
from thesis_lib.risk import cross_entropy_risk

CLASSIFIER = {"kind": "dense", "widths": [784, 16, 10], "activation": "relu", "output_activation": "identity"}


def tiny_data(n=1000):
    train = load_mnist("train")
    return train.images[:n], train.labels[:n], train.images[:200], train.labels[:200]


def config(lr=1e-3):
    return lambda budget: TrainConfig(epochs={"quick": 1, "full": 2}[budget], batch_size=100, lr=lr)


@pytest.fixture
def tiny(monkeypatch, cache):
    monkeypatch.setitem(DATASETS, "tiny", tiny_data)
    return Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny", config())


@pytest.fixture
def committed(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "COMMITTED_DIR", tmp_path / "checkpoints")
    return tmp_path / "checkpoints"


def test_trains_once_then_loads_from_the_cache_and_other_data_trains_again(tiny, cache, monkeypatch):
    m1, h1 = tiny.trained("quick", device="cpu", progress=False)
    m2, h2 = tiny.trained("quick", device="cpu", progress=False)
    assert (h1.origin, h2.origin) == ("trained", "cache") and h1.train == h2.train
    assert weights_digest(m1.state_dict()) == weights_digest(m2.state_dict())
    monkeypatch.setitem(DATASETS, "tiny", lambda: tiny_data(900))
    _, h3 = tiny.trained("quick", device="cpu", progress=False)
    assert h3.origin == "trained", "other data under the same name must not hit the cache"
    assert len(list(cache.glob("tiny-*.pt"))) == 2


def test_each_budget_has_its_own_cache_file_under_one_key(tiny, cache):
    _, short = tiny.trained("quick", device="cpu", progress=False)
    _, long = tiny.trained("full", device="cpu", progress=False)
    assert (short.epochs, long.epochs) == (1, 2) and short.extra["key"] == long.extra["key"]
    assert tiny.trained("quick", device="cpu", progress=False)[1].origin == "cache"
    assert sorted(p.name[-6:] for p in cache.glob("tiny-*.pt")) == ["-e1.pt", "-e2.pt"]


def test_the_key_ignores_repr_and_epochs_but_not_what_defines_the_model(tiny, monkeypatch):
    key = spec_key(tiny.spec("quick"))
    monkeypatch.setattr(Layer, "extra_repr", lambda self: "renamed")
    monkeypatch.setattr(cross_entropy_risk, "__qualname__", "renamed_risk")
    assert spec_key(tiny.spec("full")) == key
    wider = Experiment("tiny", CLASSIFIER | {"widths": [784, 32, 10]}, "cross-entropy", "tiny", config())
    faster = Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny", config(lr=1e-2))
    assert len({key, spec_key(wider.spec("quick")), spec_key(faster.spec("quick"))}) == 3


def test_a_committed_checkpoint_of_another_spec_is_named_and_not_used(tiny, committed):
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    changed = Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny", config(lr=2e-3))
    with pytest.warns(CommittedCheckpointMismatch, match=r"another spec: training\.lr: committed 0\.001, now 0\.002"):
        _, history = changed.trained("quick", device="cpu", progress=False)
    assert history.origin == "trained"


def test_a_too_short_committed_checkpoint_is_named_and_not_used(tiny, committed, monkeypatch):
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    longer = Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny",
                        lambda budget: TrainConfig(epochs=3, batch_size=100, lr=1e-3))
    with pytest.warns(CommittedCheckpointMismatch, match="has 2 epochs but this budget asks for 3"):
        _, history = longer.trained("full", device="cpu", progress=False)
    assert history.origin == "trained" and history.epochs == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, again = tiny.trained("quick", device="cpu", progress=False)
    assert again.origin.startswith("committed checkpoint")


def test_an_unwritable_cache_gives_a_clear_error_and_leaves_nothing(tiny, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("THESIS_CACHE", str(blocker / "cache"))
    with pytest.raises(CheckpointError, match="cannot write into .*THESIS_CACHE"):
        tiny.trained("quick", device="cpu", progress=False)
    assert blocker.read_text() == "a file where the cache folder should be"


def test_spec_differences_name_every_differing_leaf():
    a = {"architecture": {"widths": [1, 2], "kind": "dense"}, "training": {"lr": 1, "seed": 0}, "name": "x"}
    b = {"architecture": {"widths": [1, 3], "kind": "dense"}, "training": {"lr": 1}, "name": "x", "new": 1}
    assert spec_differences(a, b) == ["architecture.widths: committed [1, 2], now [1, 3]",
                                      "new: committed '(absent)', now 1",
                                      "training.seed: committed 0, now '(absent)'"]


def test_bad_experiment_fields_are_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match="objective='mae' is not allowed; choose one of 'mse'"):
        Experiment("x", CLASSIFIER, "mae", "mnist", config())
    with pytest.raises(ValueError, match="data='cifar' is not allowed; choose one of 'mnist'"):
        Experiment("x", CLASSIFIER, "mse", "cifar", config())
    with pytest.raises(ValueError, match="kl_warmup_epochs is set but objective='cross-entropy' has no KL term"):
        Experiment("x", CLASSIFIER, "cross-entropy", "mnist",
                   lambda budget: TrainConfig(epochs=1, batch_size=100, lr=1e-3, kl_warmup_epochs=2))
    with pytest.raises(ValueError, match="objective='negative-iwae-bound-k5' has no KL term to warm up; "
                                         "a warm-up is allowed with 'negative-elbo', 'beta-negative-elbo', "
                                         "'canvas-negative-elbo'$"):
        Experiment("x", CLASSIFIER, "negative-iwae-bound-k5", "mnist",
                   lambda budget: TrainConfig(epochs=1, batch_size=100, lr=1e-3, kl_warmup_epochs=2))


def test_every_registered_spec_builds_the_model_it_describes():
    for experiment in registered().values():
        model, arch = experiment.build(), experiment.architecture
        if arch["kind"] == "mirrored-autoencoder":
            assert isinstance(model, Autoencoder) and list(model.encoder.widths) == arch["widths"]
            assert model.encoder.activations[-1] == arch["bottleneck_activation"]
            assert model.decoder.activations[-1] == arch["output_activation"]
            assert set(model.encoder.activations[:-1]) <= {arch["activation"]}
        elif arch["kind"] == "vae":
            assert list(model.encoder.widths) == arch["widths"] + [2 * arch["latent"]]
            assert model.latent == arch["latent"] and model.beta == arch["beta"]
            assert model.encoder.activations[0] == arch["activation"]
        elif arch["kind"] == "dense":
            assert list(model.widths) == arch["widths"] and model.activations[-1] == arch["output_activation"]
        elif arch["kind"] == "conditional-vae":
            assert list(model.encoder.widths) == [arch["widths"][0] + 10] + arch["widths"][1:] + [2 * arch["latent"]]
            assert model.decoder.widths == (arch["latent"] + 10, *arch["widths"][::-1])
        elif arch["kind"] == "conv-classifier":
            assert model.head.in_features == arch["features"] and model.head.width == 10
            assert [m.kernel.shape[0] for m in model.modules() if hasattr(m, "kernel")] == arch["channels"]
        elif arch["kind"] == "slot-reader":
            assert [m.kernel.shape[0] for m in model.modules() if hasattr(m, "kernel")] == arch["channels"]
            assert model.body[-1].width == arch["features"]
        elif arch["kind"] == "conv-vae":
            assert [m.kernel.shape[0] for m in model.down] == arch["channels"]
            assert (model.latent, model.conditional) == (arch["latent"], arch["conditional"])
        else:
            assert model.bottleneck == arch["bottleneck"]


def test_the_page_note_names_committed_and_trained_models(tiny, committed):
    from thesis_lib.book.plots import models_note

    other = Experiment("other", CLASSIFIER, "cross-entropy", "tiny", config())
    assert "trained at the quick budget (1 epochs)" in models_note([tiny], "quick")
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    note = models_note([tiny, other], "quick")
    assert note.startswith("**Models on this page** (budget `quick`): 1 of the page's trained models (`tiny`) "
                           "are the committed full-budget checkpoints")
    assert note.endswith("`other` is trained at the quick budget (1 epochs) or taken from your cache.")
    assert models_note([tiny], "full").startswith("**Models on this page** (budget `full`): All 1 of")


def test_metric_rows_measures_the_objective_on_the_first_rows_of_each_split(tiny):
    import dataclasses

    from thesis_lib.infra.training import evaluate
    from thesis_lib.risk import cross_entropy_risk

    torch.manual_seed(0)
    model = tiny.build()
    train_x, train_y, test_x, test_y = tiny_data()
    limited = dataclasses.replace(tiny, metric_rows=150).metrics(model)
    assert limited == {"train_objective": evaluate(model, cross_entropy_risk, train_x[:150], train_y[:150]),
                       "test_objective": evaluate(model, cross_entropy_risk, test_x[:150], test_y[:150])}
    whole = tiny.metrics(model)
    assert whole["train_objective"] == evaluate(model, cross_entropy_risk, train_x, train_y) != limited["train_objective"]
