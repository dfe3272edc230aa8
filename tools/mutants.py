"""make test-mutants: mutation testing of the library with mutmut (pinned in requirements.txt).

Each module of MODULES is mutated on its own, in a scratch copy of the repository, and each mutant
runs against that module's own test file only (mutmut picks, within it, the tests that run the mutated
function), so that a run fits. The script prints the mutation
score per module ((killed + timed out) / mutants) and lists every surviving mutant that
``tests/mutants-equivalent.txt`` does not explain; it exits 1 if there is one.

    .venv/bin/python tools/mutants.py                      # every module of MODULES
    .venv/bin/python tools/mutants.py thesis_lib/losses.py # some of them
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: module -> its test file (and pytest's options, if any): the theory modules, the training loop, the
#: estimators and metrics, data loading and verification, the spec and key code
MODULES = {
    "thesis_lib/activations.py": "tests/test_activations.py",
    "thesis_lib/losses.py": "tests/test_losses.py",
    "thesis_lib/divergences.py": "tests/test_divergences.py",
    "thesis_lib/vision.py": "tests/test_vision.py",
    "thesis_lib/optim.py": "tests/test_optim.py",
    "thesis_lib/risk.py": "tests/test_risk.py",
    "thesis_lib/pca.py": "tests/test_pca.py",
    "thesis_lib/gradient_estimators.py": "tests/test_gradient_estimators.py",
    "thesis_lib/likelihood.py": "tests/test_likelihood.py",
    "thesis_lib/generation_metrics.py": "tests/test_generation_metrics.py",
    "thesis_lib/networks.py": "tests/test_networks.py",
    "thesis_lib/autoencoders.py": "tests/test_autoencoders.py",
    "thesis_lib/monte_carlo.py": "tests/test_monte_carlo.py",
    # its IWAE gradient estimator (DReG) has its own test file
    "thesis_lib/vae.py": "tests/test_vae.py tests/test_iwae_dreg.py",
    "thesis_lib/conditional_vae.py": "tests/test_conditional_vae.py",
    "thesis_lib/slot_reader.py": "tests/test_slot_reader.py",
    "thesis_lib/conv_vae.py": "tests/test_conv_vae.py",
    "thesis_lib/on_demand.py": "tests/test_on_demand.py",
    # the quick tests only: the slow ones start processes or train on 19,200 images, seconds a mutant
    "thesis_lib/infra/training.py": 'tests/test_training.py -m "not slow"',
    "thesis_lib/infra/data.py": "tests/test_data.py",
    "thesis_lib/infra/mnist_files.py": "tests/test_mnist_files.py",
    "thesis_lib/experiments/experiment.py": "tests/test_experiment.py",
}
EQUIVALENT = ROOT / "tests" / "mutants-equivalent.txt"
#: what the scratch copy needs besides the module and its tests
COPY = ["thesis_lib", "tests", "pyproject.toml", "_toc.yml", "chapters", "checkpoints", "Makefile", "requirements.txt"]


def explained() -> dict[str, str]:
    """``mutant name -> why it is equivalent`` from the committed list (``name  reason`` per line)."""
    if not EQUIVALENT.exists():
        return {}
    pairs = (line.split(None, 1) for line in EQUIVALENT.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {name: reason for name, reason in pairs}


def run_module(module: str, tests: str, children: int, reasons: dict[str, str]) -> dict:
    """Mutate ``module`` in a scratch copy, run mutmut against ``tests``; its stats, survivors and the
    diffs of those that ``reasons`` does not explain."""
    with tempfile.TemporaryDirectory(prefix="mutants-") as scratch:
        work = Path(scratch)
        for name in COPY:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            elif source.exists():
                shutil.copy2(source, work / name)
        (work / "data").symlink_to(ROOT / "data")
        with open(work / "pyproject.toml", "a") as config:
            # the whole package is copied (a module of a subpackage imports its siblings), one module mutated
            config.write(f'\n[tool.mutmut]\nsource_paths = ["thesis_lib"]\nonly_mutate = ["{module}"]\n'
                         f'pytest_add_cli_args_test_selection = {json.dumps(shlex.split(tests))}\n'
                         f'also_copy = {json.dumps(COPY[3:] + ["data"])}\n')
        env = dict(os.environ, THESIS_PROGRESS="off", OMP_NUM_THREADS="1")
        mutmut = [sys.executable, "-m", "mutmut"]
        start = time.perf_counter()
        run = subprocess.run(mutmut + ["run", "--max-children", str(children)], cwd=work, env=env,
                             capture_output=True, text=True, check=False)
        if "failed to collect stats" in run.stdout + run.stderr:
            raise RuntimeError(f"{tests} does not pass unmutated in the scratch copy, so no mutant can be "
                               f"judged; mutmut printed:\n{(run.stdout + run.stderr)[-3000:]}")
        subprocess.run(mutmut + ["export-cicd-stats"], cwd=work, env=env, capture_output=True, check=True)
        stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
        results = subprocess.run(mutmut + ["results"], cwd=work, env=env, capture_output=True, text=True).stdout
        survivors = [line.split(":")[0].strip() for line in results.splitlines() if line.strip().endswith(": survived")]
        diffs = {name: subprocess.run(mutmut + ["show", name], cwd=work, env=env, capture_output=True, text=True).stdout
                 for name in survivors if name not in reasons}
        return stats | {"survivors": survivors, "diffs": diffs, "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: all of {list(MODULES)})")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 1, help="mutants run at once")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"modules={unknown} are not allowed; choose from {list(MODULES)}")
    reasons, unexplained = explained(), []
    print(f"{'module':44s} {'mutants':>7s} {'killed':>6s} {'timeout':>7s} {'survived':>8s} {'score':>6s} {'time':>6s}")
    for module in args.modules or MODULES:
        s = run_module(module, MODULES[module], args.children, reasons)
        total = s["total"] - s["skipped"]
        score = (s["killed"] + s["timeout"]) / total if total else float("nan")
        print(f"{module:44s} {total:7d} {s['killed']:6d} {s['timeout']:7d} {s['survived']:8d} {score:6.1%} "
              f"{s['seconds'] / 60:5.1f}m", flush=True)
        unexplained += [(name, s["diffs"].get(name, "")) for name in s["survivors"] if name not in reasons]
    for name, diff in unexplained:
        changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        print(f"  survived, not explained in {EQUIVALENT.relative_to(ROOT)}: {name}: " + " / ".join(changed)[:200])
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
