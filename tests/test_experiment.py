"""Experiments identified by their spec: the cache key, load-or-train, and committed checkpoints that
do not match (a warning naming the fields, then training in the cache)."""

import hashlib
import json
import warnings
from pathlib import Path

import pytest
import scipy.special
import torch

from thesis_lib.autoencoders import Autoencoder
from thesis_lib.experiments import reproduce
from thesis_lib.experiments.datasets import DATASETS
from thesis_lib.experiments import experiment as experiment_module
from thesis_lib.experiments.experiment import (CommittedCheckpointMismatch, Experiment, committed_mismatch,
                                               load_or_train, registered, spec_differences, spec_key)
from thesis_lib.infra import paths
from thesis_lib.infra.checkpoints import CheckpointError, load_checkpoint, save_atomic, weights_digest
from thesis_lib.infra.config import TrainConfig
from thesis_lib.infra.data import load_mnist
from thesis_lib.infra.training import evaluate
from thesis_lib.networks import Layer
from thesis_lib.risk import cross_entropy_risk
from thesis_lib.vae import OUTPUT_BIAS_CLIP

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
    with pytest.raises(ValueError, match="^objective='mae' is not allowed; choose one of 'mse', 'cross-entropy', "
                                         "'negative-elbo', 'beta-negative-elbo', 'negative-iwae-bound-k5', "):
        Experiment("x", CLASSIFIER, "mae", "mnist", config())
    with pytest.raises(ValueError, match="^data='cifar' is not allowed; choose one of 'mnist', 'labelled-mnist', "
                                         "'generator-digits', "):
        Experiment("x", CLASSIFIER, "mse", "cifar", config())
    with pytest.raises(ValueError, match=r"^curve_epochs=\(1, 3\) is set but the experiment has no curve to measure$"):
        Experiment("x", CLASSIFIER, "mse", "mnist", config(), curve_epochs=(1, 3))
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
    assert whole["train_objective"] == evaluate(model, cross_entropy_risk, train_x, train_y)
    assert whole["train_objective"] != limited["train_objective"]


VAE_WITH_DATA_BIAS = {"kind": "vae", "widths": [784, 16], "latent": 2, "activation": "relu", "beta": 1.0,
                      "output_bias": "train-mean-logit"}


def counted(monkeypatch, name, data):
    """Register ``data`` as dataset ``name``; the list it returns grows by one on every load."""
    loads = []
    monkeypatch.setitem(DATASETS, name, lambda: loads.append(name) or data())
    return loads


def test_a_model_reads_the_training_images_only_when_its_initialisation_needs_them(monkeypatch):
    """A data-initialised output bias (Burda et al.'s) comes from the experiment's own images when none
    are passed, the same as passing them; a randomly initialised model never loads its data."""
    loads = counted(monkeypatch, "tiny-counted", tiny_data)
    Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny-counted", config()).build()
    assert loads == []
    vae = Experiment("vae", VAE_WITH_DATA_BIAS, "negative-elbo", "tiny-counted", config())
    torch.manual_seed(0)
    own = vae.build()
    torch.manual_seed(0)
    passed = vae.build(tiny_data()[0])
    assert loads == ["tiny-counted"]
    assert weights_digest(own.state_dict()) == weights_digest(passed.state_dict())
    mean = tiny_data()[0].reshape(1000, -1).double().mean(0).numpy() / 255
    torch.testing.assert_close(own.decoder.layers[-1].b.double(),
                               torch.from_numpy(scipy.special.logit(mean.clip(OUTPUT_BIAS_CLIP, 1 - OUTPUT_BIAS_CLIP))))


def test_load_or_train_loads_the_data_once_committed_or_not(monkeypatch, cache, committed):
    """The spec, the data-initialised model and the committed checkpoint's check share one load."""
    loads = counted(monkeypatch, "tiny-counted", tiny_data)
    vae = Experiment("vae", VAE_WITH_DATA_BIAS, "negative-elbo", "tiny-counted", config())
    _, trained = load_or_train(vae, "quick", device="cpu", progress=False)
    assert trained.origin == "trained" and len(loads) == 1
    reproduce.reproduce(vae, device=torch.device("cpu"))
    loads.clear()
    _, loaded = load_or_train(vae, "quick", device="cpu", progress=False)
    assert loaded.origin.startswith("committed checkpoint") and len(loads) == 1


def test_the_spec_is_the_documented_plain_values(tiny):
    """Every field by name, the data's md5 over dtypes, shapes and bytes computed here with hashlib."""
    train_x, train_y, _, _ = tiny_data()
    md5 = hashlib.md5()
    for t in (train_x, train_y):
        md5.update(str((t.dtype, tuple(t.shape))).encode())
        md5.update(t.numpy().tobytes())
    assert tiny.spec("quick", tiny_data()) == tiny.spec("quick") == {
        "spec_version": 1, "name": "tiny", "architecture": CLASSIFIER, "objective": "cross-entropy",
        "data": {"name": "tiny", "md5": md5.hexdigest()},
        "training": {k: v for k, v in config()("quick").as_dict().items() if k != "epochs"}}


def test_the_key_is_the_sha256_of_the_canonical_json_and_matches_a_committed_manifest():
    """Sorted keys, 16 hex digits; the key that ``make reproduce`` wrote for clf-adam when it trained."""
    assert spec_key({"b": 1, "a": [1, 2]}) == hashlib.sha256(b'{"a": [1, 2], "b": 1}').hexdigest()[:16]
    manifest = json.loads((paths.COMMITTED_DIR / "clf-adam.json").read_text())
    assert spec_key(registered()["clf-adam"].spec("full")) == manifest["key"]


def test_a_field_that_changes_between_a_value_and_a_group_is_one_difference():
    assert spec_differences({"a": {"x": 1}, "b": 2}, {"a": 3, "b": {"y": 2}}) == [
        "a: committed {'x': 1}, now 3", "b: committed 2, now {'y': 2}"]


def test_no_committed_checkpoint_is_absent_and_trains_without_a_warning(tiny, committed):
    assert committed_mismatch(tiny, "quick") == "absent"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, history = tiny.trained("quick", device="cpu", progress=False)
    assert history.origin == "trained"


def test_the_mismatch_names_every_differing_field_and_a_manifest_without_spec_key_or_epochs(tiny, committed):
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    changed = Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny",
                         lambda budget: TrainConfig(epochs=1, batch_size=50, lr=2e-3))
    assert committed_mismatch(changed, "quick") == ("it was trained for another spec: training.batch_size: "
                                                    "committed 100, now 50; training.lr: committed 0.001, now 0.002")
    path = committed / "tiny.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "spec"}))
    assert committed_mismatch(changed, "quick").startswith(
        "it was trained for another spec: architecture: committed '(absent)', now {'kind': 'dense', ")
    path.write_text(json.dumps(manifest | {"key": "0123456789abcdef"}))
    assert committed_mismatch(tiny, "quick") == ("it was trained for another spec: (no field differs: the "
                                                 "manifest's key is not its spec's)")
    path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "epochs"}))
    assert committed_mismatch(tiny, "quick") == "it has None epochs but this budget asks for 1"


@pytest.mark.skipif("mutants" in Path(experiment_module.__file__).parts,
                    reason="under mutmut, its trampolines add frames between the caller and the library")
def test_the_warning_points_at_the_callers_line(tiny, committed):
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    changed = Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny", config(lr=2e-3))
    with pytest.warns(CommittedCheckpointMismatch) as record:
        changed.trained("quick", device="cpu", progress=False)
    assert record[0].filename == __file__


def test_use_committed_false_trains_even_where_a_committed_checkpoint_serves(tiny, committed, cache):
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tiny.trained("full", device="cpu", progress=False, use_committed=False)[1].origin == "cache"
    _, history = load_or_train(tiny, "quick", device="cpu", progress=False)
    assert history.origin.startswith("committed checkpoint") and history.extra["key"] == spec_key(tiny.spec("quick"))


def test_a_committed_checkpoint_that_is_not_its_manifests_is_refused(tiny, committed):
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    state = load_checkpoint(committed / "tiny.pt")
    save_atomic(state | {"key": "0123456789abcdef"}, committed / "tiny.pt")
    with pytest.raises(CheckpointError, match="belongs to configuration '0123456789abcdef'"):
        tiny.trained("quick", device="cpu", progress=False)


def test_a_committed_model_moves_to_the_device_asked_for(tiny, committed, monkeypatch):
    """A second device faked on a CPU-only machine: ``"elsewhere"`` resolves to the meta device."""
    reproduce.reproduce(tiny, device=torch.device("cpu"))
    real = experiment_module.resolve_device
    monkeypatch.setattr(experiment_module, "resolve_device",
                        lambda device: torch.device("meta") if device == "elsewhere" else real(device))
    model, _ = load_or_train(tiny, "quick", device="elsewhere", progress=False)
    assert {p.device.type for p in model.parameters()} == {"meta"}


def test_trained_hands_its_options_and_its_devices_budget_to_load_or_train(tiny, monkeypatch):
    calls = []
    monkeypatch.setattr(experiment_module, "resolve_device", lambda device: f"resolved {device}")
    monkeypatch.setattr(experiment_module, "active_budget", lambda device: f"budget of {device}")
    monkeypatch.setattr(experiment_module, "load_or_train", lambda *args, **kwargs: calls.append((args, kwargs)))
    tiny.trained(device="gpu", progress=False, use_committed=False, step="static", every=3)
    tiny.trained("full")
    assert calls == [((tiny, "budget of resolved gpu"), dict(device="resolved gpu", progress=False,
                                                             use_committed=False, step="static", every=3)),
                     ((tiny, "full"), dict(device="resolved None", progress=None, use_committed=True, step="eager",
                                           every=1))]


def test_load_or_train_hands_fit_the_callers_options_and_the_experiments_data(tiny, cache, monkeypatch):
    seen = []
    real = experiment_module.fit

    def spy(*args, **kwargs):
        seen.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(experiment_module, "fit", spy)
    load_or_train(tiny, "quick", device="cpu", progress=False)
    load_or_train(tiny, "full", device=torch.device("cpu"), progress=False, use_committed=False, step="static",
                  every=2)
    train_x, train_y, test_x, test_y = tiny_data()
    for (args, kwargs), options in zip(seen, [dict(device="cpu", step="eager", every=1),
                                              dict(device=torch.device("cpu"), step="static", every=2)], strict=True):
        assert torch.equal(args[2], train_x) and args[1] is cross_entropy_risk
        assert all(torch.equal(kwargs[k], v) for k, v in dict(train_y=train_y, test_x=test_x, test_y=test_y).items())
        assert {k: kwargs[k] for k in options} == options and kwargs["progress"] is False
        assert kwargs["desc"] == "tiny" and kwargs["key"] == spec_key(kwargs["spec"])


def test_a_curve_is_measured_at_its_epochs_at_the_full_budget_only(monkeypatch, cache):
    monkeypatch.setitem(DATASETS, "tiny", tiny_data)
    with_curve = Experiment("tiny", CLASSIFIER, "cross-entropy", "tiny", config(),
                            curve=lambda model: {"norm": model.layers[0].W.norm().item()}, curve_epochs=(2,))
    model, full = with_curve.trained("full", device="cpu", progress=False)
    assert full.extra["curve"] == {"2": {"norm": model.layers[0].W.norm().item()}}
    assert "curve" not in with_curve.trained("quick", device="cpu", progress=False)[1].extra


def test_metrics_of_a_model_without_targets_leave_them_out(monkeypatch):
    """An autoencoder's data has no labels: the objective gets ``None`` as its targets."""
    from thesis_lib.losses import reconstruction_mse

    monkeypatch.setitem(DATASETS, "tiny-images", lambda: (tiny_data()[0], None, tiny_data()[2], None))
    autoencoder = Experiment("ae", {"kind": "mirrored-autoencoder", "widths": [784, 8], "activation": "relu",
                                    "bottleneck_activation": "identity", "output_activation": "sigmoid"},
                             "mse", "tiny-images", config(), metric_rows=300)
    torch.manual_seed(0)
    model = autoencoder.build()
    assert autoencoder.metrics(model) == {
        "train_objective": evaluate(model, reconstruction_mse, tiny_data()[0][:300]),
        "test_objective": evaluate(model, reconstruction_mse, tiny_data()[2][:300])}
