"""``pmo-grad train``: train a multi-task network on one of the shipped data sets, alone or under torchrun.

One process trains on one device. Started by ``torchrun --nproc_per_node=K``, each of the K
processes joins the process group (gloo on CPUs, NCCL on GPUs, one GPU per process). The run is
then data-parallel (see :mod:`pmo_grad.algorithms.data_parallel`): every batch is split among
the ranks, and the result equals that of one process with the same global batch up to the
order of floating-point additions. Rank 0 alone prints and writes the outputs:

* ``validation.json``: the final mean validation loss per task, the settings, the counters and
  the number of ranks;
* ``validation.csv``: one row per task;
* ``parameters.pt``: the trained model's ``state_dict`` (CPU tensors, for ``torch.load``).

torch is imported when a run starts, so the command line loads without it.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pmo_grad.launch import launch_rank, launched_by_torchrun, local_rank

logger = logging.getLogger(__name__)

DATASETS = ("multidigits", "onevsrest", "diabetes")
ALGORITHMS = ("psmgd", "psmgd-vr", "mgda", "smgd", "stimulus", "linear")
ENGINES = ("auto", "batched", "loop", "representation")
OPTIMIZERS = ("adam", "sgd")
DEVICES = ("auto", "cpu", "cuda")

DEFAULT_HIDDEN = {"multidigits": (64, 64), "onevsrest": (64,), "diabetes": (32,)}


@dataclass
class TrainSettings:
    """What ``pmo-grad train`` runs; the fields mirror its options.

    ``q`` is the weight period of psmgd and psmgd-vr and the refresh period of stimulus. None
    gives 5 for psmgd and ⌈√n⌉ for the other two. ``batch_size`` is the global batch, split
    among the ranks, and ``lr`` the learning rate of ``optimizer``. ``collective_timeout``
    (seconds) bounds how long a collective waits for a rank that died without reporting.
    """

    data: str = "multidigits"
    algorithm: str = "psmgd"
    q: int | None = None
    batch_size: int = 64
    micro_batch_size: int | None = None
    n_gen: int = 200
    lr: float = 1e-3
    optimizer: str = "adam"
    seed: int = 1
    device: str = "auto"
    engine: str = "auto"
    task_parallel: bool = False
    hidden: tuple[int, ...] | None = None
    eval_every: int | None = None
    checkpoint: Path | None = None
    checkpoint_every: int = 10
    out: Path = Path("train-results")
    collective_timeout: float = 600.0
    verbose: bool = True

    def validate(self) -> None:
        """Raise a ValueError naming the first invalid setting and its valid values."""
        for name, value, allowed in (("data", self.data, DATASETS), ("algorithm", self.algorithm, ALGORITHMS),
                                     ("engine", self.engine, ENGINES), ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("device", self.device, DEVICES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        for name, value in (("batch_size", self.batch_size), ("n_gen", self.n_gen), ("checkpoint_every", self.checkpoint_every)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        for name, value in (("q", self.q), ("micro_batch_size", self.micro_batch_size), ("eval_every", self.eval_every)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 when given, got {value}")
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a positive learning rate, got {self.lr}")
        if not math.isfinite(self.collective_timeout) or self.collective_timeout <= 0:
            raise ValueError(f"collective_timeout must be a positive number of seconds, got {self.collective_timeout}")
        if self.hidden is not None and (not self.hidden or any(w < 1 for w in self.hidden)):
            raise ValueError(f"hidden must list one or more layer widths >= 1, got {self.hidden}")


@dataclass
class TrainOutcome:
    """A finished run: the pymoo result, the problem, and the number of ranks it ran on."""

    result: object
    problem: object
    world_size: int


def build_problem(settings: TrainSettings, device):
    """Return the :class:`MultiTaskProblem` of ``settings.data`` on ``device``."""
    from pmo_grad.problems.datasets import diabetes_problem, multi_digits_problem, one_vs_rest_problem

    makers: dict[str, Callable] = {
        "multidigits": multi_digits_problem, "onevsrest": one_vs_rest_problem, "diabetes": diabetes_problem,
    }
    hidden = settings.hidden if settings.hidden is not None else DEFAULT_HIDDEN[settings.data]
    return makers[settings.data](
        hidden=tuple(hidden), model_seed=settings.seed, device=device, engine=settings.engine,
        micro_batch_size=settings.micro_batch_size, eval_every=settings.eval_every, task_parallel=settings.task_parallel,
    )


def build_algorithm(settings: TrainSettings):
    """Return the algorithm of ``settings.algorithm`` with its optimizer and checkpoint."""
    import torch

    from pmo_grad.algorithms import MGDA, PSMGD, SMGD, STIMULUS, Checkpoint, LinearScalarization, TorchOptimizer
    from pmo_grad.estimators import Minibatch, Recursive

    optimizer = torch.optim.Adam if settings.optimizer == "adam" else torch.optim.SGD
    common = {"step": TorchOptimizer(optimizer, lr=settings.lr)}
    if settings.checkpoint is not None:
        common["checkpoint"] = Checkpoint(settings.checkpoint, every=settings.checkpoint_every)
    b = settings.batch_size
    if settings.algorithm == "psmgd":
        return PSMGD(q=settings.q if settings.q is not None else 5, estimator=Minibatch(b), **common)
    if settings.algorithm == "psmgd-vr":
        return PSMGD(q=settings.q, estimator=Recursive(batch_size=b), **common)
    if settings.algorithm == "mgda":
        return MGDA(estimator=Minibatch(b), **common)
    if settings.algorithm == "smgd":
        return SMGD(batch_size=b, **common)
    if settings.algorithm == "stimulus":
        return STIMULUS(batch_size=b, period=settings.q, **common)
    return LinearScalarization(estimator=Minibatch(b), **common)


def _device(settings: TrainSettings):
    import torch

    if settings.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but torch.cuda.is_available() is False; use --device cpu")
    return settings.device


def train(settings: TrainSettings, device=None) -> TrainOutcome:
    """Train with ``settings`` on ``device``, data-parallel when a process group is initialized.

    ``device`` defaults to ``settings.device``, with ``cuda:LOCAL_RANK`` for "cuda" under a
    process group.
    """
    import torch.distributed as dist
    from pymoo.optimize import minimize

    settings.validate()
    if device is None:
        device = _device(settings)
        if device == "cuda" and dist.is_available() and dist.is_initialized():
            device = f"cuda:{local_rank()}"
    problem = build_problem(settings, device)
    algorithm = build_algorithm(settings)
    comm = problem.comm
    verbose = settings.verbose and (comm is None or comm.is_main)
    res = minimize(problem, algorithm, ("n_gen", settings.n_gen), seed=settings.seed, verbose=verbose)
    return TrainOutcome(res, problem, 1 if comm is None else comm.world_size)


def write_outputs(outcome: TrainOutcome, settings: TrainSettings) -> list[Path]:
    """Write validation.json, validation.csv and parameters.pt into ``settings.out``; return their paths."""
    import torch

    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    problem, res = outcome.problem, outcome.result
    losses = {name: float(v) for name, v in zip(problem.task_names, res.F[0])}
    record = {
        "validation_loss": losses,
        "world_size": outcome.world_size,
        "generations_completed": int(res.algorithm.n_gen) - 1,
        "counters": {k: int(v) for k, v in res.algorithm.counters.items()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items()},
    }
    json_path = out / "validation.json"
    json_path.write_text(json.dumps(record, indent=2) + "\n")
    csv_path = out / "validation.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["task", "validation_loss"])
        for name, value in losses.items():
            writer.writerow([name, repr(value)])
    parameters_path = out / "parameters.pt"
    torch.save({k: v.detach().cpu() for k, v in problem.model.state_dict().items()}, parameters_path)
    return [json_path, csv_path, parameters_path]


def format_losses(outcome: TrainOutcome) -> str:
    """Return the final validation losses as a small text table."""
    problem, res = outcome.problem, outcome.result
    width = max(len(name) for name in problem.task_names)
    lines = [f"{'task'.ljust(width)}  validation loss"]
    lines += [f"{name.ljust(width)}  {value:.6f}" for name, value in zip(problem.task_names, res.F[0])]
    return "\n".join(lines)


def configure_logging() -> None:
    """Log warnings on rank 0 and errors only on the other ranks, each line tagged with its rank."""
    rank = launch_rank()
    logging.basicConfig(level=logging.WARNING if rank == 0 else logging.ERROR,
                        format=f"%(levelname)s [rank {rank}] %(name)s: %(message)s")


def run(settings: TrainSettings) -> int:
    """Run ``pmo-grad train``: join the torchrun process group if there is one, train, and write on rank 0."""
    settings.validate()
    device, joined = None, False
    if launched_by_torchrun():
        import torch.distributed as dist

        from pmo_grad.problems.distributed import init_from_environment

        joined = not dist.is_initialized()
        device = init_from_environment(_device(settings), timeout_s=settings.collective_timeout)
    # An error leaves this function without destroying the group: the process ends with it.
    outcome = train(settings, device)
    comm = outcome.problem.comm
    if comm is None:
        written = write_outputs(outcome, settings)
    else:
        written = comm.run_on_main(lambda: write_outputs(outcome, settings), "writing the outputs")
    if comm is None or comm.is_main:
        print(format_losses(outcome))
        print(f"trained on {outcome.world_size} process(es); wrote " + ", ".join(str(p) for p in written))
    if joined:
        import torch.distributed as dist

        dist.destroy_process_group()
    return 0
