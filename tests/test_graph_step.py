import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib.infra.config import TrainConfig
from thesis_lib.infra.graph_step import GraphStep
from thesis_lib.infra.training import fit, make_optimizer


def data(n=230):
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_every_image_is_visited_once_per_epoch_full_batches_through_the_buffer_the_last_eagerly():
    x, y = data()
    seen = []

    def objective(model, xb, yb, kl_weight=1.0):
        seen.append((len(xb), torch.is_tensor(kl_weight)))
        return F.cross_entropy(model(xb.flatten(1)), yb) * kl_weight

    config = TrainConfig(epochs=2, batch_size=64, lr=1e-3, kl_warmup_epochs=4)
    torch.manual_seed(0)
    fit(nn.Linear(784, 10), objective, x, train_y=y, config=config, device="cpu", progress=False, step="static")
    # 230 = 3 * 64 + 38: three steps through the static buffers (a tensor weight), one eager (a float)
    assert seen == [(64, True)] * 3 + [(38, False)] + [(64, True)] * 3 + [(38, False)]


def test_the_warmup_weight_and_the_learning_rate_reach_the_static_step():
    x, y = data(128)
    weights, rates = [], []
    config = TrainConfig(epochs=3, batch_size=64, lr=1e-3, kl_warmup_epochs=2, lr_schedule="burda")

    def objective(model, xb, yb, kl_weight=1.0):
        weights.append(float(kl_weight))
        rates.append(float(optimizer_of[0].param_groups[0]["lr"]))
        return F.cross_entropy(model(xb.flatten(1)), yb) * kl_weight

    model = nn.Linear(784, 10)
    optimizer_of = []
    original = make_optimizer

    def spy(model, config, **kw):
        optimizer_of.append(original(model, config, **kw))
        return optimizer_of[0]

    import thesis_lib.infra.training as training

    training.make_optimizer, saved = spy, training.make_optimizer
    try:
        fit(model, objective, x, train_y=y, config=config, device="cpu", progress=False, step="static")
    finally:
        training.make_optimizer = saved
    # two steps an epoch: the weight rises by 1/4 a step to 1; the rate drops by 10^(-1/7) after epoch 1
    expected = [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    torch.testing.assert_close(torch.tensor(weights), torch.tensor(expected), rtol=1e-6, atol=0)
    assert isinstance(optimizer_of[0].param_groups[0]["lr"], torch.Tensor)
    later = 1e-3 * 10 ** (-1 / 7)
    torch.testing.assert_close(torch.tensor(rates), torch.tensor([1e-3, 1e-3] + [later] * 4), rtol=1e-6, atol=0)


def test_a_batch_of_another_size_is_refused():
    x, y = data(10)
    model = nn.Linear(784, 10)
    optimizer = make_optimizer(model, TrainConfig(epochs=1, batch_size=4, lr=1e-3), graph=True)
    step = GraphStep(model, lambda m, xb, yb: F.cross_entropy(m(xb.flatten(1)), yb), optimizer, x, y,
                     torch.zeros(()), 4, warmup=False, capture=False)
    with pytest.raises(ValueError, match="idx has 2 entries; the captured step takes batches of 4"):
        step(torch.arange(2))


@pytest.mark.parametrize("step, device, optimizer, message", [
    ("graph", "cpu", "adam", "step='graph' needs a CUDA device, but the device is 'cpu'"),
    ("static", "cpu", "sgd", "step='static' needs optimizer='adam', not 'sgd'"),
    ("fast", "cpu", "adam", "step='fast' is not allowed; choose one of 'eager', 'static', 'graph'")])
def test_steps_that_cannot_run_are_refused_by_name(step, device, optimizer, message):
    x, y = data(10)
    config = TrainConfig(epochs=1, batch_size=4, lr=1e-3, optimizer=optimizer)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        fit(nn.Linear(784, 10), lambda m, xb, yb: F.cross_entropy(m(xb.flatten(1)), yb), x, train_y=y,
            config=config, device=device, progress=False, step=step)
