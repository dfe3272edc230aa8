"""thesis_lib.on_demand: requests against itertools, the compositional baseline on a decoder whose
digits are known marks, the filter and its bookkeeping against counts made here, the measures against
NumPy, and the CAS on canvases a reader can or cannot learn."""

import itertools

import numpy as np
import pytest
import torch

from thesis_lib import on_demand
from thesis_lib.conditional_vae import ConditionalVAE
from thesis_lib.conv_vae import ConvVAE
from thesis_lib.infra.config import TrainConfig
from thesis_lib.slot_reader import SlotReader, read_canvases


def test_ordered_pairs_ask_for_every_ordered_pair_equally_often():
    requests = on_demand.ordered_pairs(3)
    assert requests.shape == (300, 2)
    assert [tuple(r) for r in requests[::3].tolist()] == list(itertools.product(range(10), repeat=2))
    assert all(torch.equal(requests[i], requests[i + 1]) for i in range(0, 300, 3))
    with pytest.raises(ValueError, match="^per_pair=0 is not allowed"):
        on_demand.ordered_pairs(0)


def _mark_decoder() -> ConditionalVAE:
    """A conditional VAE of single digits whose digit d is one bright pixel at row 4 + 2d, column 14 of
    its 28×28 field, whatever z."""
    model = ConditionalVAE((784, 12), latent=1)
    first, last = model.decoder.layers
    with torch.no_grad():
        first.W.zero_()
        first.W[:10, 1:] = torch.eye(10)  # the first ten hidden units are the one-hot condition
        first.b.zero_()
        last.W.fill_(-30.0)
        last.b.zero_()
        for d in range(10):
            last.W[(4 + 2 * d) * 28 + 14, d] = 30.0
    return model


def test_the_compositional_baseline_puts_each_asked_digit_in_its_slot():
    requests = on_demand.ordered_pairs(2)
    canvases = on_demand.compositional(_mark_decoder(), requests, torch.Generator().manual_seed(0))
    assert canvases.shape == (200, 48, 48)
    for canvas, (a, b) in zip(canvases, requests.tolist()):
        rows, cols = (canvas > 0.99).nonzero().T.tolist()
        assert len(rows) == 2 and (canvas > 0.01).sum() == 2
        (r_left, c_left), (r_right, c_right) = sorted(zip(rows, cols), key=lambda p: p[1])
        assert 14 <= c_left <= 18 and 30 <= c_right <= 34  # column 14 of fields starting at 0–4 and 16–20
        assert 0 <= r_left - (4 + 2 * a) <= 20 and 0 <= r_right - (4 + 2 * b) <= 20


def test_meet_gives_each_request_a_draw_read_as_asked_uses_each_draw_once_and_says_which_it_met():
    labels = torch.tensor([[3, 7], [1, 1], [3, 7], [0, 2], [3, 7]])
    canvases = torch.arange(5.0)[:, None, None].expand(5, 48, 48)  # canvas i is filled with i
    filtered = on_demand.Filtered(canvases, labels, draws=50, accepted=torch.zeros(10, 10))
    requests = torch.tensor([[3, 7], [0, 2], [5, 5], [3, 7], [0, 2], [3, 7], [3, 7]])
    met_canvases, met = filtered.meet(requests)
    assert met.tolist() == [True, True, False, True, False, True, False]  # one (0, 2), three (3, 7), no (5, 5)
    used = met_canvases[:, 0, 0].long().tolist()
    assert used == [0, 3, 2, 4]  # the (3, 7) draws in order, the (0, 2) draw once


def test_meet_serves_many_requests_first_come_first_served_like_a_queue_per_pair():
    """200 draws of three pairs against 300 requests: each pair's requests take its draws in the order
    they were drawn, as one queue per pair written out here does."""
    gen = torch.Generator().manual_seed(8)
    kinds = torch.tensor([[3, 7], [1, 1], [0, 2]])
    labels = kinds[torch.randint(3, (200,), generator=gen)]
    requests = kinds[torch.randint(3, (300,), generator=gen)]
    canvases = torch.arange(200.0)[:, None, None].expand(200, 48, 48)
    met_canvases, met = on_demand.Filtered(canvases, labels, draws=200, accepted=torch.zeros(10, 10)).meet(requests)
    queues = {pair: [i for i, drawn in enumerate(map(tuple, labels.tolist())) if drawn == pair]
              for pair in map(tuple, kinds.tolist())}
    expected = [queues[pair].pop(0) if queues[pair] else None for pair in map(tuple, requests.tolist())]
    assert met.tolist() == [e is not None for e in expected]
    assert met_canvases[:, 0, 0].long().tolist() == [e for e in expected if e is not None]


def test_the_filter_keeps_the_confident_draws_labelled_as_read_and_counts_every_accepted_one():
    torch.manual_seed(0)
    vae, reader = ConvVAE(latent=2, channels=(2, 2, 2), conditional=False), SlotReader((2, 2), features=4)
    everything = on_demand.filter_by_reader(vae, reader, draws=30, keep=100, generator=torch.Generator().manual_seed(1),
                                            confidence=0.0, batch_size=7)
    draws = torch.cat([  # the same draws, batch by batch as the filter makes them
        on_demand.conv_vae.generate(vae, n, generator=g) for g in [torch.Generator().manual_seed(1)]
        for n in (7, 7, 7, 7, 2)])
    read = read_canvases(reader, draws).probabilities.argmax(-1)
    torch.testing.assert_close(everything.canvases, draws)
    assert torch.equal(everything.labels, read)
    expected = np.zeros((10, 10))
    np.add.at(expected, (read[:, 0].numpy(), read[:, 1].numpy()), 1)
    np.testing.assert_array_equal(everything.accepted.numpy(), expected)
    assert everything.acceptance().sum() == 1.0
    few = on_demand.filter_by_reader(vae, reader, draws=30, keep=4, generator=torch.Generator().manual_seed(1),
                                     confidence=0.0, batch_size=7)
    assert len(few.canvases) == 4 and few.accepted.sum() == 30
    none = on_demand.filter_by_reader(vae, reader, draws=30, keep=4, confidence=1.0)
    assert len(none.canvases) == 0 and none.accepted.sum() == 0


def test_request_scores_read_as_asked_and_the_nearest_training_canvas_by_brute_force():
    torch.manual_seed(1)
    reader = SlotReader((2, 2), features=4)
    gen = torch.Generator().manual_seed(2)
    canvases, real = torch.rand(13, 48, 48, generator=gen), torch.rand(13, 48, 48, generator=gen)
    training = torch.randint(0, 256, (40, 48, 48), generator=gen, dtype=torch.uint8)
    requests = torch.randint(10, (13, 2), generator=gen)
    scores = on_demand.score_requests(reader, canvases, requests, real, training)
    read = read_canvases(reader, canvases).probabilities.argmax(-1)
    assert scores.read_as_asked == pytest.approx((read == requests).all(1).double().mean().item())
    q, t = canvases.reshape(13, -1).double().numpy(), training.reshape(40, -1).double().numpy() / 255
    nearest = np.sqrt(((q[:, None] - t[None]) ** 2).sum(-1)).min(1)
    assert scores.nearest_training_distance == pytest.approx(float(np.median(nearest)), rel=1e-4)
    assert scores.frechet_distance > 0 and scores.n == 13
    as_bytes = on_demand.score_requests(reader, training[:13], requests, real, training)
    assert as_bytes.nearest_training_distance < 0.05  # uint8 canvases as pixels / 255 (cdist rounds 0 up)
    with pytest.raises(ValueError, match="canvases has 13 rows but requests has 12"):
        on_demand.score_requests(reader, canvases, requests[:12], real, training)


def _block_canvases(n: int, seed: int):
    """Canvases whose left digit a is a bright block at row 4a (columns 4–7) and right digit b one at
    row 4b (columns 36–39): a reader can learn them."""
    labels = torch.randint(10, (n, 2), generator=torch.Generator().manual_seed(seed))
    canvases = torch.zeros(n, 48, 48)
    for i, (a, b) in enumerate(labels.tolist()):
        canvases[i, 4 * a:4 * a + 4, 4:8] = 1
        canvases[i, 4 * b:4 * b + 4, 36:40] = 1
    return canvases, labels


def test_cas_is_high_for_canvases_that_teach_the_labels_and_low_for_shuffled_labels(monkeypatch, capsys):
    """Its fresh reader has the architecture asked for, and it trains without a progress bar even where
    bars are on (THESIS_PROGRESS=on)."""
    built = []
    monkeypatch.setattr(on_demand, "SlotReader", lambda **kw: built.append(kw) or SlotReader(**kw))
    monkeypatch.setenv("THESIS_PROGRESS", "on")
    train_x, train_y = _block_canvases(600, 0)
    test_x, test_y = _block_canvases(200, 1)
    config = TrainConfig(epochs=6, batch_size=32, lr=3e-3)
    architecture = {"channels": (8, 8), "features": 32}
    good = on_demand.classification_accuracy_score(train_x, train_y, test_x, test_y, config, architecture)
    shuffled = train_y[torch.randperm(600, generator=torch.Generator().manual_seed(3))]
    bad = on_demand.classification_accuracy_score(train_x, shuffled, test_x, test_y, config, architecture)
    assert good > 0.9 and bad < 0.1
    assert built == [architecture, architecture] and capsys.readouterr().err == ""


def test_the_explorers_canvas_places_both_asked_digits_in_the_middle_of_their_slots():
    canvas = on_demand.request_canvas(_mark_decoder(), 3, 8, torch.zeros(1))
    assert on_demand.CENTRED == ((10, 2), (10, 18))
    assert sorted(map(tuple, (canvas > 0.99).nonzero().tolist())) == [(10 + 4 + 6, 2 + 14), (10 + 4 + 16, 18 + 14)]


def test_the_style_axis_is_the_first_principal_axis_of_the_codes_scaled_to_their_spread():
    torch.manual_seed(4)
    model = ConditionalVAE((784, 16), latent=3)
    gen = torch.Generator().manual_seed(5)
    images = torch.randint(0, 256, (200, 28, 28), generator=gen, dtype=torch.uint8)
    labels = torch.randint(10, (200,), generator=gen)
    axis = on_demand.style_axis(model, images, labels)
    with torch.no_grad():
        c = torch.nn.functional.one_hot(labels, 10).float()
        mu = model.encode(images.reshape(200, -1).float() / 255, c)[0].double().numpy()
    values, vectors = np.linalg.eigh(np.cov(mu.T))
    expected = vectors[:, -1] * np.sqrt(values[-1])
    expected *= np.sign(expected[np.abs(expected).argmax()])
    np.testing.assert_allclose(axis.numpy(), expected, rtol=1e-3, atol=1e-5)
