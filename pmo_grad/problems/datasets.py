"""Multi-task data sets built from data that scikit-learn ships, deterministically, with no download.

* :class:`MultiDigits`: two 8 × 8 digits overlaid on one 12 × 12 canvas, one at the top left
  and one shifted 4 pixels down and right, with the pixel-wise maximum where they overlap. The
  tasks classify the left digit and the right digit, in the spirit of MultiMNIST.
* :class:`OneVsRestDigits`: the 8 × 8 digits with ten binary tasks, "is it digit k".
* :class:`DiabetesTasks`: three regression tasks on the diabetes data (442 patients): disease
  progression after one year, and the serum measurements s5 and s6, each predicted from age,
  sex, body-mass index, blood pressure and s1–s4.

Each is a map-style torch ``Dataset`` of one split ("train", "validation" or "test"). Its item
j is (x_j, (y_j1, …, y_jm)), and ``task_tensors`` gives all of it as tensors, which a
:class:`MultiTaskProblem` keeps on its device. The split assigns every source sample to exactly
one split (70 / 15 / 15 %, from a seeded permutation), so no source sample is shared between
splits. scikit-learn's digits contain a few identical images, which can land in different splits.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_diabetes, load_digits
from torch.utils.data import Dataset

SPLITS = ("train", "validation", "test")
_FRACTIONS = (0.7, 0.15)


def _split_indices(n: int, split: str, seed: int) -> np.ndarray:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    order = np.random.default_rng(seed).permutation(n)
    n_train = int(round(_FRACTIONS[0] * n))
    n_val = int(round(_FRACTIONS[1] * n))
    bounds = {"train": (0, n_train), "validation": (n_train, n_train + n_val), "test": (n_train + n_val, n)}
    start, stop = bounds[split]
    return np.sort(order[start:stop])


class _TaskTensors(Dataset):
    """A split held as an input tensor and one target tensor per task."""

    task_names: tuple[str, ...] = ()

    def __init__(self, inputs: torch.Tensor, targets: tuple[torch.Tensor, ...], split: str) -> None:
        self.inputs = inputs
        self.targets = targets
        self.split = split

    @property
    def task_tensors(self) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """(inputs, (y_1, …, y_m)), the whole split as tensors."""
        return self.inputs, self.targets

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, j: int):
        return self.inputs[j], tuple(t[j] for t in self.targets)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(split={self.split!r}, n={len(self)}, tasks={list(self.task_names)})"


class MultiDigits(_TaskTensors):
    """Pairs of overlaid digits on a 12 × 12 canvas; tasks: the left digit and the right digit (10 classes each).

    Parameters
    ----------
    split:
        "train", "validation" or "test".
    pairings:
        How many canvases each digit image of the split appears on as the left digit; its right
        partners are drawn from the same split. The split has ``pairings`` × its number of
        images canvases (1797 images: 1258 / 270 / 269 for train / validation / test).
    seed:
        Seed of the split and of the pairing.

    Inputs are float32 of shape (n, 1, 12, 12) with values in [0, 1]; targets are int64 labels.
    """

    task_names = ("left", "right")

    def __init__(self, split: str = "train", pairings: int = 1, seed: int = 0) -> None:
        if isinstance(pairings, bool) or not isinstance(pairings, int) or pairings < 1:
            raise ValueError(f"pairings must be an integer >= 1, got {pairings!r}")
        digits = load_digits()
        images = digits.images.astype(np.float32) / 16.0
        labels = digits.target.astype(np.int64)
        own = _split_indices(len(images), split, seed)
        rng = np.random.default_rng([seed, SPLITS.index(split), 1])
        left = np.tile(own, pairings)
        right = np.concatenate([rng.permutation(own) for _ in range(pairings)])
        canvas = np.zeros((len(left), 1, 12, 12), dtype=np.float32)
        canvas[:, 0, :8, :8] = images[left]
        canvas[:, 0, 4:, 4:] = np.maximum(canvas[:, 0, 4:, 4:], images[right])
        super().__init__(
            torch.from_numpy(canvas),
            (torch.from_numpy(labels[left]), torch.from_numpy(labels[right])),
            split,
        )


class OneVsRestDigits(_TaskTensors):
    """The 8 × 8 digits with ten binary tasks: task k's target is 1.0 if the digit is k, else 0.0.

    Inputs are float32 of shape (n, 64) with values in [0, 1]; each target is float32 of shape
    (n, 1), for ``torch.nn.BCEWithLogitsLoss``.
    """

    task_names = tuple(f"is_{k}" for k in range(10))

    def __init__(self, split: str = "train", seed: int = 0) -> None:
        digits = load_digits()
        own = _split_indices(len(digits.data), split, seed)
        inputs = torch.from_numpy(digits.data[own].astype(np.float32) / 16.0)
        labels = digits.target[own]
        targets = tuple(torch.from_numpy((labels == k).astype(np.float32)[:, None]) for k in range(10))
        super().__init__(inputs, targets, split)


class DiabetesTasks(_TaskTensors):
    """Three regression tasks on scikit-learn's diabetes data: progression, s5 and s6.

    Inputs are the 8 other columns (age, sex, bmi, bp, s1–s4). Inputs and targets are
    standardized with the mean and standard deviation of the training split, so each task's
    mean squared error starts near 1. Targets are float32 of shape (n, 1).
    """

    task_names = ("progression", "s5", "s6")

    def __init__(self, split: str = "train", seed: int = 0) -> None:
        data = load_diabetes(scaled=False)
        columns = list(data.feature_names)
        X = data.data.astype(np.float64)
        target_columns = [columns.index("s5"), columns.index("s6")]
        input_columns = [j for j in range(X.shape[1]) if j not in target_columns]
        Y = np.column_stack([data.target, X[:, target_columns]])
        inputs = X[:, input_columns]
        train = _split_indices(len(X), "train", seed)
        mean_x, std_x = inputs[train].mean(axis=0), inputs[train].std(axis=0)
        mean_y, std_y = Y[train].mean(axis=0), Y[train].std(axis=0)
        own = _split_indices(len(X), split, seed)
        x = ((inputs[own] - mean_x) / std_x).astype(np.float32)
        y = ((Y[own] - mean_y) / std_y).astype(np.float32)
        super().__init__(torch.from_numpy(x), tuple(torch.from_numpy(y[:, [s]].copy()) for s in range(3)), split)


def _mlp_problem(n_inputs: int, head_outputs: list[int], loss, train: _TaskTensors, validation: _TaskTensors,
                 hidden: tuple[int, ...], model_seed: int, problem_options: dict):
    """Return a :class:`MultiTaskProblem` of an MLP with one head per task and one loss for every task.

    The model is initialized from ``torch.manual_seed(model_seed)`` inside a forked random
    state, so the caller's random state is left as it was.
    """
    from pmo_grad.problems.networks import mlp_multitask
    from pmo_grad.problems.neural import MultiTaskProblem

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(model_seed)
        model = mlp_multitask(n_inputs, head_outputs, hidden=hidden)
    losses = {name: loss for name in train.task_names}
    return MultiTaskProblem(model, train, losses, validation=validation, **problem_options)


def multi_digits_problem(
    hidden: tuple[int, ...] = (64, 64),
    seed: int = 0,
    pairings: int = 1,
    model_seed: int = 0,
    **problem_options,
):
    """Return MultiDigits as a :class:`MultiTaskProblem`: an MLP trunk, two linear heads, cross-entropy.

    The model is initialized from ``torch.manual_seed(model_seed)`` inside a forked random
    state; ``problem_options`` go to :class:`MultiTaskProblem` (``device``, ``engine``,
    ``micro_batch_size``, …). The validation split is the evaluation split.
    """
    train = MultiDigits("train", pairings=pairings, seed=seed)
    validation = MultiDigits("validation", pairings=pairings, seed=seed)
    return _mlp_problem(144, [10, 10], torch.nn.CrossEntropyLoss(), train, validation, hidden, model_seed,
                        problem_options)


def one_vs_rest_problem(hidden: tuple[int, ...] = (64,), seed: int = 0, model_seed: int = 0, **problem_options):
    """Return OneVsRestDigits as a :class:`MultiTaskProblem`: an MLP trunk, ten one-logit heads, logistic loss.

    Each task's loss is ``torch.nn.BCEWithLogitsLoss`` on its head's logit. The model is
    initialized as in :func:`multi_digits_problem`, and the validation split is the evaluation split.
    """
    train, validation = OneVsRestDigits("train", seed=seed), OneVsRestDigits("validation", seed=seed)
    return _mlp_problem(64, [1] * 10, torch.nn.BCEWithLogitsLoss(), train, validation, hidden, model_seed,
                        problem_options)


def diabetes_problem(hidden: tuple[int, ...] = (32,), seed: int = 0, model_seed: int = 0, **problem_options):
    """Return DiabetesTasks as a :class:`MultiTaskProblem`: an MLP trunk, three one-output heads, squared error.

    Each task's loss is ``torch.nn.MSELoss`` on the standardized target. The model is
    initialized as in :func:`multi_digits_problem`, and the validation split is the evaluation split.
    """
    train, validation = DiabetesTasks("train", seed=seed), DiabetesTasks("validation", seed=seed)
    return _mlp_problem(8, [1, 1, 1], torch.nn.MSELoss(), train, validation, hidden, model_seed, problem_options)
