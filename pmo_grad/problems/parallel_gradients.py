"""How per-task gradients travel between ranks.

Two layouts serve the two ways of splitting a refresh step among k ranks:

* data parallel (:func:`rows_layout`, :func:`direction_layout`): every rank computes the rows
  of all m tasks on its shard of the samples, and one SUM all-reduce of the flat rows gives the
  rows of the whole batch. The rows of a shared parameter are reduced whole (m × shape),
  because the Gramian of summed gradients is not the sum of the ranks' Gramians;
* task parallel (:class:`TaskSlots`): rank r computes, on the whole batch, the gradients of
  its own block of tasks only, ⌈m/k⌉ or ⌊m/k⌋ of them, and one all-gather assembles the m
  rows. A task's slot contains its gradient on the shared parameters, its gradient on its own
  parameters (padded to the largest task's own size) and its loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pmo_grad.problems.distributed import Communicator, FlatLayout, layout_of
from pmo_grad.problems.task_gradients import SHARED, UNREACHED, ParameterSplit


def rows_layout(split: ParameterSplit, loss_dtype: torch.dtype, device, extra: Sequence[torch.Tensor] = ()) -> FlatLayout:
    """Return the layout of (rows of :class:`TaskGradients`, the m losses, ``extra`` tensors)."""
    entries = []
    for p, owner in zip(split.params, split.owner):
        if owner == SHARED:
            entries.append(((split.n_tasks, *p.shape), p.dtype))
        elif owner == UNREACHED:
            entries.append(None)
        else:
            entries.append((tuple(p.shape), p.dtype))
    entries.append(((split.n_tasks,), loss_dtype))
    entries += [(tuple(t.shape), t.dtype) for t in extra]
    return layout_of(entries, device)


def direction_layout(split: ParameterSplit, loss_dtype: torch.dtype, device, extra: Sequence[torch.Tensor] = ()) -> FlatLayout:
    """Return the layout of (a step direction, the m losses, ``extra`` tensors)."""
    entries = [None if owner == UNREACHED else (tuple(p.shape), p.dtype) for p, owner in zip(split.params, split.owner)]
    entries.append(((split.n_tasks,), loss_dtype))
    entries += [(tuple(t.shape), t.dtype) for t in extra]
    return layout_of(entries, device)


class TaskSlots:
    """Per-task slots of a task-parallel refresh: which rank computes which tasks, and how their rows travel."""

    def __init__(self, split: ParameterSplit, comm: Communicator, loss_dtype: torch.dtype, device) -> None:
        m = split.n_tasks
        self.split = split
        self.blocks = [comm.task_block(m, r) for r in range(comm.world_size)]
        self.tasks = comm.task_block(m)
        self.n_slots = max(len(block) for block in self.blocks)
        self.shared = split.shared
        self.shared_size = sum(split.params[i].numel() for i in self.shared)
        self.own_size = max(sum(split.params[i].numel() for i in split.task_specific(s)) for s in range(m))
        self.slot_size = self.shared_size + self.own_size + 1
        dtype = loss_dtype
        for p in split.params:
            dtype = torch.promote_types(dtype, p.dtype)
        self.dtype = dtype
        self.loss_dtype = loss_dtype
        self.device = torch.device(device)
        self.sub_split = self._sub_split(split, self.tasks)

    @property
    def n_entries(self) -> int:
        return self.n_slots * self.slot_size

    @staticmethod
    def _sub_split(split: ParameterSplit, tasks: range) -> ParameterSplit:
        """Return the split restricted to ``tasks``: their own parameters renumbered, other tasks' ones unreached."""
        owner = []
        for o in split.owner:
            if o == SHARED:
                owner.append(SHARED)
            elif o in tasks:
                owner.append(o - tasks.start)
            else:
                owner.append(UNREACHED)
        return ParameterSplit(names=split.names, params=split.params, owner=tuple(owner), n_tasks=len(tasks))

    def pack(self, rows: Sequence[torch.Tensor | None] | None, losses: torch.Tensor) -> torch.Tensor:
        """Return this rank's slots from the rows of :attr:`sub_split` (its tasks) and the m losses."""
        slots = torch.zeros(self.n_slots, self.slot_size, dtype=self.dtype, device=self.device)
        for position, s in enumerate(self.tasks):
            start = 0
            for i in self.shared:
                n = self.split.params[i].numel()
                slots[position, start:start + n].copy_(rows[i][position].reshape(-1))
                start += n
            start = self.shared_size
            for i in self.split.task_specific(s):
                n = self.split.params[i].numel()
                slots[position, start:start + n].copy_(rows[i].reshape(-1))
                start += n
            slots[position, -1] = losses[s]
        return slots

    def assemble(self, gathered: torch.Tensor) -> tuple[list[torch.Tensor | None], torch.Tensor]:
        """Return the rows of all m tasks and their losses from the (k × entries) gathered slots."""
        split = self.split
        by_task = []
        for r, block in enumerate(self.blocks):
            slots = gathered[r].reshape(self.n_slots, self.slot_size)
            by_task += [slots[position] for position in range(len(block))]
        rows: list[torch.Tensor | None] = [None] * len(split.params)
        start = 0
        for i in self.shared:
            p = split.params[i]
            n = p.numel()
            rows[i] = torch.stack([slot[start:start + n] for slot in by_task]).reshape(split.n_tasks, *p.shape).to(p.dtype)
            start += n
        for s, slot in enumerate(by_task):
            start = self.shared_size
            for i in split.task_specific(s):
                p = split.params[i]
                rows[i] = slot[start:start + p.numel()].reshape(p.shape).to(p.dtype)
                start += p.numel()
        losses = torch.stack([slot[-1] for slot in by_task]).to(self.loss_dtype)
        return rows, losses

    def __repr__(self) -> str:
        return f"TaskSlots(tasks={list(self.tasks)}, slots={self.n_slots} x {self.slot_size})"

