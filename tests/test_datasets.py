"""Multi-task data sets built from scikit-learn's shipped data."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.datasets import load_digits  # noqa: E402

from pmo_grad.problems.datasets import DiabetesTasks, MultiDigits, OneVsRestDigits  # noqa: E402


def test_multidigits_canvases_hold_the_labelled_digits():
    data = MultiDigits("validation", pairings=2)
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    left, right = data.targets
    assert data.inputs.shape == (2 * 270, 1, 12, 12)
    for j in range(0, len(data), 37):
        canvas = data.inputs[j, 0].numpy()
        # the corners that only one digit covers identify it among the images of its label
        top_left = canvas[:4, :8]
        bottom_right = canvas[8:, 4:]
        assert any(np.array_equal(top_left, im[:4, :8]) for im in images[digits.target == int(left[j])])
        assert any(np.array_equal(bottom_right, im[4:, :]) for im in images[digits.target == int(right[j])])


def test_splits_deterministic_and_disjoint():
    a, b = MultiDigits("train"), MultiDigits("train")
    assert torch.equal(a.inputs, b.inputs)
    assert all(torch.equal(x, y) for x, y in zip(a.targets, b.targets))
    assert not torch.equal(MultiDigits("train", seed=1).inputs, a.inputs)
    sizes = [len(OneVsRestDigits(split)) for split in ("train", "validation", "test")]
    assert sum(sizes) == 1797
    rows = [set(map(bytes, OneVsRestDigits(split).inputs.numpy())) for split in ("train", "validation", "test")]
    # some digit images are exact duplicates in the source data, so allow a handful of shared rows
    assert len(rows[0] & rows[1]) < 10
    assert len(rows[0] & rows[2]) < 10


def test_one_vs_rest_targets_one_hot():
    data = OneVsRestDigits("test")
    stacked = torch.cat(data.targets, dim=1)
    assert stacked.shape == (len(data), 10)
    assert torch.all(stacked.sum(dim=1) == 1)


def test_diabetes_tasks_standardized():
    train = DiabetesTasks("train")
    assert train.inputs.shape[1] == 8
    assert len(train.targets) == 3
    for y in train.targets:
        assert abs(float(y.mean())) < 1e-5
        assert abs(float(y.std(unbiased=False)) - 1) < 1e-4
    test = DiabetesTasks("test")
    assert len(train) + len(DiabetesTasks("validation")) + len(test) == 442


def test_bad_split_and_pairings_are_rejected():
    with pytest.raises(ValueError, match="split must be one of"):
        MultiDigits("val")
    with pytest.raises(ValueError, match="pairings must be an integer >= 1"):
        MultiDigits("train", pairings=0)
