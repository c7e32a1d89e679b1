"""Data-parallel collectives over a ``torch.distributed`` process group.

A run on k ranks (one process per device, started by ``torchrun``) keeps the whole data set
and the same random generators on every rank. Every sample set the estimator draws is
therefore the same global set A on all ranks, and each rank r works on its own contiguous
shard A_r (``numpy.array_split(A, k)[r]``): the shards are disjoint and cover A. Each rank
weights its micro-batch sums by |micro-batch| / |A|, so the SUM all-reduce of the local sums is

    (1/|A|) Σ_r Σ_{j∈A_r} ∇ℓ_j = (1/|A|) Σ_{j∈A} ∇ℓ_j,

the single-process mean up to the order of the floating-point additions.

:class:`Communicator` makes each such reduction one collective. The parts to reduce are
packed into one flat buffer, and 2k status entries follow them: rank r sets entry r when its
local computation raised, and entry k + r when its local sums are not finite. A rank whose
local work raised still joins the collective with zeros, so no rank waits forever. After the
collective the status entries tell every rank which ranks failed. The ranks then exchange the
failure messages, and the failed rank raises its own error while the others raise
:class:`RankFailedError` naming it.

``traffic`` counts the tensor collectives, their payload bytes and the time spent in them
(see :class:`Traffic`). A ring all-reduce of P payload bytes sends about 2(k − 1)/k · P bytes
per rank, and a ring all-gather of k slots of P/k bytes sends (k − 1)/k · P.
"""

from __future__ import annotations

import importlib
import io
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

from pmo_grad.launch import launched_by_torchrun, local_rank

logger = logging.getLogger(__name__)

RAISED = 0
NONFINITE = 1


class RankFailedError(RuntimeError):
    """Another rank of the process group raised; this rank stops with the failed rank's message.

    Attributes: ``rank`` (the first rank that failed), ``message`` (its error as
    "ExceptionType: text") and ``during`` (the operation all ranks were in).
    """

    def __init__(self, rank: int, message: str, during: str) -> None:
        super().__init__(f"rank {rank} failed during {during}: {message}; this rank stopped as well")
        self.rank = rank
        self.message = message
        self.during = during


def process_group_ready() -> bool:
    """Tell whether ``torch.distributed`` is available and its default process group is initialized."""
    return dist.is_available() and dist.is_initialized()


def init_from_environment(device: str = "cpu", timeout_s: float = 600.0) -> torch.device:
    """Initialize the default process group from the ``torchrun`` environment and return this rank's device.

    The backend is NCCL for ``device="cuda"`` (each rank takes ``cuda:LOCAL_RANK``) and gloo
    for ``device="cpu"``. ``timeout_s`` bounds how long a collective waits for a rank that does
    not come, for example one killed by the operating system. A rank that raises inside a
    training step is reported at once (see :class:`Communicator`). Call
    ``torch.distributed.destroy_process_group()`` when training ends.
    """
    if not launched_by_torchrun():
        raise RuntimeError(
            "RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT are not all set; start the program with "
            "`torchrun --nproc_per_node=K ...`, or call torch.distributed.init_process_group yourself"
        )
    if not math.isfinite(timeout_s) or timeout_s <= 0:
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    kind = torch.device(device).type
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' was requested but torch.cuda.is_available() is False; pass device='cpu'")
        index = local_rank()
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"LOCAL_RANK is {index} but this node has {torch.cuda.device_count()} GPU(s); "
                "start at most one process per GPU (--nproc_per_node)"
            )
        torch.cuda.set_device(index)
        this_device = torch.device("cuda", index)
        backend = "nccl"
    elif kind == "cpu":
        this_device = torch.device("cpu")
        backend = "gloo"
    else:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if not dist.is_initialized():
        # NOTE: with torch 2.13, importing torch._dynamo after the group exists (creating the first
        # torch.optim optimizer does) keeps references to the group, so destroy_process_group()
        # leaves gloo's worker threads running into interpreter shutdown, where they can abort
        # the process. Imported first, it does not.
        importlib.import_module("torch._dynamo")

        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    logger.info("rank %d of %d: process group ready (%s), device %s",
                dist.get_rank(), dist.get_world_size(), dist.get_backend(), this_device)
    return this_device


@dataclass
class Traffic:
    """Tensor collectives made so far, by kind ("all_reduce", "all_gather", "broadcast").

    ``bytes`` contains payload bytes: the size of the tensor a rank passes to an all-reduce or a
    broadcast, and of the k slots it receives from an all-gather. ``seconds`` is the wall time
    spent inside the collectives, waiting for slower ranks included.
    """

    calls: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, kind: str, nbytes: int, seconds: float = 0.0) -> None:
        self.calls[kind] = self.calls.get(kind, 0) + 1
        self.bytes[kind] = self.bytes.get(kind, 0) + int(nbytes)
        self.seconds += seconds

    @property
    def n_collectives(self) -> int:
        return sum(self.calls.values())

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())

    def reset(self) -> None:
        self.calls.clear()
        self.bytes.clear()
        self.seconds = 0.0


@dataclass(frozen=True)
class FlatLayout:
    """Shapes and dtypes of the parts packed into one flat buffer; a None shape is a part that is always None."""

    shapes: tuple[tuple[int, ...] | None, ...]
    dtypes: tuple[torch.dtype | None, ...]
    device: torch.device

    @property
    def dtype(self) -> torch.dtype:
        """Common dtype of the buffer: the widest of the parts' dtypes."""
        out = None
        for dtype in self.dtypes:
            if dtype is not None:
                out = dtype if out is None else torch.promote_types(out, dtype)
        return out if out is not None else torch.float32

    @property
    def size(self) -> int:
        return sum(math.prod(shape) for shape in self.shapes if shape is not None)

    def pack(self, parts: Sequence[torch.Tensor | None], extra: int) -> torch.Tensor:
        """Return a buffer of ``size + extra`` entries holding the parts (zeros for a missing part) and zeros after."""
        if len(parts) != len(self.shapes):
            raise ValueError(f"expected {len(self.shapes)} parts to pack, got {len(parts)}")
        buffer = torch.zeros(self.size + extra, dtype=self.dtype, device=self.device)
        start = 0
        for part, shape in zip(parts, self.shapes):
            if shape is None:
                continue
            n = math.prod(shape)
            if part is not None:
                if tuple(part.shape) != tuple(shape):
                    raise ValueError(f"a part has shape {tuple(part.shape)} where the layout expects {tuple(shape)}")
                buffer[start:start + n].copy_(part.reshape(-1))
            start += n
        return buffer

    def unpack(self, buffer: torch.Tensor) -> list[torch.Tensor | None]:
        """Return the parts stored in ``buffer`` (views cast back to each part's dtype)."""
        out: list[torch.Tensor | None] = []
        start = 0
        for shape, dtype in zip(self.shapes, self.dtypes):
            if shape is None:
                out.append(None)
                continue
            n = math.prod(shape)
            out.append(buffer[start:start + n].reshape(shape).to(dtype))
            start += n
        return out


def layout_of(examples: Sequence[tuple[Sequence[int], torch.dtype] | None], device: torch.device) -> FlatLayout:
    """Return the layout of parts given as (shape, dtype) pairs, None for parts that are always None."""
    return FlatLayout(
        tuple(None if e is None else tuple(int(n) for n in e[0]) for e in examples),
        tuple(None if e is None else e[1] for e in examples),
        torch.device(device),
    )


class Communicator:
    """Sharding and fault-aware collectives of one data-parallel run.

    Parameters
    ----------
    group:
        The process group; the default group when None. It must be initialized.

    Every method that communicates is a collective: all ranks of the group call it, in the same
    order, with buffers of the same size. The training code of :class:`MultiTaskProblem`
    guarantees that, because every rank draws the same sample sets and makes the same decisions.
    """

    def __init__(self, group=None) -> None:
        if not process_group_ready():
            raise RuntimeError(
                "no torch.distributed process group is initialized; start the program with torchrun and call "
                "torch.distributed.init_process_group (or pmo_grad.problems.distributed.init_from_environment) "
                "before building the problem, or pass distributed=False"
            )
        self.group = group
        self.rank = dist.get_rank(group)
        self.world_size = dist.get_world_size(group)
        self.backend = str(dist.get_backend(group))
        self.traffic = Traffic()
        self.last_nonfinite_ranks: list[int] = []

    def __deepcopy__(self, memo) -> "Communicator":
        # A handle on the process-wide group: copies of a problem or an algorithm share it.
        return self

    def __repr__(self) -> str:
        return f"Communicator(rank={self.rank}, world_size={self.world_size}, backend={self.backend!r})"

    @property
    def is_main(self) -> bool:
        """True on rank 0, the rank that prints, writes results and saves checkpoints."""
        return self.rank == 0

    # ------------------------------------------------------------------ sharding

    def shard(self, indices: np.ndarray, micro_batch_size: int | None) -> tuple[np.ndarray, int]:
        """Return this rank's contiguous shard of ``indices`` and the global number of its first micro-batch.

        Micro-batches are numbered across ranks in shard order, rank r's first one following the
        last of rank r − 1. Random layers are seeded per micro-batch number, so when every shard
        is a whole number of micro-batches of ``micro_batch_size`` samples, each micro-batch gets
        the same samples and the same dropout masks as in a single process.
        """
        parts = np.array_split(np.asarray(indices), self.world_size)
        first = 0
        for r in range(self.rank):
            n = len(parts[r])
            if n == 0:
                continue
            first += math.ceil(n / micro_batch_size) if micro_batch_size else 1
        return parts[self.rank], first

    def task_block(self, n_tasks: int, rank: int | None = None) -> range:
        """Return the tasks that ``rank`` (this rank for None) computes when tasks are split among ranks.

        Contiguous blocks of ⌈m/k⌉ or ⌊m/k⌋ tasks, the larger ones first; ranks beyond m get none.
        """
        rank = self.rank if rank is None else rank
        bounds = np.cumsum([0] + [len(p) for p in np.array_split(np.arange(n_tasks), self.world_size)])
        return range(int(bounds[rank]), int(bounds[rank + 1]))

    # ------------------------------------------------------------------ tensor collectives

    def _transport(self, buffer: torch.Tensor) -> torch.Tensor:
        """Return the tensor the backend reduces: gloo works on host memory, so CUDA buffers are staged there."""
        if buffer.is_cuda and self.backend == "gloo":
            return buffer.cpu()
        return buffer

    def all_reduce_sum(
        self, compute: Callable[[], Sequence[torch.Tensor | None]], layout: FlatLayout, during: str
    ) -> list[torch.Tensor | None]:
        """Run ``compute`` on this rank, then sum its parts over all ranks in one all-reduce.

        Returns the summed parts, the same on every rank. If ``compute`` raised on any rank,
        every rank raises after the collective (see the module docstring). The ranks whose own
        parts held a NaN or infinite value are left in ``last_nonfinite_ranks``.
        """
        k = self.world_size
        error = None
        try:
            buffer = layout.pack(compute(), extra=2 * k)
            n = layout.size
            buffer[n + k + self.rank] = (~torch.isfinite(buffer[:n])).any().to(buffer.dtype)
        except Exception as exc:  # noqa: BLE001 - every error has to reach the other ranks before this one raises
            error = exc
            buffer = torch.zeros(layout.size + 2 * k, dtype=layout.dtype, device=layout.device)
            buffer[layout.size + self.rank] = 1
        wire = self._transport(buffer)
        start = time.perf_counter()
        dist.all_reduce(wire, op=dist.ReduceOp.SUM, group=self.group)
        self.traffic.add("all_reduce", wire.numel() * wire.element_size(), time.perf_counter() - start)
        if wire is not buffer:
            buffer.copy_(wire)
        status = buffer[layout.size:].tolist()
        self._raise_failures([status[r] > 0 for r in range(k)], error, during)
        self.last_nonfinite_ranks = [r for r in range(k) if status[k + r] > 0]
        return layout.unpack(buffer[:layout.size])

    def all_gather_slots(
        self, compute: Callable[[], torch.Tensor], n_entries: int, dtype: torch.dtype, device: torch.device, during: str
    ) -> torch.Tensor:
        """Run ``compute`` (a tensor of ``n_entries`` values) on this rank and gather every rank's values.

        Returns a (k × n_entries) tensor whose row r came from rank r, the same on every rank.
        Failures and non-finite values are reported as in :meth:`all_reduce_sum`.
        """
        k = self.world_size
        error = None
        try:
            values = compute().reshape(-1)
            if values.numel() != n_entries:
                raise ValueError(f"expected {n_entries} values to gather, got {values.numel()}")
            buffer = torch.zeros(n_entries + 2, dtype=dtype, device=device)
            buffer[:n_entries].copy_(values)
            buffer[n_entries + NONFINITE] = (~torch.isfinite(values)).any().to(dtype)
        except Exception as exc:  # noqa: BLE001 - every error has to reach the other ranks before this one raises
            error = exc
            buffer = torch.zeros(n_entries + 2, dtype=dtype, device=device)
            buffer[n_entries + RAISED] = 1
        wire = self._transport(buffer)
        received = [torch.empty_like(wire) for _ in range(k)]
        start = time.perf_counter()
        dist.all_gather(received, wire, group=self.group)
        self.traffic.add("all_gather", wire.numel() * wire.element_size() * k, time.perf_counter() - start)
        gathered = torch.stack(received).to(device)
        status = gathered[:, n_entries:].tolist()
        self._raise_failures([row[RAISED] > 0 for row in status], error, during)
        self.last_nonfinite_ranks = [r for r in range(k) if status[r][NONFINITE] > 0]
        return gathered[:, :n_entries]

    def broadcast_from_main(self, tensors: Sequence[torch.Tensor]) -> bool:
        """Overwrite ``tensors`` in place with rank 0's values; return whether any of them changed here.

        Tensors of one dtype travel in one flat buffer, so there is one broadcast per dtype.
        """
        changed = False
        by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            flat = torch.cat([t.detach().reshape(-1) for t in group])
            wire = self._transport(flat)
            start = time.perf_counter()
            dist.broadcast(wire, src=dist.get_global_rank(self.group, 0) if self.group is not None else 0, group=self.group)
            self.traffic.add("broadcast", wire.numel() * wire.element_size(), time.perf_counter() - start)
            received = wire.to(flat.device)
            changed = changed or not torch.equal(received, flat)
            start = 0
            with torch.no_grad():
                for t in group:
                    n = t.numel()
                    t.copy_(received[start:start + n].reshape(t.shape))
                    start += n
        return changed

    # ------------------------------------------------------------------ object collectives

    def all_gather_object(self, value) -> list:
        """Return the values of all ranks, in rank order (a pickled exchange, for setup and errors)."""
        out: list = [None] * self.world_size
        dist.all_gather_object(out, value, group=self.group)
        return out

    def broadcast_object(self, value):
        """Return rank 0's ``value`` on every rank."""
        box = [value]
        dist.broadcast_object_list(box, src=0, group=self.group)
        return box[0]

    def require_same(self, values: dict, hint: str) -> None:
        """Raise a ValueError on every rank unless ``values`` is the same on all ranks; ``hint`` tells how to fix it."""
        gathered = self.all_gather_object(values)
        differing = sorted({key for other in gathered for key in values if other.get(key) != values.get(key)})
        if differing:
            detail = "; ".join(f"{key}: " + ", ".join(f"rank {r}: {g.get(key)!r}" for r, g in enumerate(gathered))
                               for key in differing)
            raise ValueError(f"the ranks disagree on {', '.join(differing)} ({detail}); {hint}")

    def run_on_main(self, action: Callable[[], object], during: str):
        """Run ``action`` on rank 0 only and return its result there (None elsewhere).

        The other ranks wait for it; if it raises, rank 0 raises that error and the others raise
        :class:`RankFailedError`, so no rank goes on to a collective that rank 0 will never join.
        """
        result, error = None, None
        if self.is_main:
            try:
                result = action()
            except Exception as exc:  # noqa: BLE001 - reported to every rank below
                error = exc
        message = self.broadcast_object(None if error is None else f"{type(error).__name__}: {error}")
        if error is not None:
            raise error
        if message is not None:
            raise RankFailedError(0, message, during)
        return result

    def load_on_main(self, read: Callable[[], bytes | None], device: torch.device | str, during: str):
        """Read a ``torch.save`` file on rank 0 with ``read`` and return its contents on every rank, on ``device``.

        Only rank 0 needs to see the file, so a checkpoint written by rank 0 on its local disk
        resumes runs on any number of ranks.
        """
        data = self.run_on_main(read, during)
        data = self.broadcast_object(data)
        if data is None:
            return None
        return torch.load(io.BytesIO(data), map_location=device, weights_only=False)

    def barrier(self) -> None:
        dist.barrier(group=self.group)

    # ------------------------------------------------------------------ failures

    def _raise_failures(self, failed: Sequence[bool], error: BaseException | None, during: str) -> None:
        ranks = [r for r, f in enumerate(failed) if f]
        if not ranks:
            return
        messages = self.all_gather_object(None if error is None else f"{type(error).__name__}: {error}")
        if error is not None:
            if hasattr(error, "add_note"):  # Python >= 3.11
                error.add_note(f"raised on rank {self.rank} of {self.world_size} during {during}; the other ranks stopped too")
            raise error
        first = ranks[0]
        logger.error("rank %d failed during %s: %s", first, during, messages[first])
        raise RankFailedError(first, messages[first] or "no message", during)
