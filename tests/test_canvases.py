"""thesis_lib.experiments.canvases: chapter 3.3's experiments as registered (architectures, data,
objectives, sizes), the requests' real reference canvases, and the committed reader reading them."""

import pytest
import torch

from thesis_lib.experiments import canvases as cv
from thesis_lib.experiments.experiment import registered
from thesis_lib.infra import paths
from thesis_lib.on_demand import ordered_pairs
from thesis_lib.slot_reader import SlotReader


def test_the_four_experiments_are_registered_with_their_data_and_objectives():
    found = registered()
    assert [found[e.name] for e in cv.EXPERIMENTS] == cv.EXPERIMENTS
    assert (cv.READER.data, cv.READER.objective) == ("reader-canvases", "slot-cross-entropy")
    assert (cv.CONDITIONAL.data, cv.UNCONDITIONAL.data, cv.DIGITS.data) == (
        "labelled-composed-mnist", "composed-mnist", "generator-digits")
    assert cv.CONDITIONAL.build().conditional and not cv.UNCONDITIONAL.build().conditional
    assert isinstance(cv.READER.build(), SlotReader)
    assert cv.cas_reader_architecture() == {"channels": [16, 32, 64, 64], "features": 128}
    digits = cv.DIGITS.build()
    assert digits.latent == 4 and digits.decoder.widths == (14, 200, 784)  # z and the one-hot digit


@pytest.mark.parametrize("experiment", cv.EXPERIMENTS, ids=[e.name for e in cv.EXPERIMENTS])
def test_each_composed_model_fits_in_3_mb(experiment):
    parameters = sum(p.numel() for p in experiment.build().parameters())
    assert 4 * parameters < 3e6
    committed = paths.COMMITTED_DIR / f"{experiment.name}.pt"
    if committed.exists():
        assert committed.stat().st_size <= 3_000_000


def test_real_reference_canvases_hold_the_digits_asked_for_and_the_committed_reader_reads_them():
    requests = ordered_pairs(2)
    real = cv.real_canvases(requests)
    assert real.shape == (200, 48, 48) and real.dtype == torch.uint8
    if not (paths.COMMITTED_DIR / "canvas-reader.json").exists():
        pytest.skip("the reader is not committed yet")
    reader, _ = cv.READER.trained("full")
    measures = cv.request_measures(reader, lambda r, g: cv.real_canvases(r))
    assert measures["read_as_asked"] > 0.9 and measures["requests"] == 1000
