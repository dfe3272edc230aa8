import pytest
import torch

from thesis_lib.config import TrainConfig, active_budget, default_device, pick


def test_budget_follows_the_device_and_the_override(monkeypatch):
    monkeypatch.delenv("THESIS_BUDGET", raising=False)
    assert active_budget(torch.device("cpu")) == "quick"
    assert active_budget(torch.device("cuda")) == "full"
    monkeypatch.setenv("THESIS_BUDGET", "full")
    assert active_budget(torch.device("cpu")) == "full"
    assert pick(quick=3, full=1000) == 1000


def test_unknown_budget_names_the_allowed_values(monkeypatch):
    monkeypatch.setenv("THESIS_BUDGET", "medium")
    with pytest.raises(ValueError, match=r"THESIS_BUDGET='medium' is not allowed; choose one of 'quick', 'full'"):
        active_budget()


def test_unknown_device_override_is_refused(monkeypatch):
    monkeypatch.setenv("THESIS_DEVICE", "tpu")
    with pytest.raises(ValueError, match="THESIS_DEVICE='tpu'"):
        default_device()


@pytest.mark.parametrize("field, value", [("epochs", 0), ("epochs", -3), ("epochs", 2.5), ("batch_size", 0),
                                          ("lr", 0.0), ("lr", -1e-3), ("lr", float("nan")), ("optimizer", "rmsprop"),
                                          ("seed", -1), ("epochs", True)])
def test_train_config_rejects_bad_values_naming_the_field(field, value):
    kwargs = dict(epochs=1, batch_size=256, lr=3e-4)
    kwargs[field] = value
    with pytest.raises(ValueError, match=rf"^{field}="):
        TrainConfig(**kwargs)
