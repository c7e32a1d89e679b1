"""Small multi-task networks: a shared trunk and one head per task."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class MultiTaskNet(nn.Module):
    """A shared trunk z = h(x) followed by one head per task, output_s = g_s(z).

    ``forward`` returns the list of the m head outputs. The representation engine (MGDA-UB)
    uses ``trunk`` and ``heads`` directly.
    """

    def __init__(self, trunk: nn.Module, heads: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(heads) < 2:
            raise ValueError(f"a multi-task network needs at least 2 heads, got {len(heads)}")
        self.trunk = trunk
        self.heads = nn.ModuleList(heads)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        z = self.trunk(x)
        return [head(z) for head in self.heads]


def mlp_multitask(
    n_inputs: int,
    head_outputs: Sequence[int],
    hidden: Sequence[int] = (64, 64),
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> MultiTaskNet:
    """Return a multi-layer perceptron trunk with one linear head per task.

    The trunk flattens its input, then applies Linear → [BatchNorm] → ReLU → [Dropout] for each
    width in ``hidden``. Head s is a linear map to ``head_outputs[s]`` outputs.
    """
    layers: list[nn.Module] = [nn.Flatten()]
    width = n_inputs
    for size in hidden:
        layers.append(nn.Linear(width, size))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    return MultiTaskNet(nn.Sequential(*layers), [nn.Linear(width, k) for k in head_outputs])
