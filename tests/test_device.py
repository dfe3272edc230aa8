import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from thesis_lib.infra import device as D

ROOT = Path(__file__).resolve().parent.parent


def without_accelerators(monkeypatch, cuda=False, mps=False):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


def test_budget_follows_the_device_and_the_override(monkeypatch):
    monkeypatch.delenv("THESIS_BUDGET", raising=False)
    assert D.active_budget(torch.device("cpu")) == "quick"
    assert D.active_budget("cuda") == "full"
    assert D.active_budget("mps") == "quick"
    monkeypatch.setenv("THESIS_BUDGET", "full")
    assert D.active_budget(torch.device("cpu")) == "full"


def test_unknown_budget_names_the_allowed_values(monkeypatch):
    monkeypatch.setenv("THESIS_BUDGET", "medium")
    with pytest.raises(ValueError, match=r"THESIS_BUDGET='medium' is not allowed; choose one of 'quick', 'full'"):
        D.active_budget()


def test_unknown_device_override_is_refused(monkeypatch):
    monkeypatch.setenv("THESIS_DEVICE", "tpu")
    with pytest.raises(ValueError, match="THESIS_DEVICE='tpu' is not allowed; choose one of 'cpu', 'cuda', 'mps'"):
        D.default_device()


def test_an_absent_device_is_refused_at_once_naming_what_is_there(monkeypatch):
    without_accelerators(monkeypatch)
    monkeypatch.setenv("THESIS_DEVICE", "cuda")
    with pytest.raises(ValueError, match=r"THESIS_DEVICE='cuda' is not available on this machine; available: 'cpu'$"):
        D.default_device()
    with pytest.raises(ValueError, match=r"device='mps' is not available on this machine; available: 'cpu'$"):
        D.resolve_device("mps")
    monkeypatch.setenv("THESIS_DEVICE", "cpu")
    assert D.default_device() == torch.device("cpu")


@pytest.mark.parametrize("cuda, mps, expected", [(False, False, "cpu"), (False, True, "mps"), (True, False, "cuda"),
                                                 (True, True, "cuda")])
def test_the_default_device_prefers_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv("THESIS_DEVICE", raising=False)
    without_accelerators(monkeypatch, cuda=cuda, mps=mps)
    assert D.default_device().type == expected
    assert D.resolve_device(None).type == expected


def test_a_model_trains_at_the_budget_of_its_own_device(monkeypatch):
    """Experiment.trained asks for the budget of the device it is given, not of the default device."""
    from thesis_lib.experiments import experiment as E

    monkeypatch.delenv("THESIS_BUDGET", raising=False)
    seen = {}
    monkeypatch.setattr(D.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(E, "load_or_train", lambda exp, budget, **kw: seen.update(budget=budget, **kw))
    from thesis_lib.experiments.autoencoders import ALG1_RELU

    ALG1_RELU.trained(device="cpu")
    assert seen["budget"] == "quick" and seen["device"] == torch.device("cpu")


def test_the_policy_sets_full_fp32_and_thesis_lib_applies_it_on_import():
    script = ("import torch; b = torch.backends\n"
              "assert b.cudnn.conv.fp32_precision == 'tf32', 'CUDA defaults first'\n"
              "import thesis_lib\n"
              "from thesis_lib.infra.device import PRECISION_POLICY, precision_in_force\n"
              "assert precision_in_force() == PRECISION_POLICY, precision_in_force()\n"
              "assert b.cuda.matmul.fp32_precision == 'ieee' and b.cudnn.conv.fp32_precision == 'ieee'\n"
              "assert b.cudnn.deterministic and not b.cudnn.benchmark\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)


def test_float64_only_where_the_device_has_it():
    assert D.wide_dtype("cpu") == torch.float64 and D.wide_dtype("cuda") == torch.float64
    assert D.wide_dtype("mps") == torch.float32 and not D.has_float64("mps")


def test_model_device():
    assert D.model_device(nn.Linear(2, 2)) == torch.device("cpu")
    assert D.model_device(nn.Linear(2, 2, device="meta")) == torch.device("meta")
    assert D.model_device(nn.ReLU()) == torch.device("cpu")


def test_as_float_divides_uint8_pixels_by_255_like_numpy():
    pixels = torch.arange(256, dtype=torch.uint8).reshape(16, 16)
    np.testing.assert_array_equal(D.as_float(pixels).numpy(), pixels.numpy().astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(D.as_float(pixels, torch.float64).numpy(), pixels.numpy().astype(np.float64) / 255)
    assert D.as_float(pixels).dtype == torch.float32 and D.as_float(pixels).max() == 1
    halves = torch.full((3,), 0.5, dtype=torch.float64)
    assert D.as_float(halves).dtype == torch.float32 and D.as_float(halves).tolist() == [0.5] * 3


def test_fork_rng_restores_the_cpu_state_and_names_no_absent_device():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with D.fork_rng("cpu"):
            torch.manual_seed(99)
            torch.rand(5)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)


def test_no_objective_reads_a_value_back_to_the_host():
    """Every registered objective runs forward and backward on the meta device, where a tensor has no
    values: a check that reads one (``if bad.any()``, ``.item()``), a host synchronisation in every
    training step on a GPU, raises there."""
    from thesis_lib.conditional_vae import ConditionalVAE
    from thesis_lib.conv_vae import ConvVAE
    from thesis_lib.experiments.experiment import OBJECTIVES
    from thesis_lib.slot_reader import SlotReader
    from thesis_lib.vae import VAE

    with torch.device("meta"):
        special = {"mse": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.Linear(8, 784)),
                   "cross-entropy": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
                   "conditional-negative-elbo": lambda: ConditionalVAE((784, 16), 4),
                   "slot-cross-entropy": lambda: SlotReader((2, 2), 4),
                   "canvas-negative-elbo": lambda: ConvVAE(2, (2, 2, 2))}
        for name, objective in OBJECTIVES.items():
            model = special.get(name, lambda: VAE((784, 16), 4))()
            canvases = name in ("slot-cross-entropy", "canvas-negative-elbo")
            x = torch.rand(5, 48, 48) if canvases else torch.rand(5, 28, 28)
            two = name.startswith("conditional") or canvases
            y = torch.randint(0, 10, (5, 2) if two else (5,))
            loss = objective(model, x, y)
            loss.backward()
            assert loss.device.type == "meta" and loss.shape == ()


def test_pixel_conversion_device_lookup_and_rng_forks_have_one_home():
    """uint8 → float goes through as_float, a model's device through model_device, and forks of the
    random state through fork_rng (which names its devices): no module or chapter does it by hand."""
    import json
    import re

    by_hand = re.compile(r"\.(float|double)\(\) */ *255|\.div_?\(255\)|next\(\w+\.parameters\(\)\)\.device"
                         r"|torch\.random\.fork_rng\(")
    sources = {str(p): p.read_text() for p in (ROOT / "thesis_lib").rglob("*.py") if p.name != "device.py"}
    for path in (ROOT / "chapters").glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        sources[str(path)] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    found = {path: by_hand.findall(text) for path, text in sources.items() if by_hand.search(text)}
    assert not found, found
