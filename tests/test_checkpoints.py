"""Every committed full-budget checkpoint still gives the numbers its manifest states, under the key
of its experiment's spec, with the weights it had before the spec migration."""

import dataclasses
import json
import math

import pytest

from thesis_lib.book import pages
from thesis_lib.experiments.experiment import registered, spec_key
from thesis_lib.infra.checkpoints import committed_path, load_checkpoint, weights_digest
from thesis_lib.infra.paths import COMMITTED_DIR

MANIFESTS = pages.manifests()
SLOTS = json.loads((COMMITTED_DIR / "migrations" / "composed-slots.json").read_text())
#: the spec-v1 record of each checkpoint that later migrations neither removed nor retrained
MIGRATION = {name: record for name, record in
             json.loads((COMMITTED_DIR / "migrations" / "spec-v1.json").read_text())["checkpoints"].items()
             if name not in SLOTS["removed"] and name not in SLOTS["retrained"]}


def trained_config(experiment, manifest):
    """The configuration of a committed run: the full budget's, through its epochs for a run in progress."""
    full = experiment.config("full")
    if "of_epochs" not in manifest:
        return full
    assert manifest["of_epochs"] == full.epochs > manifest["epochs"]
    return dataclasses.replace(full, epochs=manifest["epochs"])


def test_every_committed_checkpoint_has_a_manifest_and_an_experiment():
    names = {p.stem for p in COMMITTED_DIR.glob("*.pt")}
    assert names == {m["name"] for m in MANIFESTS}
    assert set(MIGRATION) <= names, "a checkpoint recorded by the spec-v1 migration is missing"
    assert names <= set(registered())


def test_the_composed_slots_migration_removed_and_retrained_what_it_says():
    names = {p.stem for p in COMMITTED_DIR.glob("*.pt")}
    assert not set(SLOTS["removed"]) & (names | set(registered())), "a removed checkpoint or experiment is back"
    for name, record in SLOTS["retrained"].items():
        manifest = json.loads(committed_path(name, ".json").read_text())
        assert manifest["key"] == record["key"] != record["key_before"], name


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["name"] for m in MANIFESTS])
def test_checkpoint_and_manifest_agree_with_the_spec(manifest):
    experiment = registered()[manifest["name"]]
    spec = experiment.spec("full")
    key = spec_key(spec)
    migrated = MIGRATION.get(experiment.name, {"key": key})  # checkpoints made under spec v1 have no record
    assert manifest["spec"] == spec and manifest["key"] == key == migrated["key"], (
        f"{experiment.name}: the code now defines another experiment than the committed checkpoint; "
        "run `make reproduce` again")
    state = load_checkpoint(committed_path(experiment.name, ".pt"), key)
    assert state["spec"] == spec
    config = trained_config(experiment, manifest)
    assert state["config"] == manifest["config"] == config.as_dict()
    assert state["history"]["epochs"] == manifest["epochs"] >= config.epochs
    assert weights_digest(state["model"]) == migrated.get("weights_md5", weights_digest(state["model"])), (
        f"{experiment.name}: the committed weights differ from those the spec migration recorded")


@pytest.mark.slow
@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["name"] for m in MANIFESTS])
def test_committed_checkpoint_matches_its_manifest(manifest):
    experiment = registered()[manifest["name"]]
    model, history = experiment.trained("quick" if "of_epochs" in manifest else "full", device="cpu")
    assert history.origin.startswith("committed checkpoint")
    metrics = experiment.metrics(model.cpu())
    assert manifest.get("metric_rows") == experiment.metric_rows
    for name, value in manifest["metrics"].items():
        assert math.isclose(metrics[name], value, rel_tol=1e-4), f"{experiment.name} {name}: {metrics[name]} vs {value}"


def test_the_committed_relu_autoencoder_meets_the_full_budget_target():
    from thesis_lib.experiments import autoencoders as ae

    manifest = next(m for m in MANIFESTS if m["name"] == ae.ALG1_RELU.name)
    assert manifest["metrics"]["test_objective"] <= ae.ALG1_RELU_TARGET_MSE < ae.PCA3_TEST_MSE


def test_every_parked_resume_state_continues_its_committed_run_in_progress():
    from thesis_lib.experiments.reproduce import parked_path

    for path in sorted((COMMITTED_DIR / "in-progress").glob("*.pt")):
        manifest = next(m for m in MANIFESTS if m["name"] == path.stem)
        assert path == parked_path(manifest["name"]) and "of_epochs" in manifest, f"{path.name}: no run in progress"
        state = load_checkpoint(path, manifest["key"])
        assert state["history"]["epochs"] == manifest["epochs"] and {"optimizer", "rng"} <= set(state)
