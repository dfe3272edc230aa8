"""``make reproduce``: train every registered experiment at the full budget and commit it.

Each model is written to ``checkpoints/<name>.pt`` with a manifest ``checkpoints/<name>.json``
(configuration, data md5, seed, epochs, device, wall time, final train/test metrics and the
experiment's ``evaluation`` if it has one). Training goes through the user's cache, so an
interrupted run resumes where it stopped. The committed file keeps the weights and the history but
not the optimiser and random states (:data:`RESUME_ONLY`, two thirds of an Adam checkpoint's size);
the cache keeps those for extending a run.

    python -m thesis_lib.reproduce            # all experiments
    python -m thesis_lib.reproduce NAME ...   # some of them
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import tempfile
from pathlib import Path

import torch

from .config import default_device
from .data import MNIST_FILES
from .train import COMMITTED_DIR, Experiment, cache_dir, load_checkpoint, save_atomic, tensor_digest

#: modules that define a list ``EXPERIMENTS`` of :class:`~thesis_lib.train.Experiment`
EXPERIMENT_MODULES = ("thesis_lib.optimiser_experiments", "thesis_lib.ae_experiments", "thesis_lib.vae_experiments")

#: checkpoint entries needed only to resume training, left out of the committed copy
RESUME_ONLY = ("optimizer", "rng")


def registered() -> dict[str, Experiment]:
    found: dict[str, Experiment] = {}
    for module_name in EXPERIMENT_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for experiment in module.EXPERIMENTS:
            found[experiment.name] = experiment
    return found


def _threads() -> str:
    n = torch.get_num_threads()
    return f"{n} thread" + ("" if n == 1 else "s")


def _write_json_atomic(obj: dict, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def reproduce(experiment: Experiment, device: torch.device | None = None) -> dict:
    """Train ``experiment`` at the full budget, copy its checkpoint into ``checkpoints/``, write the manifest."""
    device = device or default_device()
    model, history = experiment.trained("full", device=device, use_committed=False)
    train_x, train_y, _, _ = experiment.data()
    config, key = experiment.config("full"), history.extra["key"]
    state = load_checkpoint(cache_dir() / f"{experiment.name}-{key}-e{config.epochs}.pt", key)
    save_atomic({k: v for k, v in state.items() if k not in RESUME_ONLY}, COMMITTED_DIR / f"{experiment.name}.pt")
    evaluation = experiment.evaluation(model) if experiment.evaluation else {}  # on the training device
    manifest = {
        "name": experiment.name,
        "description": experiment.description,
        "key": key,
        "budget": "full",
        "config": config.as_dict(),
        "epochs": history.epochs,
        "seed": config.seed,
        "objective": f"{experiment.objective.__module__}.{experiment.objective.__qualname__}",
        "model": repr(model),
        "data_md5": {name: md5 for name, (_, md5) in MNIST_FILES.items()},
        "train_data_digest": tensor_digest(train_x, train_y),
        "device": str(device) + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else
                                 f" ({platform.processor() or platform.machine()}, {_threads()})"),
        "torch": torch.__version__,
        "wall_time_s": round(history.wall_time, 1),
        "metrics": experiment.metrics(model.cpu()),  # on the CPU, as the checkpoint test re-evaluates it
        "evaluation": evaluation,
        "history": dataclasses.asdict(history) | {"extra": {}},
    }
    _write_json_atomic(manifest, COMMITTED_DIR / f"{experiment.name}.json")
    return manifest


def main() -> None:
    experiments = registered()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"experiments to train (default: all of {sorted(experiments)})")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in experiments]
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; choose from {sorted(experiments)}")
    for name in args.names or experiments:
        manifest = reproduce(experiments[name])
        print(json.dumps({k: manifest[k] for k in ("name", "epochs", "device", "wall_time_s", "metrics")}))


if __name__ == "__main__":
    main()
