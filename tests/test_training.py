import dataclasses
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
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


def test_history_round_trips_through_a_checkpoint(tmp_path):
    path = tmp_path / "run.pt"
    _, h = _run(TrainConfig(epochs=1, batch_size=100, lr=1e-3), checkpoint=path)
    assert History(**load_checkpoint(path)["history"]) == h


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


@pytest.mark.parametrize("kind", ["classifier", "vae"])
def test_fit_trains_the_same_weights_as_a_plain_loop_with_torchs_adam(kind):
    """Algorithm 1's loop written out with torch's own pieces (randperm from the seeded generator,
    advanced indexing, fused torch.optim.Adam): fit must give the same weights bit for bit (the same
    kernels in the same order), so a faster loop cannot change what is trained."""
    from thesis_lib.vae import VAE, negative_elbo

    x, y = small_mnist(700)
    config = TrainConfig(epochs=2, batch_size=64, lr=1e-3, seed=3, adam_eps=1e-4)
    build, objective = {"classifier": (classifier, cross_entropy),
                        "vae": (lambda: VAE((784, 32), latent=4, activation=torch.tanh), negative_elbo)}[kind]
    torch.manual_seed(0)
    ours = build()
    torch.manual_seed(0)
    reference = build()
    fit(ours, objective, x, config=config, train_y=y, test_x=x[:100], test_y=y[:100], device="cpu", progress=False)
    optimizer = torch.optim.Adam(reference.parameters(), lr=config.lr, eps=config.adam_eps, fused=True)
    shuffle = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    for _ in range(config.epochs):
        for idx in torch.randperm(len(x), generator=shuffle).split(config.batch_size):
            loss = objective(reference, x[idx].float() / 255, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
        assert torch.equal(p, q)


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
    pause = 0.4

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
    assert every.extra["every"] == 2 and every.extra["test_epochs"] == [2, 3] and "every" not in each.extra
    for p, q in zip(model_a.parameters(), model_c.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="every=0 is not allowed"):
        _run(every=0)
