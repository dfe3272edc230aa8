"""``make reproduce``: train every registered experiment at the full budget and commit it.

Each model is written to ``checkpoints/<name>.pt`` with a manifest ``checkpoints/<name>.json``
(the experiment's spec and key, configuration, data md5, epochs, device, wall time, final
train/test metrics and the experiment's ``evaluation`` if it has one). Training goes through the
user's cache, so an interrupted run resumes where it stopped. The committed file keeps the
weights and the history but not the optimiser and random states (:data:`RESUME_ONLY`, two thirds
of an Adam checkpoint's size); the cache keeps those for extending a run.

    python -m thesis_lib.experiments.reproduce            # all experiments
    python -m thesis_lib.experiments.reproduce NAME ...   # some of them
    python -m thesis_lib.experiments.reproduce --epochs 364 NAME   # the first 364 epochs of its run

``--epochs N`` commits a run in progress: the full budget's configuration trained through its
first ``N`` epochs only (a schedule keyed by epoch is the same over those epochs). Its manifest says
``"of_epochs"``, the full run's length; the book shows such a model as "N of M epochs". Its resume
state (optimiser and random states too) is parked in ``checkpoints/in-progress/<name>.pt``, so a
later ``make reproduce`` on any machine continues the run from epoch N instead of starting over;
committing the full run removes the parked state.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
from pathlib import Path

import torch

from ..infra import paths
from ..infra.checkpoints import cache_dir, committed_path, load_checkpoint, save_atomic, write_json_atomic
from ..infra.device import resolve_device
from ..infra.mnist_files import MNIST_FILES
from .experiment import Experiment, registered, spec_key

#: checkpoint entries needed only to resume training, left out of the committed copy
RESUME_ONLY = ("optimizer", "rng")


def parked_path(name: str) -> Path:
    """``checkpoints/in-progress/<name>.pt``: the resume state of a committed run in progress."""
    return paths.COMMITTED_DIR / "in-progress" / f"{name}.pt"


def _unpark(experiment: Experiment, key: str, epochs: int) -> None:
    """Seed the cache of a run of ``epochs`` epochs from the parked state of the same spec, where
    that is further along than the cache and not past ``epochs``."""
    parked = parked_path(experiment.name)
    if not parked.exists():
        return
    state = load_checkpoint(parked, key)
    cached = cache_dir() / f"{experiment.name}-{key}-e{epochs}.pt"
    done = load_checkpoint(cached, key)["history"]["epochs"] if cached.exists() else 0
    if done < state["history"]["epochs"] <= epochs:
        save_atomic(state, cached)


def _threads() -> str:
    n = torch.get_num_threads()
    return f"{n} thread" + ("" if n == 1 else "s")


def reproduce(experiment: Experiment, device: torch.device | None = None, epochs: int | None = None,
              step: str = "eager", every: int = 1) -> dict:
    """Train ``experiment`` at the full budget, copy its checkpoint into ``checkpoints/``, write the
    manifest; with ``epochs``, only through that many epochs of the full run (a run in progress).
    ``step`` and ``every`` (:func:`~thesis_lib.infra.training.fit`) are recorded in the manifest when
    they are not the defaults."""
    device = resolve_device(device)
    full = experiment.config("full")
    if epochs is not None:
        if not 0 < epochs < full.epochs:
            raise ValueError(f"epochs={epochs} is not allowed; a run in progress stops after 1 to "
                             f"{full.epochs - 1} of the full budget's {full.epochs} epochs")
        original = experiment.config
        experiment = dataclasses.replace(experiment, config=lambda budget: dataclasses.replace(
            original(budget), epochs=epochs) if budget == "full" else original(budget))
    _unpark(experiment, spec_key(experiment.spec("full")), experiment.config("full").epochs)
    model, history = experiment.trained("full", device=device, use_committed=False, step=step, every=every)
    config, key = experiment.config("full"), history.extra["key"]
    state = load_checkpoint(cache_dir() / f"{experiment.name}-{key}-e{config.epochs}.pt", key)
    committed = {k: v for k, v in state.items() if k not in RESUME_ONLY} | {"config": config.as_dict()}
    save_atomic(committed, committed_path(experiment.name, ".pt"))
    parked = parked_path(experiment.name)
    if epochs is not None:
        parked.parent.mkdir(exist_ok=True)
        save_atomic(state, parked)
    else:
        parked.unlink(missing_ok=True)
    evaluation = experiment.evaluation(model) if experiment.evaluation else {}  # on the training device
    manifest = {
        "name": experiment.name,
        "description": experiment.description,
        "key": key,
        "spec": state["spec"],
        "budget": "full",
        "config": config.as_dict(),
        "epochs": history.epochs,
        **({"of_epochs": full.epochs} if epochs is not None else {}),
        "model": repr(model),
        "data_md5": {name: md5 for name, (_, md5) in MNIST_FILES.items()},
        "device": str(device) + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else
                                 f" ({platform.processor() or platform.machine()}, {_threads()})"),
        "torch": torch.__version__,
        "wall_time_s": round(history.wall_time, 1),
        **({"step": step} if step != "eager" else {}),
        **({"evaluated_every": every} if every != 1 else {}),
        "metrics": experiment.metrics(model.cpu()),  # on the CPU, as the checkpoint test re-evaluates it
        **({"metric_rows": experiment.metric_rows} if experiment.metric_rows else {}),
        "evaluation": evaluation,
        "history": dataclasses.asdict(history) | {"extra": {}},
    }
    write_json_atomic(manifest, committed_path(experiment.name, ".json"))
    return manifest


def main(argv: list[str] | None = None) -> None:
    experiments = registered()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"experiments to train (default: all of {sorted(experiments)})")
    parser.add_argument("--epochs", type=int, default=None,
                        help="commit a run in progress: only the first EPOCHS epochs of the full run")
    parser.add_argument("--step", default="eager", help="eager (default), or graph on CUDA: each step a CUDA graph")
    parser.add_argument("--every", type=int, default=1,
                        help="evaluate and checkpoint after every EVERY-th epoch and the last (default 1)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in experiments]
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; choose from {sorted(experiments)}")
    for name in args.names or experiments:
        manifest = reproduce(experiments[name], epochs=args.epochs, step=args.step, every=args.every)
        print(json.dumps({k: manifest[k] for k in ("name", "epochs", "device", "wall_time_s", "metrics")}))


if __name__ == "__main__":
    main()
