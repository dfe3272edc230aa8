"""Every committed full-budget checkpoint still gives the numbers its manifest states."""

import math

import pytest

from thesis_lib import book
from thesis_lib.reproduce import registered
from thesis_lib.train import COMMITTED_DIR, experiment_key, load_checkpoint, tensor_digest

MANIFESTS = book.manifests()


@pytest.mark.slow
@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["name"] for m in MANIFESTS])
def test_committed_checkpoint_matches_its_manifest(manifest):
    experiments = registered()
    assert manifest["name"] in experiments, f"checkpoint {manifest['name']} has no registered experiment"
    experiment = experiments[manifest["name"]]
    model = experiment.build()
    train_x, train_y, _, _ = experiment.data()
    config = experiment.config("full")
    key = experiment_key(experiment.name, model, experiment.objective, config, tensor_digest(train_x, train_y))
    assert key == manifest["key"], (f"{experiment.name}: the code now defines another configuration than the "
                                    "committed checkpoint; run `make reproduce` again")
    state = load_checkpoint(COMMITTED_DIR / f"{experiment.name}.pt", key)
    assert state["history"]["epochs"] == manifest["epochs"] >= config.epochs
    model.load_state_dict(state["model"])
    metrics = experiment.metrics(model.cpu())
    for name, value in manifest["metrics"].items():
        assert math.isclose(metrics[name], value, rel_tol=1e-4), f"{experiment.name} {name}: {metrics[name]} vs {value}"
