"""Per-task gradients of a multi-task network, and the split of its parameters by task.

A multi-task network with m tasks has parameters θ = (θ_sh, θ_1, …, θ_m): shared ones, reached
by several task losses, and task-specific ones θ_s, reached by task s alone (its head). The
multiple-gradient step of Sener & Koltun (2018) that this module serves is

    λ = argmin_{λ ∈ Δ_m} ‖Σ_s λ_s ∇_{θ_sh} L_s‖²,
    θ_sh ← θ_sh − η Σ_s λ_s ∇_{θ_sh} L_s,        θ_s ← θ_s − η ∇_{θ_s} L_s,

so the Gramian is formed on the shared parameters only, and each head follows its own task's
gradient. Parameters that no task reaches get no gradient and stay as they are. Passing every
parameter as shared gives the plain multiple-gradient step on the whole network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

SHARED = -1
"""Owner code of a shared parameter."""

UNREACHED = -2
"""Owner code of a parameter that no task loss reaches."""

Direction = list  # list[torch.Tensor | None], one entry per trainable parameter, in split order


@dataclass(frozen=True)
class ParameterSplit:
    """Trainable parameters in a fixed order, each with its owner.

    ``owner[i]`` is :data:`SHARED`, a task index s, or :data:`UNREACHED`.
    """

    names: tuple[str, ...]
    params: tuple[torch.nn.Parameter, ...]
    owner: tuple[int, ...]
    n_tasks: int

    @property
    def shared(self) -> list[int]:
        return [i for i, o in enumerate(self.owner) if o == SHARED]

    def task_specific(self, s: int) -> list[int]:
        return [i for i, o in enumerate(self.owner) if o == s]

    @property
    def reached(self) -> list[int]:
        return [i for i, o in enumerate(self.owner) if o != UNREACHED]

    def for_task(self, s: int) -> list[int]:
        """Indices of the parameters whose gradient task s contributes: shared ones and its own."""
        return [i for i, o in enumerate(self.owner) if o in (SHARED, s)]

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.params)

    def summary(self) -> str:
        counts = {"shared": 0, "unreached": 0}
        for p, o in zip(self.params, self.owner):
            if o == SHARED:
                key = "shared"
            elif o == UNREACHED:
                key = "unreached"
            else:
                key = f"task {o}"
            counts[key] = counts.get(key, 0) + p.numel()
        return ", ".join(f"{key}: {value}" for key, value in counts.items())


def gramian_dtype(dtype: torch.dtype) -> torch.dtype:
    """Return the dtype the Gramian is accumulated in: float32, or wider when the gradients are."""
    return torch.promote_types(dtype, torch.float32)


class TaskGradients:
    """Per-task gradients on one batch, possibly scaled by a loss scale.

    ``rows[i]`` contains the stacked gradients of all m tasks (m × shape of θ_i) when parameter
    i is shared. For a parameter of task s it contains that task's gradient (shape of θ_i),
    and for an unreached parameter it is None. Every entry is multiplied by ``scale`` (a ``GradScaler``'s loss
    scale, 1 otherwise). ``losses`` are the m task losses on the batch, unscaled.
    """

    def __init__(self, split: ParameterSplit, rows: Sequence[torch.Tensor | None], losses: torch.Tensor, scale: float = 1.0) -> None:
        self.split = split
        self.rows = list(rows)
        self.losses = losses
        self.scale = float(scale)

    def gramian(self) -> torch.Tensor:
        """Return G = J_sh J_shᵀ (m × m) of the unscaled shared-parameter Jacobian, on the device.

        Accumulated in float32 or wider, whatever the precision the gradients were computed in.
        The result is symmetrized, (G + Gᵀ)/2, because a matrix product rounds its (s, t) and
        (t, s) entries differently, and in float32 the difference exceeds what the weight
        solvers accept as symmetric.
        """
        m = self.split.n_tasks
        device = self.losses.device
        dtype = gramian_dtype(self.losses.dtype)
        for i in self.split.shared:
            dtype = torch.promote_types(dtype, gramian_dtype(self.rows[i].dtype))
        G = torch.zeros(m, m, dtype=dtype, device=device)
        for i in self.split.shared:
            J = self.rows[i].reshape(m, -1).to(dtype) / self.scale
            G += J @ J.T
        return (G + G.T) / 2  # blocked matrix products need not round symmetrically

    def direction(self, weights: torch.Tensor) -> Direction:
        """Return the step direction: Σ_s λ_s ∇_{θ_sh} L_s on shared parameters, ∇_{θ_s} L_s on task s's own.

        The direction carries the loss scale, as gradients do under a ``GradScaler``.
        """
        out: Direction = []
        for row, owner in zip(self.rows, self.split.owner):
            if owner == SHARED:
                out.append(torch.tensordot(weights.to(row.dtype), row, dims=1))
            else:
                out.append(row)
        return out

    def nonfinite_task(self) -> int | None:
        """Return the first task with a non-finite loss or gradient entry, or None.

        Losses are checked first: a batched backward multiplies a NaN loss's gradient by the zero
        cotangents of the other tasks, which spreads the NaN into their rows as well.
        """
        bad_losses = torch.nonzero(~torch.isfinite(self.losses)).flatten().tolist()
        if bad_losses:
            return bad_losses[0]
        if all_finite(self.rows):
            return None
        bad = torch.zeros_like(self.losses, dtype=torch.bool)
        for row, owner in zip(self.rows, self.split.owner):
            if row is None:
                continue
            if owner == SHARED:
                bad = bad | ~torch.isfinite(row.reshape(self.split.n_tasks, -1)).all(dim=1)
            elif not bool(torch.isfinite(row).all()):
                bad[owner] = True
        tasks = torch.nonzero(bad).flatten().tolist()
        return tasks[0] if tasks else None

    def _combine(self, other: "TaskGradients", sign: float) -> "TaskGradients":
        if self.split is not other.split or self.scale != other.scale:
            raise ValueError("task gradients of different parameter splits or loss scales cannot be combined")
        rows = [None if a is None else a + sign * b for a, b in zip(self.rows, other.rows)]
        return TaskGradients(self.split, rows, self.losses, self.scale)

    def __add__(self, other: "TaskGradients") -> "TaskGradients":
        return self._combine(other, 1.0)

    def __sub__(self, other: "TaskGradients") -> "TaskGradients":
        return self._combine(other, -1.0)

    def detached(self) -> "TaskGradients":
        return TaskGradients(self.split, [None if r is None else r.detach() for r in self.rows], self.losses.detach(), self.scale)


def add_directions(a: Direction, b: Direction, sign: float = 1.0) -> Direction:
    """Return a + sign · b entry by entry (None stays None)."""
    return [None if x is None else x + sign * y for x, y in zip(a, b)]


def all_finite(tensors) -> bool:
    """Tell whether every entry of the tensors (None entries skipped) is finite, with one host synchronization.

    A NaN or infinite entry makes its tensor's sum non-finite. A non-finite total of finite
    entries (an overflowing sum) is checked entry by entry, so the result is exact.
    """
    present = [t for t in tensors if t is not None]
    if not present:
        return True
    total = torch.stack([t.sum().to(torch.float64) for t in present]).sum()
    if bool(torch.isfinite(total)):
        return True
    return all(bool(torch.isfinite(t).all()) for t in present)


def direction_is_finite(direction: Direction) -> bool:
    """Tell whether every entry of the direction is finite (see :func:`all_finite`)."""
    return all_finite(direction)
