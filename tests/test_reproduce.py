"""``make reproduce``: a checkpoint and a manifest that the chapters then load instead of training."""

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib.book import pages
from thesis_lib.experiments import reproduce
from thesis_lib.experiments.datasets import DATASETS
from thesis_lib.experiments.experiment import Experiment, spec_key
from thesis_lib.infra import checkpoints, paths
from thesis_lib.infra.config import TrainConfig
from thesis_lib.infra.data import load_mnist


def small_data():
    train_set, test_set = load_mnist("train"), load_mnist("test")
    return train_set.images[:500], train_set.labels[:500], test_set.images[:200], test_set.labels[:200]


def weight_norm(model: nn.Module) -> dict[str, float]:
    return {"weight_norm": sum(p.norm() for p in model.parameters()).item()}


LINEAR = {"kind": "dense", "widths": [784, 10], "activation": "identity", "output_activation": "identity"}


@pytest.fixture
def small(monkeypatch):
    """A linear classifier on 500 MNIST images, registered as an experiment for the test's duration."""
    monkeypatch.setitem(DATASETS, "small-mnist", small_data)
    return Experiment("small", LINEAR, "cross-entropy", "small-mnist",
                      lambda budget: TrainConfig(epochs={"quick": 1, "full": 3}[budget], batch_size=100, lr=1e-2),
                      "a linear classifier", evaluation=weight_norm)


@pytest.fixture
def committed(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "COMMITTED_DIR", tmp_path / "checkpoints")
    monkeypatch.setenv("THESIS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "checkpoints"


def test_reproduce_writes_a_checkpoint_and_a_manifest_the_chapters_then_load(small, committed):
    manifest = reproduce.reproduce(small, device=torch.device("cpu"))
    assert json.loads((committed / "small.json").read_text()) == manifest
    assert sorted(p.name for p in committed.iterdir()) == ["small.json", "small.pt"]  # no temporary files left
    key = spec_key(small.spec("full"))
    assert manifest["key"] == key and manifest["epochs"] == 3 and manifest["budget"] == "full"
    assert manifest["spec"]["architecture"] == LINEAR and manifest["spec"]["data"]["name"] == "small-mnist"
    state = checkpoints.load_checkpoint(committed / "small.pt", key)
    assert "optimizer" not in state and "rng" not in state  # the user's cache keeps those to resume
    assert state["spec"] == manifest["spec"] and state["config"] == manifest["config"]
    cached = checkpoints.load_checkpoint(checkpoints.cache_dir() / f"small-{key}-e3.pt", key)
    assert "optimizer" in cached and state["history"] == cached["history"]
    model = small.build()
    model.load_state_dict(state["model"])
    train_x, train_y, test_x, test_y = small_data()
    with torch.no_grad():  # the mean cross-entropy of the committed weights, computed here with torch
        model.double()
        expected = {"train_objective": F.cross_entropy(model(train_x.reshape(500, -1).double() / 255), train_y),
                    "test_objective": F.cross_entropy(model(test_x.reshape(200, -1).double() / 255), test_y)}
        model.float()
    assert manifest["metrics"] == pytest.approx({k: v.item() for k, v in expected.items()}, rel=1e-5)
    assert manifest["evaluation"] == weight_norm(model)

    loaded, history = small.trained("quick", device="cpu")  # the key ignores epochs: 3 >= 1, so it loads
    assert history.origin.startswith("committed checkpoint") and history.epochs == 3
    assert checkpoints.weights_digest(loaded.state_dict()) == checkpoints.weights_digest(model.state_dict())


def test_a_run_in_progress_is_committed_parked_and_continued_to_the_same_weights(small, committed, tmp_path,
                                                                                monkeypatch):
    straight = reproduce.reproduce(small, device=torch.device("cpu"))
    straight_weights = checkpoints.weights_digest(checkpoints.load_checkpoint(committed / "small.pt")["model"])
    monkeypatch.setenv("THESIS_CACHE", str(tmp_path / "first-machine"))
    partial = reproduce.reproduce(small, device=torch.device("cpu"), epochs=2)
    assert partial["epochs"] == 2 and partial["of_epochs"] == 3 and partial["config"]["epochs"] == 2
    parked = reproduce.parked_path("small")
    assert parked == committed / "in-progress" / "small.pt"
    assert "optimizer" in checkpoints.load_checkpoint(parked) and "| `small` | cross-entropy | 2 of 3 |" in pages.results_markdown(committed)
    loaded, history = small.trained("quick", device="cpu")  # a run in progress serves the quick budget
    assert history.origin.startswith("committed checkpoint") and history.epochs == 2

    monkeypatch.setenv("THESIS_CACHE", str(tmp_path / "second-machine"))  # an empty cache: only the parked state
    continued = reproduce.reproduce(small, device=torch.device("cpu"))
    assert continued["history"]["origin"] == "resumed after epoch 2" and "of_epochs" not in continued
    assert continued["history"]["train"] == straight["history"]["train"]
    weights = checkpoints.weights_digest(checkpoints.load_checkpoint(committed / "small.pt")["model"])
    assert weights == straight_weights and not parked.exists()
    with pytest.raises(ValueError, match="epochs=3 is not allowed; a run in progress stops after 1 to 2 of"):
        reproduce.reproduce(small, device=torch.device("cpu"), epochs=3)


def test_results_page_lists_the_committed_checkpoints(small, committed, tmp_path):
    assert "No full-budget checkpoint is committed yet" in pages.results_markdown(tmp_path / "nothing")
    manifest = reproduce.reproduce(small, device=torch.device("cpu"))
    table = pages.results_markdown(committed)
    row = next(line for line in table.splitlines() if line.startswith("| `small`"))
    metrics = manifest["metrics"]
    assert row == (f"| `small` | cross-entropy | 3 | {manifest['wall_time_s'] / 60:.1f} min | "
                   f"{metrics['train_objective']:#.4g} | {metrics['test_objective']:#.4g} |")
    detail = next(line for line in table.splitlines() if line.startswith("- `small`"))
    assert "Batch 100, lr 0.01;" in detail and f"weight norm **{manifest['evaluation']['weight_norm']:#.4g}**" in detail


def test_an_unknown_experiment_name_is_refused_with_the_known_names(capsys):
    with pytest.raises(SystemExit) as exit_info:
        reproduce.main(["ae-alg1-relu", "no-such-model"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown experiment(s) ['no-such-model']; choose from" in err and "'vae-mnist-nll'" in err
