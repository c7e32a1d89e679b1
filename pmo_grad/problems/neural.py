"""Multi-task neural networks as finite-sum pymoo problems.

A network with trainable parameters θ ∈ R^d and m task losses defines m objectives

    f_s(θ) = (1/n) Σ_{j=1}^{n} ℓ_s(model(x_j; θ)_s, y_js),      s = 1, …, m,

over n training samples. :class:`MultiTaskProblem` is a :class:`FiniteSumProblem` whose
variables are θ (flattened in the order of ``model.named_parameters()``, trainable ones only)
and whose ``evaluate(X)`` returns the per-task mean losses on the evaluation split, so pymoo's
indicators and plots take it as any other problem. The gradient algorithms of pmo_grad drive it
through a fast path that keeps parameters and data on the device for the whole run. Gradients
come from one of the engines of :mod:`pmo_grad.problems.jacobian_engines`, on the samples that
the algorithm's estimator chooses. They are accumulated over micro-batches of at most
``micro_batch_size`` samples, so a batch of any size fits where one micro-batch does.

Training-mode forward passes follow three rules:

* dropout and every other random layer draw from a seed that the algorithm passes in, inside
  ``torch.random.fork_rng``, so the masks are the library's and a second forward on the same
  samples with the same seed (the recursive estimator's previous point, the representation
  engine's weighted pass) draws the same masks; the caller's global random state is untouched;
* buffers (batch-norm running statistics) are updated by the first forward pass of a step only
  (:meth:`MultiTaskProblem.begin_step` allows it); every other forward runs on copies of them,
  so the statistics move once per step whatever the number of tasks, micro-batches or points;
* a parameter snapshot (a dict of tensors) is evaluated with ``torch.func.functional_call``,
  in the same training mode as the live model, without copying the module.

Under a ``torch.distributed`` process group (one process per device, started by ``torchrun``)
the torch-side methods (``task_gradients``, ``weighted_gradient``, their ``_change`` forms,
``train_losses`` and ``evaluation_losses``) are collectives: every rank passes the same global
sample indices, works on its own contiguous shard of them, and gets the global result back
(see :mod:`pmo_grad.problems.distributed`). Per-task gradients are summed as whole rows, the
MGDA-UB Gramian is summed directly (it is a sum over samples, so the sum is exact), a weighted
gradient is one flat all-reduce, and batch-norm running statistics are averaged over the ranks
in the same collective. With ``task_parallel=True`` a refresh instead splits the tasks among
the ranks (see :mod:`pmo_grad.problems.parallel_gradients`). The pymoo hooks (``evaluate``,
``sample_values``, ``sample_jacobian``) stay local to the calling process.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from pmo_grad.problems.distributed import Communicator, layout_of, process_group_ready
from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.problems.jacobian_engines import RepresentationEngine, make_engine
from pmo_grad.problems.parallel_gradients import TaskSlots, direction_layout, rows_layout
from pmo_grad.problems.precision import MixedPrecision
from pmo_grad.problems.task_data import as_task_data
from pmo_grad.problems.task_gradients import (
    SHARED,
    UNREACHED,
    Direction,
    ParameterSplit,
    TaskGradients,
    add_directions,
    gramian_dtype,
)

logger = logging.getLogger(__name__)

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

OWN_GRADIENT_MIN_WEIGHT = 1e-4
"""Below this weight, a head's own gradient is taken from a separate (head-only) backward pass
instead of being divided out of the weighted one."""


class NonFiniteLossError(FloatingPointError):
    """A task loss or gradient of a network problem is NaN or infinite."""


def _device_of(model: nn.Module, device) -> torch.device:
    if device is None:
        first = next(model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {str(device)!r} was asked for but torch.cuda.is_available() is False on this machine; "
            "pass device='cpu', or install a CUDA build of torch"
        )
    return device


def _check_micro_batch_size(size) -> int | None:
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"micro_batch_size must be an integer >= 1 (samples per forward pass) or None, got {size!r}")
    return int(size)


class RepresentationGradients:
    """Gradients of the m task losses with respect to the shared representation (MGDA-UB).

    ``gramian()`` is Σ_batch (∂L_s/∂z)·(∂L_t/∂z); ``direction(λ)`` runs one weighted backward
    pass on the same samples with the same seed.
    """

    def __init__(self, gramian: torch.Tensor, losses: torch.Tensor, recompute: Callable[[torch.Tensor], Direction], scale: float) -> None:
        self._gramian = gramian
        self.losses = losses
        self._recompute = recompute
        self.scale = scale

    def gramian(self) -> torch.Tensor:
        """Return the m × m Gramian of the representation gradients, symmetrized as in :meth:`TaskGradients.gramian`."""
        return 0.5 * (self._gramian + self._gramian.T)

    def direction(self, weights: torch.Tensor) -> Direction:
        return self._recompute(weights)

    def nonfinite_task(self) -> int | None:
        bad = ~torch.isfinite(self.losses) | ~torch.isfinite(self._gramian).all(dim=1)
        tasks = torch.nonzero(bad).flatten().tolist()
        return tasks[0] if tasks else None


class MultiTaskProblem(FiniteSumProblem):
    """A torch multi-task model with per-task losses, as an m-objective finite-sum problem.

    Parameters
    ----------
    model:
        A ``torch.nn.Module`` whose forward returns the m task outputs, as a sequence in task
        order or a dict keyed by task name. Parameters with ``requires_grad=False`` are frozen:
        they are not variables and never change.
    train:
        Training data: a map-style ``Dataset`` whose items are (x, (y_1, …, y_m)), or a pair
        (inputs, (y_1, …, y_m)) of tensors with n rows each.
    losses:
        One loss per task, a sequence or a dict {task name: loss}. ``loss(output_s, y_s)`` must
        return the mean over the samples it is given (``reduction="mean"``), a scalar.
    validation:
        Optional evaluation data, in the same form as ``train``. ``evaluate(X)`` and the
        result's ``F`` use it when given, the training data otherwise.
    shared:
        The shared parameters (tensors or names). The rest of the parameters belong to the one
        task whose loss reaches them. None infers the split from the autograd graph of one
        forward pass: parameters reached by two or more tasks are shared.
    device:
        Where the model, the data and every gradient live; the model's device by default.
    engine:
        ``"auto"`` (default: ``"batched"`` on a GPU, ``"loop"`` elsewhere), ``"batched"``,
        ``"loop"``, ``"representation"`` (MGDA-UB) or an engine object from
        :mod:`pmo_grad.problems.jacobian_engines`.
    micro_batch_size:
        Largest number of samples in one forward pass; every gradient (minibatch, large batch,
        full-data refresh) is accumulated over micro-batches. None: whole requests at once.
        Batch normalization then normalizes each micro-batch with its own statistics, so
        with batch-norm layers the result depends on the micro-batch size.
    precision:
        :class:`MixedPrecision` for autocast and loss scaling; None for the model's precision.
    nonfinite:
        ``"raise"`` (default): a NaN or infinite loss or gradient raises
        :class:`NonFiniteLossError` naming the task and step, before any parameter changes.
        ``"skip"``: such a step is skipped (logged and counted in ``n_skipped``).
    eval_every:
        Evaluate the validation losses every this many generations during a run (they are
        pymoo's F of the run's population). None evaluates them at the start and at the end
        only, and F keeps the last evaluated values in between.
    distributed:
        None (default): train data-parallel over the ranks of the default ``torch.distributed``
        process group once it is initialized, alone otherwise. True: require the process group.
        False: work alone even inside one. A :class:`Communicator` uses its process group.
        Every rank must hold the same model, data and settings; rank 0's parameters are
        copied to all ranks when a run starts.
    task_parallel:
        On refresh steps, split the per-task backward passes among the ranks by task instead
        of splitting the samples: each rank computes the gradients of ⌈m/k⌉ or ⌊m/k⌋ tasks on
        the whole batch, and one all-gather assembles them. Reuse steps stay data-parallel.
        Needs a process group and a parameter engine ("loop" or "batched").

    NOTE: in a data-parallel run dropout draws its masks per micro-batch. The masks match the
    single-process run only when each rank's shard is a whole number of micro-batches of
    ``micro_batch_size`` samples. Otherwise the ranks draw other masks from the same
    distribution, and with dropout the iterates differ from the single process's. Batch normalization uses each rank's own shard for its batch statistics,
    as ``DistributedDataParallel`` without ``SyncBatchNorm`` does.
    """

    is_network = True

    def __init__(
        self,
        model: nn.Module,
        train,
        losses: Sequence[Loss] | Mapping[str, Loss],
        *,
        validation=None,
        shared: Sequence[torch.Tensor | str] | None = None,
        device: str | torch.device | None = None,
        engine="auto",
        micro_batch_size: int | None = None,
        precision: MixedPrecision | None = None,
        nonfinite: str = "raise",
        eval_every: int | None = None,
        distributed: bool | Communicator | None = None,
        task_parallel: bool = False,
    ) -> None:
        """Check the model, data and losses, and infer the parameter split (see the class docstring)."""
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if isinstance(losses, Mapping):
            self.task_names = tuple(str(k) for k in losses)
            self.losses = tuple(losses.values())
        else:
            self.losses = tuple(losses)
            self.task_names = tuple(f"task_{s + 1}" for s in range(len(self.losses)))
        if len(self.losses) < 2:
            raise ValueError(f"a multi-task problem needs at least 2 task losses, got {len(self.losses)}")
        for s, loss in enumerate(self.losses):
            if not callable(loss):
                raise TypeError(f"loss of task {self.task_names[s]} is a {type(loss).__name__}, not a callable")
        if nonfinite not in ("raise", "skip"):
            raise ValueError(f"nonfinite must be 'raise' or 'skip', got {nonfinite!r}")
        if precision is not None and not isinstance(precision, MixedPrecision):
            raise TypeError(f"precision must be a MixedPrecision or None, got {type(precision).__name__}")
        if eval_every is not None and (isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1):
            raise ValueError(f"eval_every must be an integer >= 1 (generations) or None, got {eval_every!r}")

        if distributed is not None and not isinstance(distributed, (bool, Communicator)):
            raise TypeError(f"distributed must be None, True, False or a Communicator, got {distributed!r}")
        if not isinstance(task_parallel, bool):
            raise TypeError(f"task_parallel must be True or False, got {task_parallel!r}")

        self.device = _device_of(model, device)
        self.model = model.to(self.device)
        self.engine = make_engine(engine, self.device)
        if task_parallel and isinstance(self.engine, RepresentationEngine):
            raise ValueError(
                "task_parallel=True splits per-task parameter gradients among ranks; the representation engine "
                "(MGDA-UB) sums an m x m Gramian, which data parallelism already does exactly. Use engine='loop' "
                "or 'batched' with task_parallel, or task_parallel=False"
            )
        if task_parallel and distributed is False:
            raise ValueError("task_parallel=True splits tasks among the ranks of a process group; it needs distributed=None or True")
        if task_parallel and distributed is None and not process_group_ready():
            logger.warning("task_parallel=True, but no torch.distributed process group is initialized, so the problem "
                           "works alone and the option has no effect; launch with torchrun to split the tasks")
        self.task_parallel = task_parallel
        self._distributed = distributed
        self._comm: Communicator | None = None
        self._task_slots: TaskSlots | None = None
        self.micro_batch_size = _check_micro_batch_size(micro_batch_size)
        self.precision = precision
        self.nonfinite = nonfinite
        self.eval_every = eval_every
        self.train_data = as_task_data(train, self.device, "train")
        self.validation_data = None if validation is None else as_task_data(validation, self.device, "validation")
        m = len(self.losses)
        for role, data in (("train", self.train_data), ("validation", self.validation_data)):
            if data is not None and data.n_tasks != m:
                raise ValueError(f"{role} data has {data.n_tasks} targets per sample but {m} losses were given; give one per task")
        if isinstance(self.engine, RepresentationEngine):
            self._trunk_and_heads()

        trainable = [(name, p) for name, p in self.model.named_parameters() if p.requires_grad]
        if not trainable:
            raise ValueError("the model has no trainable parameters (all have requires_grad=False)")
        self._buffers = [b for b in self.model.buffers()]
        self._float_buffers = [b for b in self._buffers if b.is_floating_point()]
        self._buffer_updates_left = 0
        self.n_backward = 0
        self.n_head_backward = 0
        param_dtype = trainable[0][1].dtype
        self.loss_dtype = gramian_dtype(param_dtype)
        self.split = self._make_split(trainable, shared)
        n_var = self.split.n_params
        super().__init__(n_samples=len(self.train_data), chunk_size=max(1, self.micro_batch_size or len(self.train_data)),
                         n_var=n_var, n_obj=m, xl=None, xu=None)
        logger.info("MultiTaskProblem: %d tasks, %d samples, %d parameters (%s)", m, self.n_samples, n_var, self.split.summary())
        if distributed is True:
            self._comm = self._checked_comm(Communicator())
        elif isinstance(distributed, Communicator):
            self._comm = self._checked_comm(distributed)

    # ------------------------------------------------------------------ ranks

    @property
    def comm(self) -> Communicator | None:
        """The :class:`Communicator` of a data-parallel run, or None when this process works alone.

        With ``distributed=None`` the problem joins the default process group at the first
        call made after the group is initialized.
        """
        if self._comm is None and self._distributed is None and process_group_ready():
            self._comm = self._checked_comm(Communicator())
        return self._comm

    def _checked_comm(self, comm: Communicator) -> Communicator:
        if comm.backend == "nccl" and self.device.type != "cuda":
            raise ValueError(
                f"the process group uses NCCL, which reduces CUDA tensors, but the problem's device is {self.device}; "
                "pass device=f'cuda:{LOCAL_RANK}', or initialize the process group with the gloo backend"
            )
        logger.info("MultiTaskProblem: rank %d of %d, %s", comm.rank, comm.world_size,
                    "tasks split among ranks on refresh steps" if self.task_parallel else "samples split among ranks")
        return comm

    def _slots(self) -> TaskSlots:
        if self._task_slots is None:
            self._task_slots = TaskSlots(self.split, self.comm, self.loss_dtype, self.device)
        return self._task_slots

    def _buffers_to_average(self) -> list[torch.Tensor]:
        """Return the floating-point buffers that the next training forward pass updates, if it updates any."""
        return self._float_buffers if self._buffer_updates_left > 0 else []

    def _average_buffers(self, totals: list[torch.Tensor]) -> None:
        """Set the buffers to their mean over the ranks, given their sums."""
        if not totals:
            return
        k = self.comm.world_size
        with torch.no_grad():
            for b, total in zip(self._float_buffers, totals):
                b.copy_(total / k)

    # ------------------------------------------------------------------ setup

    def _trunk_and_heads(self) -> tuple[nn.Module, Sequence[nn.Module]]:
        trunk, heads = getattr(self.model, "trunk", None), getattr(self.model, "heads", None)
        if not isinstance(trunk, nn.Module) or heads is None or len(heads) != len(self.losses):
            raise ValueError(
                "engine 'representation' (MGDA-UB) needs a model with a `trunk` module and one module per task "
                f"in `heads` ({len(self.losses)} here), such as pmo_grad.problems.networks.MultiTaskNet; "
                "use engine='batched' for other models"
            )
        return trunk, heads

    def _make_split(self, trainable, shared) -> ParameterSplit:
        names = tuple(name for name, _ in trainable)
        params = tuple(p for _, p in trainable)
        reach = self._reachability(params)
        m = len(self.losses)
        if shared is None:
            owner = []
            for tasks in reach:
                if len(tasks) >= 2:
                    owner.append(SHARED)
                elif tasks:
                    owner.append(tasks[0])
                else:
                    owner.append(UNREACHED)
        else:
            by_id = {id(p): name for name, p in trainable}
            shared_names = set()
            for item in shared:
                if isinstance(item, str):
                    if item not in names:
                        raise ValueError(f"shared parameter {item!r} is not a trainable parameter of the model; names: {list(names)[:8]}…")
                    shared_names.add(item)
                elif isinstance(item, torch.Tensor) and id(item) in by_id:
                    shared_names.add(by_id[id(item)])
                else:
                    raise ValueError("shared must list trainable parameters of the model (tensors or names)")
            owner = []
            for name, tasks in zip(names, reach):
                if name in shared_names:
                    owner.append(SHARED)
                elif len(tasks) >= 2:
                    raise ValueError(
                        f"parameter {name!r} is reached by tasks {[self.task_names[s] for s in tasks]} but is not in "
                        "`shared`; list it as shared, or leave shared=None to infer the split"
                    )
                else:
                    owner.append(tasks[0] if tasks else UNREACHED)
        unreached = [name for name, o in zip(names, owner) if o == UNREACHED]
        if unreached:
            logger.warning("MultiTaskProblem: no task loss reaches %s; these parameters get no gradient", unreached)
        if all(o == UNREACHED for o in owner):
            raise ValueError("no task loss reaches any trainable parameter; check the model's forward and the losses")
        return ParameterSplit(names=names, params=params, owner=tuple(owner), n_tasks=m)

    def _first_forward(self, inputs, targets) -> list[torch.Tensor]:
        """Return the task losses of a first forward pass, with a clear error when the model cannot run."""
        try:
            with self._forward_scope(seed=0, k=0):
                return self._task_losses(inputs, targets, None, update_buffers=False)
        except (RuntimeError, TypeError, IndexError) as error:
            raise ValueError(
                f"the model's forward pass or a task loss failed on 2 training samples: {error}. Check the "
                f"input shape and dtype (inputs: {tuple(inputs.shape)}, {inputs.dtype}; model parameters: "
                f"{next(self.model.parameters()).dtype}) and the target shapes "
                f"({[tuple(t.shape) for t in targets]})"
            ) from error

    def _check_mean_reduction(self, inputs, targets) -> None:
        """Reject losses that sum over the samples: L(2 samples) must equal the mean of the two single losses."""
        if len(inputs) < 2:
            return
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                pair = torch.stack(self._task_losses(inputs[:2], [t[:2] for t in targets], None))
                single = [torch.stack(self._task_losses(inputs[j:j + 1], [t[j:j + 1] for t in targets], None))
                          for j in range(2)]
        finally:
            self.model.train(was_training)
        mean, total = (single[0] + single[1]) / 2, single[0] + single[1]
        for s in range(len(self.losses)):
            tolerance = 1e-4 * float(abs(total[s])) + 1e-6
            if abs(float(pair[s] - mean[s])) > tolerance and abs(float(pair[s] - total[s])) <= tolerance:
                raise ValueError(
                    f"the loss of task {self.task_names[s]} sums over the samples (reduction='sum'); pmo_grad "
                    "averages micro-batches and needs the mean (reduction='mean')"
                )

    def _check_representation_forward(self, inputs) -> None:
        """Reject models whose forward is not [head(trunk(x)) for head in heads] (needed by MGDA-UB)."""
        trunk, heads = self._trunk_and_heads()
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                direct = self._per_task(self._call(self.model, (inputs,), None, False))
                z = trunk(inputs)
                composed = [head(z) for head in heads]
        finally:
            self.model.train(was_training)
        for s, (a, b) in enumerate(zip(direct, composed)):
            if a.shape != b.shape or not torch.allclose(a, b, rtol=1e-4, atol=1e-6):
                raise ValueError(
                    f"engine 'representation' computes heads[s](trunk(x)), but for task {self.task_names[s]} "
                    "that differs from the model's forward output; make forward return "
                    "[head(trunk(x)) for head in heads], or use engine='batched'"
                )

    def _reachability(self, params: Sequence[torch.Tensor]) -> list[list[int]]:
        """Return, per parameter, the tasks whose loss depends on it (from one forward on 2 samples)."""
        idx = np.arange(min(2, len(self.train_data)))
        inputs, targets = self.train_data.batch(idx)
        losses = self._first_forward(inputs, targets)
        self._check_mean_reduction(inputs, targets)
        if isinstance(self.engine, RepresentationEngine):
            self._check_representation_forward(inputs)
        reach: list[list[int]] = [[] for _ in params]
        for s in range(len(self.losses)):
            grads = torch.autograd.grad(losses[s], list(params), retain_graph=True, allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    reach[i].append(s)
        return reach

    # ------------------------------------------------------------------ forward passes

    @contextlib.contextmanager
    def _forward_scope(self, seed: int | None, k: int):
        """Seed random layers with seed + k (the caller's random state is restored after), under autocast."""
        with contextlib.ExitStack() as stack:
            if seed is not None:
                cuda_index = None
                if self.device.type == "cuda":
                    cuda_index = self.device.index if self.device.index is not None else torch.cuda.current_device()
                stack.enter_context(torch.random.fork_rng(devices=[] if cuda_index is None else [cuda_index]))
                value = (int(seed) + int(k)) % (2**63)
                # Only the generators this forward pass uses: torch.manual_seed would also queue
                # seeds for every lazily initialized backend, which costs milliseconds per call.
                torch.random.default_generator.manual_seed(value)
                if cuda_index is not None:
                    torch.cuda.default_generators[cuda_index].manual_seed(value)
            if self.precision is not None:
                stack.enter_context(self.precision.autocast(self.device))
            yield

    @staticmethod
    def _call(module: nn.Module, args: tuple, params: Mapping[str, torch.Tensor] | None, update_buffers: bool):
        """Run ``module`` at ``params`` (its own parameters for None).

        Without ``update_buffers`` the module runs on copies of its buffers, so batch-norm running
        statistics stay as they are (restoring them in place afterwards would break autograd,
        which keeps references to them for the backward pass).
        """
        frozen = {} if update_buffers else {name: b.clone() for name, b in module.named_buffers()}
        if params is None and not frozen:
            return module(*args)
        return functional_call(module, {**(params or {}), **frozen}, args, strict=False)

    def _claim_buffer_update(self) -> bool:
        if self._buffer_updates_left > 0:
            self._buffer_updates_left -= 1
            return True
        return False

    def begin_step(self) -> None:
        """Allow the next training forward pass, and only that one, to update the model's buffers.

        The buffers are saved, so that :meth:`abort_step` can put them back.
        """
        self._buffer_updates_left = 1
        self._step_buffers = [b.detach().clone() for b in self._buffers] if self._buffers else None

    def abort_step(self) -> None:
        """Restore the buffers saved by :meth:`begin_step` (a step that failed changes nothing)."""
        self._buffer_updates_left = 0
        if getattr(self, "_step_buffers", None) is not None:
            with torch.no_grad():
                for b, value in zip(self._buffers, self._step_buffers):
                    b.copy_(value)

    def _per_task(self, outputs) -> list:
        m = len(self.losses)
        if isinstance(outputs, Mapping):
            missing = [name for name in self.task_names if name not in outputs]
            if missing:
                raise ValueError(f"the model's output dict lacks tasks {missing}; its keys are {list(outputs)}")
            return [outputs[name] for name in self.task_names]
        if isinstance(outputs, (list, tuple)) and len(outputs) == m:
            return list(outputs)
        described = f"a sequence of {len(outputs)}" if isinstance(outputs, (list, tuple)) else type(outputs).__name__
        raise ValueError(
            f"the model must return one output per task ({m}), as a list, tuple or dict keyed by task name; "
            f"it returned {described}"
        )

    def _task_losses(self, inputs, targets, params: Mapping[str, torch.Tensor] | None, outputs=None,
                     update_buffers: bool = False) -> list[torch.Tensor]:
        """Return the m task losses as a list (stacking them would make every loss reach every head)."""
        if outputs is None:
            outputs = self._call(self.model, (inputs,), params, update_buffers)
        outputs = self._per_task(outputs)
        values = []
        for s, (loss, out, target) in enumerate(zip(self.losses, outputs, targets)):
            value = loss(out, target)
            if not isinstance(value, torch.Tensor) or value.ndim != 0:
                shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise ValueError(
                    f"loss of task {self.task_names[s]} returned {shape}; it must return a scalar tensor, the mean "
                    "over the samples (reduction='mean')"
                )
            values.append(value.to(self.loss_dtype))
        return values

    def _micro_batches(self, indices: np.ndarray, total: int | None = None, first: int = 0):
        """Yield (micro-batch number, its samples, its share |chunk| / total) over ``indices``.

        ``total`` is the size of the whole request (all ranks' shards) and ``first`` the
        number of this shard's first micro-batch; a single process passes neither.
        """
        if len(indices) == 0:
            return
        size = self.micro_batch_size or len(indices)
        total = len(indices) if total is None else total
        for k, start in enumerate(range(0, len(indices), size)):
            chunk = indices[start:start + size]
            yield first + k, chunk, len(chunk) / total

    def _leaves(self, params: Mapping[str, torch.Tensor] | None):
        """Return the tensors to differentiate with respect to, and the mapping for functional_call."""
        if params is None:
            return list(self.split.params), None
        missing = [name for name in self.split.names if name not in params]
        if missing:
            raise ValueError(f"parameter snapshot lacks {missing[:4]}; take it with snapshot()")
        leaves = [params[name].detach().requires_grad_(True) for name in self.split.names]
        return leaves, dict(zip(self.split.names, leaves))

    # ------------------------------------------------------------------ torch API (fast path)

    def snapshot(self) -> dict[str, torch.Tensor]:
        """Return a detached copy of the trainable parameters, on the device."""
        return {name: p.detach().clone() for name, p in zip(self.split.names, self.split.params)}

    def train_losses(self, indices: np.ndarray | None = None, params: Mapping[str, torch.Tensor] | None = None,
                     seed: int | None = None) -> torch.Tensor:
        """Return the m task losses averaged over ``indices`` in training mode (buffers unchanged)."""
        idx = self.check_indices(indices)
        comm = self.comm
        if comm is None:
            return self._local_train_losses(idx, len(idx), 0, params, seed)
        local, first = comm.shard(idx, self.micro_batch_size)
        layout = layout_of([((len(self.losses),), self.loss_dtype)], self.device)
        parts = comm.all_reduce_sum(lambda: [self._local_train_losses(local, len(idx), first, params, seed)],
                                    layout, "training losses")
        return parts[0]

    def _local_train_losses(self, idx: np.ndarray, total: int, first: int, params, seed) -> torch.Tensor:
        _, pdict = self._leaves(params)
        out = torch.zeros(len(self.losses), dtype=self.loss_dtype, device=self.device)
        self.model.train()
        with torch.no_grad():
            for k, chunk, share in self._micro_batches(idx, total, first):
                inputs, targets = self.train_data.batch(chunk)
                with self._forward_scope(seed, k):
                    out += share * torch.stack(self._task_losses(inputs, targets, pdict))
        return out

    def task_gradients(
        self,
        indices: np.ndarray | None = None,
        params: Mapping[str, torch.Tensor] | None = None,
        seed: int | None = None,
        scale: float = 1.0,
    ) -> TaskGradients | RepresentationGradients:
        """Return the per-task gradients averaged over ``indices`` (all samples for None).

        With ``params`` (a :meth:`snapshot`) the gradients are taken there instead of at the live
        parameters. ``seed`` seeds random layers, ``scale`` multiplies the losses (loss scaling).
        """
        idx = self.check_indices(indices)
        self.model.train()
        if isinstance(self.engine, RepresentationEngine):
            if params is not None:
                raise ValueError(
                    "the representation engine (MGDA-UB) works at the live parameters only, so it cannot serve "
                    "the recursive estimator's previous point; use engine='batched' with Recursive()"
                )
            return self._representation_gradients(idx, seed, scale)
        return self._task_gradients((params,), idx, seed, scale)

    def task_gradients_change(
        self, indices: np.ndarray, previous: Mapping[str, torch.Tensor], seed: int | None = None, scale: float = 1.0
    ) -> TaskGradients:
        """Return J(θ) − J(θ') on ``indices``, with the task losses at θ.

        θ are the live parameters and θ' the snapshot ``previous``; both points see the same
        samples and dropout seeds. Under a process group each rank forms the difference on its
        shard and one collective sums it.
        """
        idx = self.check_indices(indices)
        self.model.train()
        if isinstance(self.engine, RepresentationEngine):
            raise ValueError(
                "the representation engine (MGDA-UB) works at the live parameters only, so it cannot form gradient "
                "differences between two points; use engine='batched'"
            )
        return self._task_gradients((None, previous), idx, seed, scale)

    def _task_gradients(self, points: tuple, idx: np.ndarray, seed: int | None, scale: float) -> TaskGradients:
        """Return the per-task gradients at points[0], minus those at points[1] when two points are given."""
        comm = self.comm
        if comm is None:
            grads = self._local_task_gradients(points[0], idx, len(idx), 0, seed, scale)
            if len(points) == 2:
                grads = grads - self._local_task_gradients(points[1], idx, len(idx), 0, seed, scale)
            return grads
        if self.task_parallel:
            return self._task_parallel_gradients(points, idx, seed, scale)
        local, first = comm.shard(idx, self.micro_batch_size)
        buffers = self._buffers_to_average()
        layout = rows_layout(self.split, self.loss_dtype, self.device, buffers)

        def compute() -> list:
            grads = self._local_task_gradients(points[0], local, len(idx), first, seed, scale)
            if len(points) == 2:
                grads = grads - self._local_task_gradients(points[1], local, len(idx), first, seed, scale)
            return [*grads.rows, grads.losses, *buffers]

        parts = comm.all_reduce_sum(compute, layout, "per-task gradients")
        n = len(self.split.params)
        self._average_buffers(parts[n + 1:])
        return TaskGradients(self.split, parts[:n], parts[n], scale)

    def _task_parallel_gradients(self, points: tuple, idx: np.ndarray, seed: int | None, scale: float) -> TaskGradients:
        """Compute this rank's tasks on the whole batch and gather the m tasks' rows from all ranks."""
        slots = self._slots()

        def compute() -> torch.Tensor:
            rows, losses = self._local_rows(points[0], idx, len(idx), 0, seed, scale, slots)
            if len(points) == 2:
                before, _ = self._local_rows(points[1], idx, len(idx), 0, seed, scale, slots)
                rows = [None if a is None else a - b for a, b in zip(rows, before)]
            return slots.pack(rows, losses)

        gathered = self.comm.all_gather_slots(compute, slots.n_entries, slots.dtype, self.device,
                                              "per-task gradients (tasks split among ranks)")
        rows, losses = slots.assemble(gathered)
        return TaskGradients(self.split, rows, losses, scale)

    def _local_task_gradients(self, params, idx: np.ndarray, total: int, first: int, seed: int | None,
                              scale: float) -> TaskGradients:
        rows, losses = self._local_rows(params, idx, total, first, seed, scale)
        return TaskGradients(self.split, rows, losses, scale)

    def _local_rows(self, params, idx: np.ndarray, total: int, first: int, seed: int | None, scale: float,
                    slots: TaskSlots | None = None) -> tuple[list[torch.Tensor | None], torch.Tensor]:
        """Return the rows summed over this process's micro-batches (shares relative to ``total``) and the m losses.

        With ``slots`` only the rows of this rank's tasks are formed, laid out by ``slots.sub_split``.
        """
        split = self.split if slots is None else slots.sub_split
        tasks = None if slots is None else slots.tasks
        leaves, pdict = self._leaves(params)
        rows = None
        losses = torch.zeros(len(self.losses), dtype=self.loss_dtype, device=self.device)
        for k, chunk, share in self._micro_batches(idx, total, first):
            inputs, targets = self.train_data.batch(chunk)
            with self._forward_scope(seed, k):
                values = self._task_losses(inputs, targets, pdict, update_buffers=self._claim_buffer_update())
            chosen = values if tasks is None else [values[s] for s in tasks]
            if chosen:
                part, n_backward = self.engine.parameter_rows([v * (share * scale) for v in chosen], leaves, split)
                self.n_backward += n_backward
                part = [None if r is None else r.detach() for r in part]
                if rows is None:
                    rows = part
                else:
                    rows = [None if a is None else a + b for a, b in zip(rows, part)]
            losses += share * torch.stack(values).detach()
        return (rows if rows is not None else [None] * len(leaves)), losses

    def _representation_gradients(self, idx: np.ndarray, seed: int | None, scale: float) -> RepresentationGradients:
        comm = self.comm
        m = len(self.losses)
        if comm is None:
            G, losses = self._local_representation(idx, len(idx), 0, seed, scale)
        else:
            local, first = comm.shard(idx, self.micro_batch_size)
            buffers = self._buffers_to_average()
            layout = layout_of([((m, m), self.loss_dtype), ((m,), self.loss_dtype),
                                *[(tuple(b.shape), b.dtype) for b in buffers]], self.device)
            parts = comm.all_reduce_sum(
                lambda: [*self._local_representation(local, len(idx), first, seed, scale), *buffers],
                layout, "the representation Gramian",
            )
            G, losses = parts[0], parts[1]
            self._average_buffers(parts[2:])

        def recompute(weights: torch.Tensor) -> Direction:
            return self.weighted_gradient(idx, weights, seed=seed, scale=scale)[0]

        return RepresentationGradients((G + G.T) / 2, losses, recompute, scale)

    def _local_representation(self, idx: np.ndarray, total: int, first: int, seed: int | None,
                              scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Return Σ over this process's samples of the representation Gramian pieces, and the m losses."""
        trunk, heads = self._trunk_and_heads()
        m = len(self.losses)
        G = torch.zeros(m, m, dtype=self.loss_dtype, device=self.device)
        losses = torch.zeros(m, dtype=self.loss_dtype, device=self.device)
        for k, chunk, share in self._micro_batches(idx, total, first):
            inputs, targets = self.train_data.batch(chunk)
            with self._forward_scope(seed, k):
                update = self._claim_buffer_update()
                z = self._call(trunk, (inputs,), None, update)
                outputs = [self._call(head, (z,), None, update) for head in heads]
                values = self._task_losses(inputs, targets, None, outputs=outputs)
            rows, n_backward = self.engine.representation_rows([v * (share * scale) for v in values], z)
            self.n_backward += n_backward
            J = rows.reshape(m, -1).to(gramian_dtype(rows.dtype)) / scale
            G += (J @ J.T).to(G.dtype)
            losses += share * torch.stack(values).detach()
        return G, losses

    def weighted_gradient(
        self,
        indices: np.ndarray | None,
        weights,
        params: Mapping[str, torch.Tensor] | None = None,
        seed: int | None = None,
        scale: float = 1.0,
    ) -> tuple[Direction, torch.Tensor]:
        """Return the step direction for weights λ from one backward pass, and the task losses.

        The direction is Σ_s λ_s ∇_{θ_sh} L_s on shared parameters and ∇_{θ_s} L_s on the
        parameters of task s (see :mod:`pmo_grad.problems.task_gradients`). The backward pass
        of Σ_s λ_s L_s gives λ_s ∇_{θ_s} L_s on task s's own parameters, which is divided by
        λ_s. NOTE: a task with λ_s below ``OWN_GRADIENT_MIN_WEIGHT`` has lost its own gradient
        in that pass, so it gets a second backward pass through its own parameters only (its
        head, not the shared trunk), counted in ``n_head_backward`` rather than ``n_backward``.
        """
        idx = self.check_indices(indices)
        return self._weighted((params,), idx, self._weights_tensor(weights), seed, scale)

    def weighted_gradient_change(
        self, indices: np.ndarray, weights, previous: Mapping[str, torch.Tensor], seed: int | None = None,
        scale: float = 1.0,
    ) -> tuple[Direction, torch.Tensor]:
        """Return d(θ) − d(θ') for weights λ on ``indices``, and the task losses at θ.

        d is the direction of :meth:`weighted_gradient`, θ the live parameters and θ' the
        snapshot ``previous``, with the same samples and dropout seeds at both points. Under a
        process group the difference travels in one all-reduce.
        """
        idx = self.check_indices(indices)
        return self._weighted((None, previous), idx, self._weights_tensor(weights), seed, scale)

    def _weights_tensor(self, weights) -> torch.Tensor:
        m = len(self.losses)
        lam = torch.as_tensor(np.asarray(weights, dtype=float) if not isinstance(weights, torch.Tensor) else weights,
                              dtype=self.loss_dtype, device=self.device).reshape(-1)
        if lam.numel() != m:
            raise ValueError(f"weights must have one entry per task ({m}), got {lam.numel()}")
        return lam

    def _weighted(self, points: tuple, idx: np.ndarray, lam: torch.Tensor, seed: int | None,
                  scale: float) -> tuple[Direction, torch.Tensor]:
        """Return the weighted direction at points[0] (minus the one at points[1] when given) and the losses at points[0]."""
        comm = self.comm
        if comm is None:
            direction, losses = self._local_weighted(points[0], idx, len(idx), 0, lam, seed, scale)
            if len(points) == 2:
                before, _ = self._local_weighted(points[1], idx, len(idx), 0, lam, seed, scale)
                direction = add_directions(direction, before, -1.0)
            return direction, losses
        local, first = comm.shard(idx, self.micro_batch_size)
        buffers = self._buffers_to_average()
        layout = direction_layout(self.split, self.loss_dtype, self.device, buffers)

        def compute() -> list:
            direction, losses = self._local_weighted(points[0], local, len(idx), first, lam, seed, scale)
            if len(points) == 2:
                before, _ = self._local_weighted(points[1], local, len(idx), first, lam, seed, scale)
                direction = add_directions(direction, before, -1.0)
            return [*direction, losses, *buffers]

        parts = comm.all_reduce_sum(compute, layout, "the weighted gradient")
        n = len(self.split.params)
        self._average_buffers(parts[n + 1:])
        return parts[:n], parts[n]

    def _local_weighted(self, params, idx: np.ndarray, total: int, first: int, lam: torch.Tensor, seed: int | None,
                        scale: float) -> tuple[Direction, torch.Tensor]:
        """Return the weighted direction summed over this process's micro-batches, and the m losses."""
        m = len(self.losses)
        weights_host = lam.detach().cpu().tolist()
        separate = [s for s in range(m) if weights_host[s] < OWN_GRADIENT_MIN_WEIGHT and self.split.task_specific(s)]
        joint = [i for i, o in enumerate(self.split.owner) if o == SHARED or (o >= 0 and o not in separate)]
        self.model.train()
        leaves, pdict = self._leaves(params)
        direction: Direction = [None] * len(leaves)
        losses = torch.zeros(m, dtype=self.loss_dtype, device=self.device)

        def accumulate(i: int, g: torch.Tensor | None) -> None:
            g = torch.zeros_like(leaves[i]) if g is None else g.detach()
            direction[i] = g if direction[i] is None else direction[i] + g

        for k, chunk, share in self._micro_batches(idx, total, first):
            inputs, targets = self.train_data.batch(chunk)
            with self._forward_scope(seed, k):
                values = self._task_losses(inputs, targets, pdict, update_buffers=self._claim_buffer_update())
            factor = share * scale
            grads = torch.autograd.grad(
                (lam * torch.stack(values)).sum() * factor, [leaves[i] for i in joint], retain_graph=bool(separate), allow_unused=True
            )
            self.n_backward += 1
            for i, g in zip(joint, grads):
                owner = self.split.owner[i]
                if owner >= 0 and g is not None:
                    g = g / lam[owner].to(g.dtype)
                accumulate(i, g)
            for position, s in enumerate(separate):
                own = self.split.task_specific(s)
                grads = torch.autograd.grad(
                    values[s] * factor, [leaves[i] for i in own], retain_graph=position < len(separate) - 1, allow_unused=True
                )
                self.n_head_backward += 1
                for i, g in zip(own, grads):
                    accumulate(i, g)
            losses += share * torch.stack(values).detach()
        return direction, losses

    # ------------------------------------------------------------------ evaluation

    def vector_to_params(self, x) -> dict[str, torch.Tensor]:
        """Return the parameter dict of a flat vector x (numpy or torch, length n_var)."""
        flat = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        if flat.ndim != 1 or flat.numel() != self.n_var:
            raise ValueError(f"a parameter vector must have n_var = {self.n_var} entries, got shape {tuple(flat.shape)}")
        out, start = {}, 0
        for name, p in zip(self.split.names, self.split.params):
            out[name] = flat[start:start + p.numel()].reshape(p.shape).to(device=self.device, dtype=p.dtype)
            start += p.numel()
        return out

    def parameter_vector(self) -> torch.Tensor:
        """Return the trainable parameters as one flat tensor (a copy, on the device)."""
        return torch.cat([p.detach().reshape(-1) for p in self.split.params]).clone()

    def load_vector(self, x) -> None:
        """Set the live trainable parameters from a flat vector x."""
        with torch.no_grad():
            for p, value in zip(self.split.params, self.vector_to_params(x).values()):
                p.copy_(value)

    def checked_evaluation_losses(self, generation: int) -> torch.Tensor:
        """Return :meth:`evaluation_losses`, raising :class:`NonFiniteLossError` if one is NaN or infinite."""
        losses = self.evaluation_losses()
        bad = torch.nonzero(~torch.isfinite(losses)).flatten().tolist()
        if bad:
            split = "validation" if self.validation_data is not None else "training"
            where = "" if getattr(self, "comm", None) is None else f" on rank {self.comm.rank} of {self.comm.world_size}"
            raise NonFiniteLossError(
                f"the {split} loss of task {self.task_names[bad[0]]!r} is {float(losses[bad[0]])} at generation "
                f"{generation}{where}. The model diverged (lower the learning rate) or the {split} data contains "
                "NaN or infinite values"
            )
        return losses

    def evaluation_losses(self, params: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Return the m mean task losses on the evaluation split, in eval mode, without gradients.

        Under a process group this is a collective that every rank calls; to evaluate on one
        rank alone, use ``evaluate(X)``, which stays local.
        """
        data = self.validation_data if self.validation_data is not None else self.train_data
        indices = np.arange(len(data))
        comm = self.comm
        if comm is None:
            return self._local_evaluation_losses(params, indices, len(indices), 0)
        local, first = comm.shard(indices, self.micro_batch_size)
        layout = layout_of([((len(self.losses),), self.loss_dtype)], self.device)
        parts = comm.all_reduce_sum(lambda: [self._local_evaluation_losses(params, local, len(indices), first)],
                                    layout, "the evaluation losses")
        return parts[0]

    def _local_evaluation_losses(self, params, indices: np.ndarray, total: int, first: int) -> torch.Tensor:
        data = self.validation_data if self.validation_data is not None else self.train_data
        was_training = self.model.training
        self.model.eval()
        out = torch.zeros(len(self.losses), dtype=self.loss_dtype, device=self.device)
        try:
            with torch.no_grad():
                for k, chunk, share in self._micro_batches(indices, total, first):
                    inputs, targets = data.batch(chunk)
                    with self._forward_scope(None, k):
                        # In eval mode batch norm reads its running statistics without updating
                        # them, so the forward pass needs no copies of the buffers.
                        outputs = self._call(self.model, (inputs,), params, update_buffers=True)
                        out += share * torch.stack(self._task_losses(inputs, targets, None, outputs=outputs))
        finally:
            self.model.train(was_training)
        return out

    def _evaluate(self, x, out, *args, **kwargs):
        if "dF" in out:
            raise NotImplementedError(
                "MultiTaskProblem gives no dF through evaluate(); its gradients come from the network fast path "
                "of pmo_grad's algorithms, or from sample_jacobian(X, indices)"
            )
        X = np.atleast_2d(np.asarray(x, dtype=float))
        data = self.validation_data if self.validation_data is not None else self.train_data
        indices = np.arange(len(data))
        out["F"] = np.stack([self._local_evaluation_losses(self.vector_to_params(row), indices, len(indices), 0)
                             .double().cpu().numpy() for row in X])

    # ------------------------------------------------------------------ numpy hooks of FiniteSumProblem
    # They evaluate on the calling process alone, also under a process group.

    def _numpy_task_gradients(self, row: np.ndarray, indices: np.ndarray) -> TaskGradients:
        engine = self.engine
        if isinstance(engine, RepresentationEngine):
            self.engine = engine.batched
        try:
            self.model.train()
            return self._local_task_gradients(self.vector_to_params(row), indices, len(indices), 0, 0, 1.0)
        finally:
            self.engine = engine

    def _sample_values(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return np.stack([self._local_train_losses(indices, len(indices), 0, self.vector_to_params(row), 0)
                         .double().cpu().numpy() for row in X]) * len(indices)

    def _sample_jacobian(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        out = []
        for row in X:
            grads = self._numpy_task_gradients(row, indices)
            out.append(dense_jacobian(grads).double().cpu().numpy() * len(indices))
        return np.stack(out)

    def __repr__(self) -> str:
        return (f"MultiTaskProblem(tasks={list(self.task_names)}, n_samples={self.n_samples}, n_var={self.n_var}, "
                f"device={str(self.device)!r}, engine={self.engine!r}, micro_batch_size={self.micro_batch_size})")


def dense_jacobian(grads: TaskGradients) -> torch.Tensor:
    """Return the full m × d Jacobian of per-task gradients (zeros where a task does not reach)."""
    split = grads.split
    m = split.n_tasks
    blocks = []
    for p, row, owner in zip(split.params, grads.rows, split.owner):
        block = torch.zeros(m, p.numel(), dtype=row.dtype if row is not None else p.dtype, device=p.device)
        if owner == SHARED:
            block = row.reshape(m, -1)
        elif owner >= 0:
            block[owner] = row.reshape(-1)
        blocks.append(block / grads.scale)
    return torch.cat(blocks, dim=1)
