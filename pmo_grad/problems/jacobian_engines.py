"""Gradient engines: how the m task gradients of one micro-batch are computed.

Each engine receives the list of the m task losses of a micro-batch (already multiplied by the micro-batch's
share of the batch and by the loss scale) and returns their gradients:

* :class:`LoopEngine`: one backward pass per task, ``torch.autograd.grad(L_s, θ)``;
* :class:`BatchedEngine`: all tasks in one call, a vector-Jacobian product batched over the rows
  of the identity (``torch.autograd.grad(..., is_grads_batched=True)``, which runs on
  ``torch.vmap``), in chunks of ``task_chunk_size`` tasks. Where vmap cannot batch an operation,
  it falls back to the loop for the rest of the run;
* :class:`RepresentationEngine`: gradients with respect to the shared representation z = h(x)
  instead of the parameters (MGDA-UB, Sener & Koltun 2018). The Gramian of these gradients
  gives the weights, and one backward pass of the weighted loss gives the step.

Engines count their backward calls (a batched call counts once) in the returned ``n_backward``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

from pmo_grad.problems.task_gradients import SHARED, ParameterSplit

logger = logging.getLogger(__name__)


def _zeros_for_none(grads: Sequence[torch.Tensor | None], leaves: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.zeros_like(leaf) if g is None else g for g, leaf in zip(grads, leaves)]


class LoopEngine:
    """One ``torch.autograd.grad`` call per task, on the shared parameters and the task's own."""

    name = "loop"

    def parameter_rows(
        self, losses: Sequence[torch.Tensor], leaves: Sequence[torch.Tensor], split: ParameterSplit
    ) -> tuple[list[torch.Tensor | None], int]:
        m = split.n_tasks
        per_task: dict[int, list[torch.Tensor]] = {i: [] for i in split.shared}
        rows: list[torch.Tensor | None] = [None] * len(leaves)
        for s in range(m):
            indices = split.for_task(s)
            grads = torch.autograd.grad(
                losses[s], [leaves[i] for i in indices], retain_graph=True, allow_unused=True
            )
            for i, g in zip(indices, _zeros_for_none(grads, [leaves[i] for i in indices])):
                if split.owner[i] == SHARED:
                    per_task[i].append(g)
                else:
                    rows[i] = g
        for i, gs in per_task.items():
            rows[i] = torch.stack(gs)
        return rows, m

    def representation_rows(self, losses: Sequence[torch.Tensor], z: torch.Tensor) -> tuple[torch.Tensor, int]:
        grads = [
            torch.autograd.grad(losses[s], z, retain_graph=True, allow_unused=True)[0] for s in range(len(losses))
        ]
        return torch.stack(_zeros_for_none(grads, [z] * len(grads))), len(losses)

    def __repr__(self) -> str:
        return "LoopEngine()"


class BatchedEngine:
    """All task gradients in batched vector-Jacobian products, ``task_chunk_size`` tasks per call.

    Parameters
    ----------
    task_chunk_size:
        Tasks per batched call; None batches all m at once. Smaller chunks bound the memory of
        the batched backward, which keeps one copy of every intermediate gradient per task.
    """

    name = "batched"

    def __init__(self, task_chunk_size: int | None = None) -> None:
        if task_chunk_size is not None and (
            isinstance(task_chunk_size, bool) or not isinstance(task_chunk_size, int) or task_chunk_size < 1
        ):
            raise ValueError(f"task_chunk_size must be an integer >= 1 or None, got {task_chunk_size!r}")
        self.task_chunk_size = task_chunk_size
        self._loop = LoopEngine()
        self.fallback_reason: str | None = None

    def _chunks(self, m: int) -> list[range]:
        size = self.task_chunk_size or m
        return [range(start, min(start + size, m)) for start in range(0, m, size)]

    def _batched(self, losses: Sequence[torch.Tensor], inputs: Sequence[torch.Tensor]) -> tuple[list[list[torch.Tensor]], int]:
        """Return, per chunk, the gradients of the chunk's tasks (c × shape) for every input."""
        losses = torch.stack(list(losses))
        m = len(losses)
        identity = torch.eye(m, dtype=losses.dtype, device=losses.device)
        out = []
        for chunk in self._chunks(m):
            grads = torch.autograd.grad(
                losses,
                list(inputs),
                grad_outputs=identity[chunk.start:chunk.stop],
                retain_graph=True,
                allow_unused=True,
                is_grads_batched=True,
            )
            out.append(
                [
                    torch.zeros((len(chunk), *x.shape), dtype=x.dtype, device=x.device) if g is None else g
                    for g, x in zip(grads, inputs)
                ]
            )
        return out, len(out)

    def _fall_back(self, error: RuntimeError) -> None:
        self.fallback_reason = str(error).splitlines()[0]
        logger.warning(
            "BatchedEngine: torch could not batch the backward pass (%s); using one backward pass per task "
            "from now on", self.fallback_reason,
        )

    def parameter_rows(
        self, losses: Sequence[torch.Tensor], leaves: Sequence[torch.Tensor], split: ParameterSplit
    ) -> tuple[list[torch.Tensor | None], int]:
        if self.fallback_reason is not None:
            return self._loop.parameter_rows(losses, leaves, split)
        reached = split.reached
        try:
            chunks, n_backward = self._batched(losses, [leaves[i] for i in reached])
        except RuntimeError as error:
            self._fall_back(error)
            return self._loop.parameter_rows(losses, leaves, split)
        rows: list[torch.Tensor | None] = [None] * len(leaves)
        for position, i in enumerate(reached):
            owner = split.owner[i]
            if owner == SHARED:
                rows[i] = torch.cat([chunk[position] for chunk in chunks])
            else:
                size = self.task_chunk_size or split.n_tasks
                rows[i] = chunks[owner // size][position][owner % size]
        return rows, n_backward

    def representation_rows(self, losses: Sequence[torch.Tensor], z: torch.Tensor) -> tuple[torch.Tensor, int]:
        if self.fallback_reason is not None:
            return self._loop.representation_rows(losses, z)
        try:
            chunks, n_backward = self._batched(losses, [z])
        except RuntimeError as error:
            self._fall_back(error)
            return self._loop.representation_rows(losses, z)
        return torch.cat([chunk[0] for chunk in chunks]), n_backward

    def __repr__(self) -> str:
        return f"BatchedEngine(task_chunk_size={self.task_chunk_size})"


class RepresentationEngine:
    """MGDA-UB: weights from the gradients with respect to the shared representation.

    The model must expose ``trunk`` (x ↦ z) and ``heads`` (one module per task, z ↦ output), as
    :class:`pmo_grad.problems.networks.MultiTaskNet` does, and its forward must be
    ``[head(trunk(x)) for head in heads]``. The Gramian is that of ∂L_s/∂z, summed over the
    batch; z has one row per sample, so micro-batches add up exactly. The step direction comes
    from one more forward and one backward pass of the weighted loss, on the same samples with
    the same dropout seeds. Representation gradients are batched as in :class:`BatchedEngine`.

    NOTE: the weights solve an upper bound of the parameter min-norm problem, not the problem
    itself, so they differ from the other engines' weights. The Pareto-stationarity shown for
    this engine is that of the representation gradients.
    """

    name = "representation"

    def __init__(self, task_chunk_size: int | None = None) -> None:
        self.batched = BatchedEngine(task_chunk_size)

    def representation_rows(self, losses: Sequence[torch.Tensor], z: torch.Tensor) -> tuple[torch.Tensor, int]:
        return self.batched.representation_rows(losses, z)

    def __repr__(self) -> str:
        return f"RepresentationEngine(task_chunk_size={self.batched.task_chunk_size})"


ENGINES = {"loop": LoopEngine, "batched": BatchedEngine, "representation": RepresentationEngine}


def make_engine(engine: str | LoopEngine | BatchedEngine | RepresentationEngine, device: torch.device):
    """Return the engine named ``engine``, or ``engine`` itself.

    Names: "loop", "batched", "representation", and "auto", which picks the batched engine on a
    GPU and the loop on other devices. On two CPU cores (``benchmarks/bench_neural.py``) the
    loop was faster than the batched engine: 1.7 against 1.8 times linear scalarization per MGDA
    step with 2 tasks, 3.1 against 6.3 times with 10 tasks. NOTE: that the batched engine wins
    on a GPU is the usual experience with ``torch.vmap``, not a measurement of this project.
    """
    if isinstance(engine, (LoopEngine, BatchedEngine, RepresentationEngine)):
        return engine
    if engine == "auto":
        return BatchedEngine() if device.type == "cuda" else LoopEngine()
    if isinstance(engine, str) and engine in ENGINES:
        return ENGINES[engine]()
    raise ValueError(f"engine must be 'auto', one of {sorted(ENGINES)} or an engine object, got {engine!r}")
