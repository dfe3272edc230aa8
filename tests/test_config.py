import pytest
import torch

from thesis_lib.infra.config import TrainConfig, pick


def test_pick_gives_the_value_of_the_active_or_named_budget(monkeypatch):
    monkeypatch.setenv("THESIS_BUDGET", "full")
    assert pick(quick=3, full=1000) == 1000 and pick(quick=3, full=1000, budget="quick") == 3
    monkeypatch.setenv("THESIS_BUDGET", "quick")
    assert pick(quick=3, full=1000) == 3
    with pytest.raises(ValueError, match="budget='medium' is not allowed"):
        pick(quick=3, full=1000, budget="medium")


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


def test_a_step_keyed_burda_schedule_follows_the_papers_steps_like_multistep_lr():
    """schedule_epoch_steps=N: stage i lasts 3^i · N optimiser steps, whatever the batch size."""
    steps = 7
    config = TrainConfig(epochs=1, batch_size=100, lr=1e-3, lr_schedule="burda", schedule_epoch_steps=steps)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    milestones = [steps * sum(3 ** j for j in range(i + 1)) for i in range(7)]
    reference = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=10 ** (-1 / 7))
    for step in range(3300 * steps):
        assert config.lr_at(step // 13, step) == pytest.approx(reference.get_last_lr()[0], rel=1e-12), step
        optimizer.step()
        reference.step()
    with pytest.raises(ValueError, match="step is needed"):
        config.lr_at(3)


@pytest.mark.parametrize("by, per_epoch", [("step", 5), ("epoch", 1)])
def test_kl_warmup_weights_rise_linearly_like_torch_linear_lr(by, per_epoch):
    """The warm-up weight is LinearLR's factor from 1/(W·S) to 1 over W·S - 1 updates (S = updates per epoch)."""
    warmup, steps_per_epoch = 3, 5
    config = TrainConfig(epochs=1, batch_size=1, lr=1.0, kl_warmup_epochs=warmup, kl_warmup_by=by)
    total = warmup * per_epoch
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    reference = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / total, end_factor=1.0,
                                                  total_iters=total - 1)
    for step in range(6 * steps_per_epoch):
        epoch = step // steps_per_epoch
        if by == "step" or step % steps_per_epoch == 0:
            expected = reference.get_last_lr()[0]
            optimizer.step()
            reference.step()
        assert config.kl_weight_at(epoch, step, steps_per_epoch) == pytest.approx(expected, rel=1e-12), step
    assert config.kl_weight_at(0, 0, steps_per_epoch) > 0
    assert TrainConfig(epochs=1, batch_size=1, lr=1.0).kl_weight_at(0, 0, 5) == 1.0


def test_recipe_fields_enter_the_recorded_config_only_when_used():
    plain = TrainConfig(epochs=2, batch_size=100, lr=1e-3)
    assert set(plain.as_dict()) == {"epochs", "batch_size", "lr", "optimizer", "seed", "adam_eps", "lr_schedule"}
    recipe = TrainConfig(epochs=2, batch_size=20, lr=1e-3, kl_warmup_epochs=10, schedule_epoch_steps=3000)
    assert recipe.as_dict()["kl_warmup_epochs"] == 10 and recipe.as_dict()["schedule_epoch_steps"] == 3000
    assert "kl_warmup_by" not in recipe.as_dict()
    assert TrainConfig(**recipe.as_dict()) == recipe


@pytest.mark.parametrize("field, value", [("kl_warmup_epochs", -1), ("kl_warmup_epochs", 0.5),
                                          ("kl_warmup_by", "batch"), ("schedule_epoch_steps", -5)])
def test_recipe_fields_reject_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        TrainConfig(epochs=1, batch_size=1, lr=1.0, **{field: value})
