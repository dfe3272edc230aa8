"""thesis_lib.infra.data: real MNIST against its published facts (shapes, first labels, label counts), and
composed MNIST against a canvas rebuilt by hand (the digits' windows, their pixelwise maximum)."""

import pytest
import torch

from thesis_lib.infra import mnist_files
from thesis_lib.infra.data import compose_mnist, draw_of_each_label, load_mnist, place_at, place_in_slots


def test_unknown_split_names_the_allowed_values():
    with pytest.raises(ValueError, match=r"split='validation'.*'train', 'test'"):
        load_mnist("validation")


def test_real_mnist_matches_the_published_facts():
    """Prop 2.3.4 and the published facts of MNIST (first labels, label counts), on the verified files."""
    train, test = load_mnist("train"), load_mnist("test")
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert train.labels[0] == 5 and test.labels[0] == 7
    assert torch.bincount(train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    origin = mnist_files.raw_dir() / "SOURCE.txt"  # the files are there (make data): nothing is fetched
    expected = "verified local files" + (f" (from {origin.read_text().strip()})" if origin.exists() else "")
    assert train.source == test.source == expected


def _digits(n=30):
    g = torch.Generator().manual_seed(1)
    return torch.randint(1, 256, (n, 28, 28), generator=g, dtype=torch.uint8), torch.arange(n) % 10


def _rebuilt(images, picks, positions):
    """A canvas rebuilt by hand: each picked digit's 28×28 window at its position, by the pixelwise maximum."""
    canvas = torch.zeros(48, 48, dtype=images.dtype)
    for (r, c), pick in zip(positions.tolist(), picks):
        window = canvas[r:r + 28, c:c + 28]
        window.copy_(torch.maximum(window, images[pick]))
    return canvas


def test_composed_mnist_shapes_and_determinism():
    images, labels = _digits()
    a = compose_mnist(images, labels, 7, seed=3)
    b = compose_mnist(images, labels, 7, seed=3)
    c = compose_mnist(images, labels, 7, seed=4)
    assert a.images.shape == (7, 48, 48) and a.images.dtype == torch.uint8
    assert a.labels.shape == (7, 2) and a.positions.shape == (7, 2, 2)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_each_digit_lies_in_its_slot_and_canvases_combine_by_the_pixelwise_maximum():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (30, 28, 28), generator=gen, dtype=torch.uint8)
    ids = torch.arange(30)  # unique labels say which image was placed
    out = compose_mnist(images, ids, 300, seed=2)
    rows, cols = out.positions[..., 0], out.positions[..., 1]
    assert rows.min() == 0 and rows.max() == 20  # every row a field can start at, over the whole height
    assert (cols[:, 0].min(), cols[:, 0].max(), cols[:, 1].min(), cols[:, 1].max()) == (0, 4, 16, 20)
    for k in range(0, 300, 7):
        assert torch.equal(out.images[k], _rebuilt(images, out.labels[k].tolist(), out.positions[k]))


def test_ink_in_the_central_20x20_of_each_field_shares_at_most_8_columns():
    digits = torch.zeros(500, 2, 28, 28)
    digits[:, :, 4:24, 4:24] = 1.0  # MNIST's ink box
    _, positions = place_in_slots(digits, torch.Generator().manual_seed(0))
    left_end = positions[:, 0, 1] + 24
    right_start = positions[:, 1, 1] + 4
    assert (left_end - right_start).max() == 8 and (left_end - right_start).min() == 0


def test_requests_get_a_digit_of_each_asked_label_drawn_among_all_of_them():
    labels = torch.arange(30) % 10
    images = torch.zeros(30, 28, 28, dtype=torch.uint8)
    images[:, :3, :3] = (torch.arange(30) + 1).to(torch.uint8)[:, None, None]  # a mark saying which image
    requests = torch.tensor([[3, 7], [0, 0], [9, 1]]).repeat(200, 1)
    out = compose_mnist(images, labels, len(requests), seed=5, requests=requests)
    assert torch.equal(out.labels, requests)
    (r0, c0), (r1, c1) = out.positions[:, 0].T, out.positions[:, 1].T
    k = torch.arange(len(requests))
    left, right = out.images[k, r0, c0].long() - 1, out.images[k, r1, c1].long() - 1
    assert torch.equal(labels[left], requests[:, 0]) and torch.equal(labels[right], requests[:, 1])
    assert set(left[requests[:, 0] == 3].tolist()) == {3, 13, 23}  # every image of the label is drawn
    assert set(right[requests[:, 1] == 1].tolist()) == {1, 11, 21}


def test_draws_of_each_label_have_that_label_and_reach_every_image_of_it():
    labels = torch.tensor([0, 1, 1, 2, 2, 2, 9])
    wanted = torch.tensor([2, 1, 9, 0]).repeat(300)
    picks = draw_of_each_label(labels, wanted, torch.Generator().manual_seed(0))
    assert torch.equal(labels[picks], wanted)
    assert set(picks[wanted == 2].tolist()) == {3, 4, 5} and set(picks[wanted == 1].tolist()) == {1, 2}
    counts = torch.bincount(picks[wanted == 2], minlength=7)[3:6]
    assert counts.min() > 60  # about 100 each of 300: uniform among the images of a label


def test_composed_mnist_rejects_bad_arguments():
    images, labels = _digits()
    with pytest.raises(ValueError, match=r"images must be MNIST digits \[N, 28, 28\]"):
        compose_mnist(images[:, :20], labels, 2)
    with pytest.raises(ValueError, match="n=0 is not allowed"):
        compose_mnist(images, labels, 0)
    with pytest.raises(ValueError, match=r"requests.shape=\(2, 3\) is not allowed; give \[n, 2\] = \[2, 2\]"):
        compose_mnist(images, labels, 2, requests=torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="wanted must hold digits 0..9, got values from 0 to 10"):
        compose_mnist(images, labels, 1, requests=torch.tensor([[0, 10]]))
    with pytest.raises(ValueError, match="no image among the labels"):
        draw_of_each_label(torch.tensor([0, 1]), torch.tensor([2]), torch.Generator())
    with pytest.raises(ValueError, match=r"digits.shape=\(3, 28, 28\) is not allowed"):
        place_in_slots(torch.zeros(3, 28, 28), torch.Generator())


def test_defaults_the_train_split_and_seed_0_and_a_request_draw_is_seeded():
    assert load_mnist() is load_mnist("train")
    images, labels = _digits()
    assert torch.equal(compose_mnist(images, labels, 5).images, compose_mnist(images, labels, 5, seed=0).images)
    requests = torch.tensor([[1, 2], [3, 4], [5, 6]])
    a = compose_mnist(images, labels, 3, seed=7, requests=requests)
    b = compose_mnist(images, labels, 3, seed=7, requests=requests)
    assert torch.equal(a.images, b.images) and torch.equal(a.positions, b.positions)


def test_draws_of_each_label_match_a_numpy_lookup_of_the_same_uniform_numbers():
    import numpy as np

    labels = torch.randint(10, (500,), generator=torch.Generator().manual_seed(3))
    wanted = torch.randint(10, (2000,), generator=torch.Generator().manual_seed(4))
    picks = draw_of_each_label(labels, wanted, torch.Generator().manual_seed(5))
    u = torch.rand(wanted.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64).numpy()
    members = {d: np.flatnonzero(labels.numpy() == d) for d in range(10)}
    expected = [members[w][int(np.floor(x * len(members[w])))] for w, x in zip(wanted.tolist(), u)]
    assert picks.tolist() == expected


def test_placing_refuses_what_is_not_pairs_of_28x28_digits_and_names_the_shape():
    with pytest.raises(ValueError, match=r"^digits.shape=\(3, 2, 28, 27\) is not allowed; give pairs of digits"):
        place_at(torch.zeros(3, 2, 28, 27), torch.zeros(3, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^digits.shape=\(3, 2, 28, 27\) is not allowed"):
        place_in_slots(torch.zeros(3, 2, 28, 27), torch.Generator())
    images, labels = _digits()
    with pytest.raises(ValueError, match="^labels has 3 entries but images has 30$"):
        compose_mnist(images, labels[:3], 2)


def test_load_mnist_prepares_the_root_it_is_given(monkeypatch, tmp_path):
    from thesis_lib.infra import data

    seen = []

    def prepare(root):
        seen.append(root)
        raise RuntimeError("stop before reading")

    monkeypatch.setattr(data, "prepare_mnist", prepare)
    with pytest.raises(RuntimeError, match="stop before reading"):
        load_mnist("test", root=tmp_path / "elsewhere")
    assert seen == [(tmp_path / "elsewhere").resolve()]


def test_the_command_line_prepares_the_files_and_says_where_and_how_many(capsys):
    from thesis_lib.infra import data

    data.main()
    said = capsys.readouterr().out
    source = load_mnist("train").source
    assert said == (f"MNIST ready in {mnist_files.raw_dir()} (source: {source}): 60,000 training and 10,000 test "
                    "images, md5-verified\n")


def test_the_command_line_prepares_quietly_and_prints_one_line_itself(monkeypatch, capsys):
    from thesis_lib.infra import data

    calls = []
    monkeypatch.setattr(data, "prepare_mnist", lambda *args, **kwargs: calls.append((args, kwargs)) or "here")
    data.main()
    assert calls[0] == ((), {"verbose": False}) and capsys.readouterr().out.count("\n") == 1
