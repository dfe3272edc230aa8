import dataclasses
import json
import math
import os
import pickle
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib.infra.checkpoints import CheckpointError, load_checkpoint, save_atomic
from thesis_lib.infra.config import TrainConfig
from thesis_lib.infra.data import load_mnist
from thesis_lib.infra.seeding import seeded_evaluation
from thesis_lib.infra.training import History, evaluate, fit


def classifier() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def cross_entropy(model, x, y):
    return F.cross_entropy(model(x), y)


def small_mnist(n=2000):
    train = load_mnist("train")
    return train.images[:n], train.labels[:n]


CFG = TrainConfig(epochs=3, batch_size=100, lr=1e-3, seed=7)


@pytest.mark.slow
def test_loss_goes_down_on_real_mnist_in_a_few_hundred_steps():
    train, test = load_mnist("train"), load_mnist("test")
    torch.manual_seed(0)
    model = classifier()
    before = evaluate(model, cross_entropy, test.images[:2000], test.labels[:2000])
    config = TrainConfig(epochs=1, batch_size=64, lr=1e-3)  # 300 steps
    history = fit(model, cross_entropy, train.images[:19_200], train_y=train.labels[:19_200], config=config,
                  test_x=test.images[:2000], test_y=test.labels[:2000], device="cpu")
    assert before > 2.0 and history.test[-1] < 0.6 * before
    accuracy = (model(test.images[:2000].float() / 255).argmax(1) == test.labels[:2000]).float().mean()
    assert accuracy > 0.85


def _run(config=CFG, **kwargs):
    x, y = small_mnist()
    torch.manual_seed(0)
    model = classifier()
    history = fit(model, cross_entropy, x, train_y=y, config=config, test_x=x[:500], test_y=y[:500],
                  device="cpu", **kwargs)
    return model, history


def test_a_curve_measured_while_training_keeps_the_weights_and_lands_in_the_history(tmp_path):
    """The curve runs inside seeded_evaluation (its own draws, eval mode), so training is unchanged."""
    def curve(model, epoch):
        with seeded_evaluation(model, 0):
            return {"noise": torch.rand(()).item(), "training": model.training} if epoch in (1, 3) else None

    plain_model, plain = _run()
    model, history = _run(checkpoint=tmp_path / "c.pt", curve=curve)
    for p, q in zip(plain_model.parameters(), model.parameters()):
        assert torch.equal(p, q)
    assert history.train == plain.train and sorted(history.extra["curve"]) == ["1", "3"]
    assert history.extra["curve"]["1"]["training"] is False
    assert load_checkpoint(tmp_path / "c.pt")["history"]["extra"]["curve"] == history.extra["curve"]


def test_same_seed_gives_the_same_losses():
    _, a = _run()
    _, b = _run()
    _, c = _run(TrainConfig(epochs=3, batch_size=100, lr=1e-3, seed=8))
    assert a.train == b.train and a.test == b.test  # exact: the same kernels in the same process
    assert a.train != c.train


ROOT = Path(__file__).resolve().parent.parent
#: the second CPU-kernel configuration of `make test-portable`, read from the Makefile
PORTABLE = dict(item.split("=", 1) for item in re.search(
    r"^PORTABLE_ENV := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split())


@pytest.mark.slow
def test_same_seed_gives_the_same_losses_under_other_cpu_kernels():
    """The run repeated in a process with other kernels agrees to rounding, not bit for bit; another
    seed differs by far more."""
    script = ("import json, tests.test_training as t; _, h = t._run(); print(json.dumps([h.train, h.test]))")
    env = {**os.environ, **PORTABLE}
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    train, test = json.loads(out.strip().splitlines()[-1])
    _, here = _run()
    torch.testing.assert_close(torch.tensor(train), torch.tensor(here.train), rtol=1e-4, atol=0)
    torch.testing.assert_close(torch.tensor(test), torch.tensor(here.test), rtol=1e-4, atol=0)
    _, other_seed = _run(TrainConfig(epochs=3, batch_size=100, lr=1e-3, seed=8))
    assert max(abs(a - b) / b for a, b in zip(other_seed.train, here.train)) > 1e-2


class Interrupted(Exception):
    pass


def _interrupted_run(path, after):
    """A checkpointed run stopped after ``after`` epochs."""
    def stop(epoch, history):
        if epoch == after:
            raise Interrupted

    with pytest.raises(Interrupted):
        _run(checkpoint=path, on_epoch_end=stop)


def test_interrupted_run_resumes_and_matches_an_uninterrupted_one(tmp_path):
    model_a, whole = _run()
    path = tmp_path / "run.pt"
    _interrupted_run(path, 2)
    assert load_checkpoint(path)["history"]["epochs"] == 2
    model_b, resumed = _run(checkpoint=path)
    assert resumed.epochs == CFG.epochs and resumed.origin == "resumed after epoch 2"
    assert resumed.train == whole.train and resumed.test == whole.test
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(p, q)


@pytest.mark.slow
def test_killed_process_loses_at_most_one_epoch(tmp_path):
    """SIGKILL a real training process mid-run; the resumed run finishes all epochs."""
    path = tmp_path / "killed.pt"
    script = textwrap.dedent(f"""
        import sys, time, torch
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_training import _run
        from thesis_lib.infra.config import TrainConfig
        _run(TrainConfig(epochs=50, batch_size=100, lr=1e-3, seed=7), checkpoint={str(path)!r},
             on_epoch_end=lambda e, h: time.sleep(0.2))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "THESIS_PROGRESS": "off"})
    deadline = time.time() + 120
    while time.time() < deadline and not (path.exists() and load_checkpoint(path)["history"]["epochs"] >= 2):
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    saved = load_checkpoint(path)["history"]["epochs"]
    assert 2 <= saved < 50
    config = TrainConfig(epochs=saved + 1, batch_size=100, lr=1e-3, seed=7)
    _, resumed = _run(config, checkpoint=path)
    assert resumed.epochs == saved + 1 and len(resumed.train) == saved + 1
    assert not list(tmp_path.glob("*.tmp")), "no half-written checkpoint may be left behind"


class Boom:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_checkpoint_with_a_pickled_object_is_refused_not_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        pickle.dump({"format": 1, "model": Boom()}, fh)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_tampered_checkpoint_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    _run(TrainConfig(epochs=1, batch_size=100, lr=1e-3), checkpoint=path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="refused to load"):
        load_checkpoint(path)


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    _run(TrainConfig(epochs=1, batch_size=100, lr=1e-3), checkpoint=path, key="aaaa")
    with pytest.raises(CheckpointError, match="belongs to configuration 'aaaa', not 'bbbb'"):
        _run(checkpoint=path, key="bbbb")


def test_save_atomic_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_atomic({"format": 1, "v": torch.ones(2)}, path)
    with pytest.raises(Exception, match="pickle"):
        save_atomic({"format": 1, "v": lambda: None}, path)
    assert torch.equal(load_checkpoint(path)["v"], torch.ones(2))
    assert not list(tmp_path.glob("*.tmp"))


def test_history_key_spec_and_configuration_round_trip_through_a_checkpoint(tmp_path):
    config = TrainConfig(epochs=1, batch_size=100, lr=1e-3)
    _, h = _run(config, checkpoint=tmp_path / "plain.pt")
    state = load_checkpoint(tmp_path / "plain.pt")
    assert History(**state["history"]) == h
    assert (state["key"], state["spec"], state["config"]) == ("", {}, config.as_dict())
    _run(config, checkpoint=tmp_path / "named.pt", key="abcd", spec={"name": "clf"})
    assert load_checkpoint(tmp_path / "named.pt", "abcd")["spec"] == {"name": "clf"}


def test_a_finished_run_comes_back_from_its_checkpoint_without_training(tmp_path):
    model_a, first = _run(checkpoint=tmp_path / "run.pt")
    model_b, again = _run(checkpoint=tmp_path / "run.pt", on_epoch_end=lambda epoch, h: pytest.fail("trained"))
    assert again.origin == "cache" and (again.train, again.test) == (first.train, first.test)
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(p, q)


def _adam_with_multistep_lr(x, y, epochs, milestones, per_step):
    """A plain loop: torch's fused Adam (lr 1e-2) and MultiStepLR (γ = 10^(-1/7)) stepped after every
    epoch or every step, batches of 100 shuffled by a generator seeded 3, as fit shuffles them."""
    torch.manual_seed(0)
    reference = classifier()
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-2, fused=True)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=10 ** (-1 / 7))
    gen = torch.Generator().manual_seed(3)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 100):
            idx = perm[i:i + 100]
            loss = cross_entropy(reference, x[idx].float() / 255, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if per_step:
                scheduler.step()
        if not per_step:
            scheduler.step()
    return reference


def test_fit_follows_the_learning_rate_schedule_like_torch_multistep_lr():
    """fit with lr_schedule="burda" = a plain loop with torch's fused Adam and MultiStepLR, same batches."""
    x, y = small_mnist(600)
    config = TrainConfig(epochs=5, batch_size=100, lr=1e-2, seed=3, lr_schedule="burda")
    torch.manual_seed(0)
    model = classifier()
    fit(model, cross_entropy, x, train_y=y, config=config, device="cpu", progress=False)

    reference = _adam_with_multistep_lr(x, y, epochs=5, milestones=[1, 4], per_step=False)
    torch.manual_seed(0)
    constant = classifier()
    fit(constant, cross_entropy, x, train_y=y, config=dataclasses.replace(config, lr_schedule="constant"),
        device="cpu", progress=False)
    for p, q, c in zip(model.parameters(), reference.parameters(), constant.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    assert max((p - c).abs().max().item() for p, c in zip(model.parameters(), constant.parameters())) > 1e-3


def test_a_step_keyed_schedule_changes_the_rate_between_steps_like_multistep_lr():
    """schedule_epoch_steps=2: stages end after 2 and 8 steps, inside the first two epochs of 6 steps."""
    x, y = small_mnist(600)
    config = TrainConfig(epochs=3, batch_size=100, lr=1e-2, seed=3, lr_schedule="burda", schedule_epoch_steps=2)
    torch.manual_seed(0)
    model = classifier()
    fit(model, cross_entropy, x, train_y=y, config=config, device="cpu", progress=False)

    reference = _adam_with_multistep_lr(x, y, epochs=3, milestones=[2, 8, 26], per_step=True)
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_a_kl_warmup_passes_each_step_its_weight_and_no_warmup_passes_none():
    x = small_mnist(250)[0]
    seen = []

    def objective(model, xb, yb, **kw):
        seen.append(kw.get("kl_weight"))
        return model(xb.reshape(len(xb), -1)).square().mean()

    config = TrainConfig(epochs=3, batch_size=100, lr=1e-3, kl_warmup_epochs=2)
    fit(nn.Linear(784, 2), objective, x, config=config, device="cpu", progress=False)
    assert seen[:6] == pytest.approx([(s + 1) / 6 for s in range(6)]) and seen[6:] == [1.0] * 3
    seen.clear()
    fit(nn.Linear(784, 2), objective, x, config=dataclasses.replace(config, kl_warmup_epochs=0), device="cpu",
        progress=False)
    assert seen == [None] * 9
    seen.clear()
    fit(nn.Linear(784, 2), objective, x, config=dataclasses.replace(config, kl_warmup_by="epoch"), device="cpu",
        progress=False)
    assert seen == [0.5] * 3 + [1.0] * 6


@pytest.mark.parametrize("kind", ["classifier", "vae", "classifier-sgd"])
def test_fit_trains_the_same_weights_as_a_plain_loop_with_torchs_optimiser(kind):
    """Algorithm 1's loop written out with torch's own pieces (randperm from the seeded generator,
    advanced indexing, fused torch.optim.Adam or torch.optim.SGD): fit must give the same weights bit for
    bit (the same kernels in the same order), so a faster loop cannot change what is trained; its
    history holds each epoch's mean batch loss and the seeded test objective of the result."""
    from thesis_lib.vae import VAE, negative_elbo

    x, y = small_mnist(700)
    optimizer_name = "sgd" if kind.endswith("sgd") else "adam"
    config = TrainConfig(epochs=2, batch_size=64, lr=3e-3, seed=3, adam_eps=1e-4, optimizer=optimizer_name)
    build, objective = {"classifier": (classifier, cross_entropy), "classifier-sgd": (classifier, cross_entropy),
                        "vae": (lambda: VAE((784, 32), latent=4, activation=torch.tanh), negative_elbo)}[kind]
    torch.manual_seed(0)
    ours = build()
    torch.manual_seed(0)
    reference = build()
    history = fit(ours, objective, x, config=config, train_y=y, test_x=x[:100], test_y=y[:100], device="cpu",
                  progress=False)
    optimizer = (torch.optim.SGD(reference.parameters(), lr=config.lr) if optimizer_name == "sgd" else
                 torch.optim.Adam(reference.parameters(), lr=config.lr, eps=config.adam_eps, fused=True))
    shuffle = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    epoch_means = []
    for _ in range(config.epochs):
        losses = []
        for idx in torch.randperm(len(x), generator=shuffle).split(config.batch_size):
            loss = objective(reference, x[idx].float() / 255, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item() * len(idx))
        epoch_means.append(math.fsum(losses) / len(x))
    for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
        assert torch.equal(p, q)
    torch.testing.assert_close(torch.tensor(history.train, dtype=torch.float64),
                               torch.tensor(epoch_means, dtype=torch.float64), rtol=1e-6, atol=0)
    assert len(history.test) == 2 and history.test[-1] == evaluate(reference, objective, x[:100], y[:100], seed=3)


def test_the_shuffle_state_is_a_cpu_generator_state_that_any_device_can_resume(tmp_path):
    """The saved shuffle state fits a CPU generator; a run saved on another device type (here a CUDA run
    faked in the file) resumes on the CPU to the weights of an uninterrupted run, and says so."""
    model_a, whole = _run()
    path = tmp_path / "run.pt"
    _interrupted_run(path, 1)
    state = load_checkpoint(path)
    torch.Generator().set_state(state["rng"]["shuffle"])
    assert state["rng"]["device"] is None  # the CPU's state is rng["torch"]
    state["history"]["device"] = "cuda:0"
    state["rng"]["device"] = torch.zeros(16, dtype=torch.uint8)
    save_atomic(state, path)
    model_b, resumed = _run(checkpoint=path)
    assert resumed.train == whole.train and resumed.device == "cpu"
    assert resumed.extra["devices"] == ["cuda until epoch 1"]
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(p, q)


def test_the_wall_time_sums_the_epochs_and_leaves_out_pauses_curves_and_resumes(tmp_path):
    """Sleeping between epochs (a paused process) and in the curve adds nothing to the wall time; a
    resumed run adds its epochs to the saved time, not the time in between."""
    pause = 0.2

    def curve(model, epoch):
        time.sleep(pause)

    started = time.perf_counter()
    _, history = _run(curve=curve, on_epoch_end=lambda epoch, h: time.sleep(pause))
    elapsed = time.perf_counter() - started
    assert elapsed > 6 * pause and history.wall_time < elapsed - 5 * pause
    path = tmp_path / "run.pt"
    _interrupted_run(path, 1)
    saved = load_checkpoint(path)["history"]["wall_time"]
    time.sleep(pause)
    _, resumed = _run(checkpoint=path)
    assert saved < resumed.wall_time < saved + history.wall_time + pause / 2


def test_the_wall_time_adds_each_epochs_duration_on_a_clock_that_ticks_once_per_reading(tmp_path, monkeypatch):
    """A fake clock, one second per reading: fit reads it at the start and end of each epoch, so three
    epochs take 3 s, and a run resumed after one epoch ends at 3 s too."""
    from thesis_lib.infra import training

    ticks = iter(range(1000))
    monkeypatch.setattr(training.time, "perf_counter", lambda: float(next(ticks)))
    assert _run()[1].wall_time == 3.0
    _interrupted_run(tmp_path / "run.pt", 1)
    assert load_checkpoint(tmp_path / "run.pt")["history"]["wall_time"] == 1.0
    assert _run(checkpoint=tmp_path / "run.pt")[1].wall_time == 3.0


def test_the_static_step_trains_what_the_eager_step_trains():
    """The graph step's static buffers, capturable fused Adam and eager partial last batch (2,000 images
    in batches of 100 and of 300: 6 full and one of 200) give the eager loop's weights up to rounding."""
    for batch_size in (100, 300):
        config = dataclasses.replace(CFG, batch_size=batch_size)
        eager_model, eager = _run(config)
        static_model, static = _run(config, step="static")
        torch.testing.assert_close(torch.tensor(static.train), torch.tensor(eager.train), rtol=1e-5, atol=0)
        for p, q in zip(eager_model.parameters(), static_model.parameters(), strict=True):
            torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-6)


def test_evaluating_and_checkpointing_every_n_epochs_trains_the_same_weights(tmp_path):
    """every=2 over 3 epochs: the test loss after epochs 2 and 3 only, the checkpoint written after them,
    the weights those of every=1."""
    model_a, each = _run()
    saves = []
    model_b, sparse = _run(checkpoint=tmp_path / "c.pt",
                           on_epoch_end=lambda epoch, h: saves.append((tmp_path / "c.pt").exists()))
    model_c, every = _run(checkpoint=tmp_path / "e.pt", every=2,
                          on_epoch_end=lambda epoch, h: saves.append((tmp_path / "e.pt").exists()))
    assert saves == [True, True, True, False, True, True]
    assert every.train == each.train and every.test == [each.test[1], each.test[2]]
    assert every.extra["every"] == 2 and every.extra["test_epochs"] == [2, 3]
    assert "every" not in each.extra and "test_epochs" not in each.extra
    for p, q in zip(model_a.parameters(), model_c.parameters()):
        assert torch.equal(p, q)
    _, third = _run(dataclasses.replace(CFG, epochs=4), every=3)
    assert third.extra["test_epochs"] == [3, 4] and len(third.test) == 2
    with pytest.raises(ValueError, match="every=0 is not allowed"):
        _run(every=0)


def test_the_static_step_runs_every_full_batch_through_the_graph_step_with_its_warmup_weight(tmp_path,
                                                                                             monkeypatch):
    """A VAE under a KL warm-up: the full batches (6 of 300 per epoch of 2,000 images) go through
    GraphStep with the step's weight, the last one eagerly; the weights are the eager loop's to rounding
    and the optimiser keeps its rate in a tensor (``capturable``), as a CUDA graph needs."""
    from thesis_lib.infra import training
    from thesis_lib.vae import VAE, negative_elbo

    calls = []

    class Spy(training.GraphStep):
        def __call__(self, idx, kl_weight=None):
            calls.append((len(idx), kl_weight))
            return super().__call__(idx, kl_weight)

    monkeypatch.setattr(training, "GraphStep", Spy)
    x = small_mnist()[0]
    config = TrainConfig(epochs=3, batch_size=300, lr=3e-3, seed=7, adam_eps=1e-4, kl_warmup_epochs=2)
    runs = {}
    for step in ("eager", "static"):
        torch.manual_seed(0)
        model = VAE((784, 32), latent=4)
        path = tmp_path / f"{step}.pt"
        runs[step] = model, fit(model, negative_elbo, x, config=config, device="cpu", progress=False, step=step,
                                checkpoint=path), load_checkpoint(path)["optimizer"]["param_groups"][0]
    assert [n for n, _ in calls] == [300] * 18
    assert [w for _, w in calls] == pytest.approx([config.kl_weight_at(e, e * 7 + s, 7) for e in range(3)
                                                   for s in range(6)])
    (eager_model, eager, eager_group), (static_model, static, static_group) = runs["eager"], runs["static"]
    torch.testing.assert_close(torch.tensor(static.train), torch.tensor(eager.train), rtol=1e-5, atol=0)
    for p, q in zip(eager_model.parameters(), static_model.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-6)
    assert (eager_group["capturable"], static_group["capturable"]) == (False, True)
    assert isinstance(static_group["lr"], torch.Tensor) and not isinstance(eager_group["lr"], torch.Tensor)


def test_the_optimiser_is_torchs_with_the_configurations_rate_and_epsilon():
    from thesis_lib.infra.training import make_optimizer

    model = classifier()
    adam = TrainConfig(epochs=1, batch_size=10, lr=3e-3, adam_eps=1e-4)
    eager = make_optimizer(model, adam)
    assert type(eager) is torch.optim.Adam and eager.param_groups[0]["params"] == list(model.parameters())
    assert {k: eager.defaults[k] for k in ("lr", "eps", "fused", "capturable")} == dict(
        lr=3e-3, eps=1e-4, fused=True, capturable=False)
    graph = make_optimizer(model, adam, graph=True)
    lr = graph.param_groups[0]["lr"]
    assert isinstance(lr, torch.Tensor) and lr.item() == pytest.approx(3e-3) and lr.device == torch.device("cpu")
    assert (graph.defaults["eps"], graph.defaults["capturable"]) == (1e-4, True)
    sgd = make_optimizer(model, dataclasses.replace(adam, optimizer="sgd"))
    assert type(sgd) is torch.optim.SGD and sgd.defaults["lr"] == 3e-3
    assert sgd.param_groups[0]["params"] == list(model.parameters())


@pytest.mark.parametrize("value, on", [("off", False), ("OFF", False), ("0", False), ("False", False),
                                       ("no", False), ("NO", False), ("on", True), ("1", True), ("yes", True)])
def test_progress_is_on_unless_thesis_progress_says_off(monkeypatch, value, on):
    from thesis_lib.infra.training import progress_enabled

    monkeypatch.setenv("THESIS_PROGRESS", value)
    assert progress_enabled(None) is on and progress_enabled(True) is True and progress_enabled(False) is False
    monkeypatch.delenv("THESIS_PROGRESS")
    assert progress_enabled(None) is True


def test_the_progress_bar_counts_epochs_and_shows_the_last_losses(tmp_path, capsys, monkeypatch):
    """tqdm's bar on stderr: the description, epochs done of all, the unit, the latest train and test
    losses; a resumed run starts its bar at the epochs already done. (tqdm's lock is a thread lock here
    and its monitor thread off: mutmut forks its test runs from a process that ran this test, and
    tqdm's default lock is a semaphore the forks share, which a killed fork leaves held.)"""
    from tqdm import std

    monkeypatch.setattr(std.tqdm, "_lock", threading.RLock(), raising=False)
    monkeypatch.setattr(std.tqdm, "monitor_interval", 0)
    _interrupted_run(tmp_path / "run.pt", 2)
    capsys.readouterr()
    _, history = _run(checkpoint=tmp_path / "run.pt", progress=True, desc="clf")
    bar = capsys.readouterr().err
    assert "clf:  67%" in bar and "| 2/3 [" in bar and "| 0/3 [" not in bar
    final = bar.rsplit("\r", 1)[-1]
    assert "clf: 100%" in final and "| 3/3 [" in final and "epoch/s" in final
    assert final.rstrip().endswith(f"test={history.test[-1]:.4g}, train={history.train[-1]:.4g}]")
    x, y = small_mnist(300)
    history = fit(classifier(), cross_entropy, x, train_y=y, config=CFG, device="cpu", progress=True)
    final = capsys.readouterr().err.rsplit("\r", 1)[-1]
    assert final.startswith("training: 100%") and final.rstrip().endswith(f"train={history.train[-1]:.4g}]")


def test_each_epoch_end_sees_the_history_so_far():
    seen = []
    _, history = _run(on_epoch_end=lambda epoch, h: seen.append((epoch, h, len(h.train))))
    assert seen == [(1, history, 1), (2, history, 2), (3, history, 3)] and seen[0][1] is history


def test_bad_steps_and_targets_are_refused_by_name():
    x, y = small_mnist(300)
    with pytest.raises(ValueError, match="^step='jit' is not allowed"):
        fit(classifier(), cross_entropy, x, train_y=y, config=CFG, device="cpu", step="jit")
    with pytest.raises(ValueError, match="^step='graph' needs a CUDA device, but the device is 'cpu'"):
        fit(classifier(), cross_entropy, x, train_y=y, config=CFG, device="cpu", step="graph")
    with pytest.raises(ValueError, match="^train_y has 299 entries but train_x has 300$"):
        fit(classifier(), cross_entropy, x, train_y=y[:299], config=CFG, device="cpu")


def test_asked_for_the_cpu_on_a_gpu_machine_it_trains_there_at_the_cpus_budget(monkeypatch):
    """The machine's default device faked as CUDA: ``device="cpu"`` still trains on the CPU (no CUDA is
    touched here) and records the CPU's budget, quick."""
    from thesis_lib.infra import device as device_module

    monkeypatch.delenv("THESIS_BUDGET", raising=False)
    monkeypatch.setattr(device_module, "default_device", lambda: torch.device("cuda"))
    _, history = _run(dataclasses.replace(CFG, epochs=1))
    assert history.device == "cpu" and history.extra["budget"] == "quick"


def test_a_resumed_run_restores_the_device_generator_saved_on_the_same_kind_of_device(tmp_path, monkeypatch):
    """Faked on the CPU: a saved device state is handed back to the device it was saved on, and none
    is restored where the checkpoint has none."""
    from thesis_lib.infra import training

    restored = []
    monkeypatch.setattr(training, "set_device_rng_state", lambda device, state: restored.append((device, state)))
    path = tmp_path / "run.pt"
    _interrupted_run(path, 1)
    _run(dataclasses.replace(CFG, epochs=2), checkpoint=path)
    assert restored == []
    state = load_checkpoint(path)
    state["rng"]["device"] = torch.arange(16, dtype=torch.uint8)
    state["history"]["epochs"] = 1
    save_atomic(state, path)
    _run(dataclasses.replace(CFG, epochs=2), checkpoint=path)
    assert len(restored) == 1 and restored[0][0] == torch.device("cpu")
    assert torch.equal(restored[0][1], torch.arange(16, dtype=torch.uint8))
