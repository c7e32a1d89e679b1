"""Multi-task data addressed by sample index: tensors kept on the device, or any map-style dataset.

A sample j is an input x_j with one target per task, (x_j, (y_j1, …, y_jm)). Both forms give
``batch(indices)`` → (inputs, targets) on the problem's device, where ``inputs`` is a tensor of
|indices| rows and ``targets`` a tuple of m tensors of |indices| rows. Tensors move to the
device once, so a run reads its data without a host round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate


class TensorTaskData:
    """Inputs (n × …) and m target tensors (n × …) on one device.

    Copies of a problem (``copy.deepcopy``, pymoo's ``save_history``) share the data instead of
    duplicating it every generation.
    """

    def __deepcopy__(self, memo) -> "TensorTaskData":
        return self

    def __init__(self, inputs: torch.Tensor, targets: Sequence[torch.Tensor], device: torch.device) -> None:
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
        if inputs.ndim == 0 or len(inputs) == 0:
            raise ValueError(f"inputs must have at least one sample (a first dimension n >= 1), got shape {tuple(inputs.shape)}")
        targets = tuple(targets)
        for s, target in enumerate(targets):
            if not isinstance(target, torch.Tensor):
                raise TypeError(f"target {s} must be a torch.Tensor, got {type(target).__name__}")
            if target.ndim == 0 or len(target) != len(inputs):
                raise ValueError(
                    f"target {s} has shape {tuple(target.shape)} but the inputs have {len(inputs)} samples; "
                    "give every task one target per sample"
                )
        self.inputs = inputs.to(device)
        self.targets = tuple(t.to(device) for t in targets)
        self.device = device

    @property
    def n_tasks(self) -> int:
        return len(self.targets)

    def __len__(self) -> int:
        return len(self.inputs)

    def batch(self, indices: np.ndarray) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.device)
        return self.inputs.index_select(0, idx), tuple(t.index_select(0, idx) for t in self.targets)


class DatasetTaskData:
    """A map-style dataset whose item j is (x_j, (y_j1, …, y_jm)) or (x_j, y_j1, …, y_jm).

    Items are collated with ``torch.utils.data.default_collate`` and moved to the device per
    request. NOTE: this reads items one by one on the host; tensors are the fast path.
    """

    def __deepcopy__(self, memo) -> "DatasetTaskData":
        return self

    def __init__(self, dataset: Dataset, device: torch.device) -> None:
        try:
            n = len(dataset)  # type: ignore[arg-type]
        except TypeError as error:
            raise TypeError(
                f"the dataset {type(dataset).__name__} has no len(); give a map-style Dataset "
                "(with __len__ and __getitem__) or tensors"
            ) from error
        if n < 1:
            raise ValueError("the dataset is empty; give at least one sample")
        self.dataset = dataset
        self.device = device
        self._n = int(n)
        self._n_tasks = len(self._split(dataset[0], 0)[1])

    @staticmethod
    def _split(item, index: int):
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError(
                f"dataset item {index} is a {type(item).__name__}; each item must be (input, targets) with "
                "one target per task, or (input, target_1, …, target_m)"
            )
        if len(item) == 2 and isinstance(item[1], (tuple, list)):
            return item[0], tuple(item[1])
        return item[0], tuple(item[1:])

    @property
    def n_tasks(self) -> int:
        return self._n_tasks

    def __len__(self) -> int:
        return self._n

    def batch(self, indices: np.ndarray) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        items = [self._split(self.dataset[int(j)], int(j)) for j in indices]
        inputs = default_collate([x for x, _ in items]).to(self.device)
        targets = tuple(default_collate([y[s] for _, y in items]).to(self.device) for s in range(self._n_tasks))
        return inputs, targets


def as_task_data(data, device: torch.device, role: str) -> TensorTaskData | DatasetTaskData:
    """Wrap ``data``, a map-style ``Dataset`` or a pair (inputs, targets), for index access.

    ``targets`` is a sequence of m tensors, one per task. A dataset with a ``task_tensors``
    attribute, (inputs, targets), is read from those tensors. ``role`` names the argument in
    errors.
    """
    if isinstance(data, (TensorTaskData, DatasetTaskData)):
        return data
    tensors = getattr(data, "task_tensors", None)
    if tensors is not None:
        inputs, targets = tensors
        return TensorTaskData(inputs, targets, device)
    if isinstance(data, Dataset):
        return DatasetTaskData(data, device)
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], torch.Tensor):
        raise TypeError(
            f"{role} inputs must be a torch.Tensor, got {type(data[0]).__name__}; convert arrays with "
            "torch.as_tensor(array, dtype=torch.float32), and the targets likewise"
        )
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        inputs, targets = data
        if isinstance(targets, torch.Tensor):
            raise TypeError(
                f"{role} targets are one tensor; give a sequence with one target tensor per task, "
                "for example (inputs, (y_task1, y_task2))"
            )
        return TensorTaskData(inputs, targets, device)
    raise TypeError(
        f"{role} must be a map-style torch Dataset or a pair (inputs, targets) with one target tensor per "
        f"task, got {type(data).__name__}"
    )
