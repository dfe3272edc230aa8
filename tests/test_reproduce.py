"""``make reproduce``: a checkpoint and a manifest that the chapters then load instead of training."""

import json
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib import reproduce, train
from thesis_lib.config import TrainConfig
from thesis_lib.data import load_mnist
from thesis_lib.train import Experiment, experiment_key, load_checkpoint, tensor_digest


def small_model() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def cross_entropy(model, x, y):
    return F.cross_entropy(model(x), y)


def small_data():
    train_set, test_set = load_mnist("train"), load_mnist("test")
    return train_set.images[:500], train_set.labels[:500], test_set.images[:200], test_set.labels[:200]


def weight_norm(model: nn.Module) -> dict[str, float]:
    return {"weight_norm": model[1].weight.norm().item()}


SMALL = Experiment("small", small_model, cross_entropy,
                   lambda budget: TrainConfig(epochs={"quick": 1, "full": 3}[budget], batch_size=100, lr=1e-2),
                   small_data, "a linear classifier", evaluation=weight_norm)


@pytest.fixture
def committed(tmp_path, monkeypatch):
    monkeypatch.setattr(train, "COMMITTED_DIR", tmp_path / "checkpoints")
    monkeypatch.setattr(reproduce, "COMMITTED_DIR", tmp_path / "checkpoints")
    monkeypatch.setenv("THESIS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "checkpoints"


def test_reproduce_writes_a_checkpoint_and_a_manifest_the_chapters_then_load(committed):
    manifest = reproduce.reproduce(SMALL, device=torch.device("cpu"))
    assert json.loads((committed / "small.json").read_text()) == manifest
    assert sorted(p.name for p in committed.iterdir()) == ["small.json", "small.pt"]  # no temporary files left
    train_x, train_y, _, _ = SMALL.data()
    key = experiment_key("small", small_model(), cross_entropy, SMALL.config("full"), tensor_digest(train_x, train_y))
    assert manifest["key"] == key and manifest["epochs"] == 3 and manifest["budget"] == "full"
    state = load_checkpoint(committed / "small.pt", key)
    assert "optimizer" not in state and "rng" not in state  # the user's cache keeps those to resume
    cached = load_checkpoint(train.cache_dir() / f"small-{key}-e3.pt", key)
    assert "optimizer" in cached and state["history"] == cached["history"]
    model = small_model()
    model.load_state_dict(state["model"])
    assert manifest["metrics"] == SMALL.metrics(model)
    assert manifest["evaluation"] == weight_norm(model)

    loaded, history = SMALL.trained("quick", device="cpu")  # the key ignores epochs: 3 >= 1, so it loads
    assert history.origin.startswith("committed checkpoint") and history.epochs == 3
    assert torch.equal(loaded[1].weight, model[1].weight)


def test_results_page_lists_the_committed_checkpoints(committed, tmp_path):
    from thesis_lib import book

    assert "No full-budget checkpoint is committed yet" in book.results_markdown(tmp_path / "nothing")
    manifest = reproduce.reproduce(SMALL, device=torch.device("cpu"))
    table = book.results_markdown(committed)
    row = next(line for line in table.splitlines() if line.startswith("| `small`"))
    metrics = manifest["metrics"]
    assert row == (f"| `small` | 3 | {manifest['wall_time_s'] / 60:.1f} min | {metrics['train_objective']:#.4g} "
                   f"| {metrics['test_objective']:#.4g} |")
    detail = next(line for line in table.splitlines() if line.startswith("- `small`"))
    assert "Batch 100, lr 0.01;" in detail and f"weight norm **{manifest['evaluation']['weight_norm']:#.4g}**" in detail


def test_manifests_come_in_natural_order_of_name(tmp_path):
    from thesis_lib import book

    names = ["vae-beta-4", "ae-sweep-10", "vae-beta-0.5", "ae-sweep-2", "ae-alg1-relu", "vae-beta-1"]
    for name in names:
        (tmp_path / f"{name}.json").write_text(json.dumps({"name": name}))
    assert [m["name"] for m in book.manifests(tmp_path)] == [
        "ae-alg1-relu", "ae-sweep-2", "ae-sweep-10", "vae-beta-0.5", "vae-beta-1", "vae-beta-4"]


def test_an_unknown_experiment_name_is_refused_with_the_known_names(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["thesis_lib.reproduce", "ae-alg1-relu", "no-such-model"])
    with pytest.raises(SystemExit) as exit_info:
        reproduce.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown experiment(s) ['no-such-model']; choose from" in err and "'vae-mnist-nll'" in err
