import pytest
import torch

from thesis_lib.infra.config import TrainConfig, active_budget, default_device, pick


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


def test_burda_schedule_matches_torch_multistep_lr():
    """Burda et al. (2015): 1e-3 · 10^(-i/7) for 3^i epochs, i = 0..7, i.e. steps at 1, 4, 13, 40, ..."""
    config = TrainConfig(epochs=1, batch_size=1, lr=1e-3, lr_schedule="burda")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    milestones = [sum(3 ** j for j in range(i + 1)) for i in range(7)]
    reference = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=10 ** (-1 / 7))
    for epoch in range(3400):
        assert config.lr_at(epoch) == pytest.approx(reference.get_last_lr()[0], rel=1e-12), epoch
        optimizer.step()
        reference.step()
    assert milestones[-1] + 3 ** 7 == 3280
    assert config.lr_at(3279) == pytest.approx(1e-4)


def test_constant_schedule_keeps_the_rate_and_unknown_schedules_are_refused():
    assert TrainConfig(epochs=1, batch_size=1, lr=0.3).lr_at(10_000) == 0.3
    with pytest.raises(ValueError, match=r"lr_schedule='cosine'.*'constant', 'burda'"):
        TrainConfig(epochs=1, batch_size=1, lr=1e-3, lr_schedule="cosine")
