"""thesis_lib.slot_reader: the reader's shapes and stages against a hand count, its objective against
torch's cross-entropy slot by slot, and read-as-asked against a comparison written out."""

import pytest
import torch
import torch.nn.functional as F

from thesis_lib.conv_layers import ImageConv, MaxPool, use_operator
from thesis_lib.slot_reader import SlotReader, read_as_asked, read_canvases, slot_cross_entropy


def test_reader_reads_two_slots_of_ten_digits_from_canvases_flat_or_square():
    torch.manual_seed(0)
    reader = SlotReader((4, 6, 8, 10), features=16)
    x = torch.rand(5, 48, 48)
    assert reader(x).shape == (5, 2, 10) and reader.features(x).shape == (5, 16)
    torch.testing.assert_close(reader(x), reader(x.reshape(5, -1)))
    convs = [m for m in reader.modules() if isinstance(m, ImageConv)]
    assert [c.kernel.shape[:2] for c in convs] == [(4, 1), (6, 4), (8, 6), (10, 8)]
    assert sum(isinstance(m, MaxPool) for m in reader.modules()) == 4
    assert reader.body[-1].in_features == 3 * 3 * 10  # 48 halved four times


def test_the_thesis_formulas_give_the_same_reading():
    torch.manual_seed(1)
    reader = SlotReader((2, 3), features=8)
    x = torch.rand(2, 48, 48)
    expected = reader(x)
    torch.testing.assert_close(use_operator(reader, "thesis")(x), expected, rtol=1e-5, atol=1e-5)


def test_objective_is_the_sum_of_both_slots_cross_entropies_averaged_over_the_batch():
    torch.manual_seed(2)
    reader = SlotReader((2, 2), features=4)
    x, y = torch.rand(6, 48, 48), torch.randint(10, (6, 2))
    logits = reader(x)
    expected = F.cross_entropy(logits[:, 0], y[:, 0]) + F.cross_entropy(logits[:, 1], y[:, 1])
    torch.testing.assert_close(slot_cross_entropy(reader, x, y), expected)


def test_read_canvases_gives_softmax_per_slot_and_read_as_asked_needs_both_slots():
    torch.manual_seed(3)
    reader = SlotReader((2, 2), features=4)
    canvases = torch.randint(0, 256, (7, 48, 48), dtype=torch.uint8)
    reading = read_canvases(reader, canvases, batch_size=3)
    expected = torch.softmax(reader(canvases.float() / 255), -1).double()
    torch.testing.assert_close(reading.probabilities, expected, rtol=1e-5, atol=1e-6)
    probabilities = torch.zeros(3, 2, 10)
    probabilities[0, 0, 3] = probabilities[0, 1, 7] = 1  # reads (3, 7)
    probabilities[1, 0, 3] = probabilities[1, 1, 1] = 1  # reads (3, 1)
    probabilities[2, 0, 7] = probabilities[2, 1, 3] = 1  # reads (7, 3): the order matters
    asked = torch.tensor([[3, 7]] * 3)
    assert read_as_asked(probabilities, asked).tolist() == [True, False, False]


def test_bad_arguments_name_what_is_allowed():
    with pytest.raises(ValueError, match="48 must halve once per stage"):
        SlotReader((2, 2, 2, 2, 2))
    with pytest.raises(ValueError, match=r"^\(1, channels\.\.\., features\)=\(1, 2, 0, 128\) is not allowed"):
        SlotReader((2, 0))
    with pytest.raises(ValueError, match=r"^probabilities \(3, 2, 10\) and requests \(2, 2\) must agree: "
                                         r"\[n, 2, 10\] and \[n, 2\]$"):
        read_as_asked(torch.zeros(3, 2, 10), torch.zeros(2, 2, dtype=torch.long))


def test_the_reader_is_torchs_convolutions_pools_and_linear_layers_written_out():
    """The forward pass with torch.nn.functional and the reader's own weights: 3×3 convolutions (padding
    1) with ReLU and 2×2 max-pools, the ReLU feature layer, the linear (identity) head of 2 × 10 logits."""
    torch.manual_seed(4)
    reader = SlotReader((2, 3, 5), features=6)
    x = torch.rand(3, 48, 48)
    h = x.reshape(3, 1, 48, 48)
    for conv in [m for m in reader.modules() if isinstance(m, ImageConv)]:
        h = F.max_pool2d(F.relu(F.conv2d(h, conv.kernel, conv.bias, padding=1)), 2)
    feature_layer, head = reader.body[-1], reader.head[0]
    features = F.relu(F.linear(h.flatten(1), feature_layer.W, feature_layer.b))
    torch.testing.assert_close(reader.features(x), features)
    torch.testing.assert_close(reader(x), F.linear(features, head.W, head.b).reshape(3, 2, 10))


def test_the_default_reader_is_the_one_of_chapter_3_3():
    reader = SlotReader()
    assert [m.kernel.shape[0] for m in reader.modules() if isinstance(m, ImageConv)] == [16, 32, 64, 64]
    assert reader.body[-1].width == 128 and reader.body[-1].in_features == 3 * 3 * 64
