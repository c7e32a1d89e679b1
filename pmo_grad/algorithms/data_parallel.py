"""What a network run does differently on several ranks of a ``torch.distributed`` process group.

A data-parallel run is k copies of the same run that make the same decisions. Every rank draws
the same sample sets from the same generators, solves the same weights from the same summed
Gramian and applies the same step, so the parameters stay identical. This module sets up that
agreement when a run starts and keeps rank-dependent side effects on rank 0:

* the ranks must agree on the problem and the algorithm (sizes, parameter split, a fingerprint
  of the data, settings, seed); a disagreement raises on every rank instead of training on
  mismatched data;
* rank 0's parameters and buffers are copied to every rank, as ``DistributedDataParallel`` does;
* with ``seed=None`` rank 0's random generator state is copied to every rank;
* only rank 0 shows pymoo's display and writes checkpoints; a checkpoint is read on rank 0 and
  sent to the others, so it resumes on any number of ranks.

NOTE: the ranks stay identical bit for bit only when they run the same torch build on the same
kind of device, as with ``DistributedDataParallel``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from pymoo.termination.max_time import TimeBasedTermination

from pmo_grad.algorithms.checkpoint import Checkpoint

if TYPE_CHECKING:  # torch is imported only by runs that train networks
    from pmo_grad.problems.distributed import Communicator

logger = logging.getLogger(__name__)


def _tensor_checksum(t) -> str:
    """Return sums of t and of t weighted by a fixed index pattern, in float64 on t's device.

    Every rank keeps the same data, so the same reductions give the same bits. A change in a
    single entry changes the weighted sum, and the weights 1 + (i mod 9973) make cancellation
    unlikely.
    """
    import torch

    flat = t.detach().reshape(-1).to(torch.float64)
    weights = 1.0 + torch.remainder(torch.arange(flat.numel(), device=flat.device, dtype=torch.float64), 9973.0)
    return f"{float(flat.sum())!r}/{float((flat * weights).sum())!r}/{tuple(t.shape)}"


def _data_fingerprint(problem) -> str:
    """Return a digest of the training and validation data and the sizes of the splits.

    Tensor data are summarized in full (:func:`_tensor_checksum`). NOTE: a map-style dataset is
    read item by item, so only three training samples (first, middle, last) are compared.
    """
    import torch

    from pmo_grad.problems.task_data import TensorTaskData

    digest = hashlib.sha256()
    for data in (problem.train_data, problem.validation_data):
        if data is None:
            digest.update(b"none")
        elif isinstance(data, TensorTaskData):
            for t in (data.inputs, *data.targets):
                digest.update(_tensor_checksum(t).encode())
        else:
            n = len(data)
            inputs, targets = data.batch(np.unique([0, n // 2, n - 1]))
            for t in (inputs, *targets):
                digest.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
            digest.update(str(n).encode())
    return digest.hexdigest()[:16]


def _description(value) -> str:
    """Return ``repr(value)`` without memory addresses, which differ between processes."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _run_description(algorithm, problem) -> dict:
    return {
        "algorithm": type(algorithm).__name__,
        "schedule": _description(algorithm.schedule),
        "estimator": _description(algorithm.estimator),
        "step": _description(algorithm.step_rule),
        "tasks": list(problem.task_names),
        "n_var": int(problem.n_var),
        "parameter split": [int(o) for o in problem.split.owner],
        "engine": type(problem.engine).__name__,
        "micro_batch_size": problem.micro_batch_size,
        "task_parallel": problem.task_parallel,
        "data": _data_fingerprint(problem),
    }


def _time_based(termination) -> bool:
    """Tell whether ``termination`` or one of the criteria it combines stops on wall-clock time."""
    if isinstance(termination, TimeBasedTermination):
        return True
    inner = []
    for name in ("criteria", "terminations"):
        inner += list(getattr(termination, name, None) or [])
    single = getattr(termination, "termination", None)
    if single is not None:
        inner.append(single)
    return any(_time_based(t) for t in inner)


def prepare_ranks(algorithm, problem, comm: Communicator) -> None:
    """Make the ranks start the same run; raise on every rank where their settings differ.

    Called once per run, before the run's random generators are used.
    """
    if _time_based(algorithm.termination):
        raise ValueError(
            "a wall-clock termination ('time', ...) can stop the ranks at different generations, and the ranks that "
            "go on would wait for the others in a collective; stop data-parallel runs with ('n_gen', N), "
            "('n_eval', N) or a sample budget"
        )
    comm.require_same(
        _run_description(algorithm, problem),
        "give every rank the same problem (model, full data set, settings) and the same algorithm; each rank "
        "takes its own shard of every batch itself, so do not split the data per rank",
    )
    seeds = comm.all_gather_object(algorithm.seed)
    if any(seed != seeds[0] for seed in seeds):
        raise ValueError(
            f"the ranks were given different seeds ({', '.join(f'rank {r}: {s}' for r, s in enumerate(seeds))}); "
            "pass the same seed to minimize on every rank, because the seed decides which samples each step uses"
        )
    if seeds[0] is None:
        algorithm.random_state.bit_generator.state = comm.broadcast_object(algorithm.random_state.bit_generator.state)
    model = problem.model
    if comm.broadcast_from_main([*model.parameters(), *model.buffers()]):
        logger.info("rank %d: parameters or buffers differed from rank 0's and were replaced by them", comm.rank)


def silence_display(algorithm, comm: Communicator) -> None:
    """Turn off pymoo's printed display and progress bar on every rank but rank 0."""
    if comm.is_main:
        return
    display = getattr(algorithm, "display", None)
    if display is not None:
        display.verbose = False
        if getattr(display, "progress", None) is not None:
            display.progress.close()
            display.progress = None


def save_checkpoint(checkpoint: Checkpoint, state: Callable[[], dict], comm: Communicator | None) -> None:
    """Save ``state()`` to ``checkpoint`` on rank 0 only; a failed save stops every rank."""
    if comm is None:
        checkpoint.save(state())
        return
    comm.run_on_main(lambda: checkpoint.save(state()), f"saving the checkpoint {checkpoint.path}")


def load_checkpoint(checkpoint: Checkpoint, device, comm: Communicator | None) -> dict | None:
    """Return the saved state on ``device`` (read on rank 0 and sent to every rank), or None."""
    if comm is None:
        return checkpoint.load(device)
    state = comm.load_on_main(checkpoint.read_bytes, device, f"reading the checkpoint {checkpoint.path}")
    if state is not None:
        checkpoint.check_format(state)
    return state
