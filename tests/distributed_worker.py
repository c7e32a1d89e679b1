"""One rank of the multi-process tests, and the runs they compare with a single process.

Started by tests/test_distributed.py, under torchrun or with RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT set by the test itself:

    python tests/distributed_worker.py cases OUT_DIR CASE [CASE ...]
    python tests/distributed_worker.py fail OUT_DIR

``cases`` runs each named case and, on rank 0, saves what it observed to OUT_DIR/CASE.pt.
A case is a key of CASES, ``resume=N`` (the psmgd_vr case to N generations with the checkpoint
OUT_DIR/run.ckpt, resumed when it exists), ``seedless`` (the psmgd case with seed=None) or
``rejections`` (settings that every rank must reject). ``fail`` makes rank 1 raise inside a
training step. The same functions build the single-process reference in the test process,
where no process group exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from pymoo.core.callback import Callback
from pymoo.optimize import minimize
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pmo_grad import MGDA, PSMGD, STIMULUS, Checkpoint, ConstantStep, LinearScalarization, Minibatch  # noqa: E402
from pmo_grad import FullData, Recursive, TorchOptimizer  # noqa: E402
from pmo_grad.problems.distributed import init_from_environment  # noqa: E402
from pmo_grad.problems.networks import mlp_multitask  # noqa: E402
from pmo_grad.problems.neural import MultiTaskProblem  # noqa: E402
from tests.test_neural_gradients import regression_data  # noqa: E402


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def nan_on_rank(loss, bad_rank: int, calls: set[int]):
    """Return ``loss``, but NaN on ``bad_rank`` at the given call numbers (1-based)."""
    count = {"n": 0}

    def wrapped(out, target):
        count["n"] += 1
        value = loss(out, target)
        return value * float("nan") if rank() == bad_rank and count["n"] in calls else value

    return wrapped


def raise_on_rank(loss, bad_rank: int, call: int):
    """Return ``loss``, but raise a RuntimeError on ``bad_rank`` at call number ``call``."""
    count = {"n": 0}

    def wrapped(out, target):
        count["n"] += 1
        if rank() == bad_rank and count["n"] == call:
            raise RuntimeError("CUDA out of memory while computing the loss (simulated)")
        return loss(out, target)

    return wrapped


def problem(engine="batched", dropout=0.0, batch_norm=False, micro_batch_size=4, first_loss=None, **options):
    """Return the three-task regression/classification problem of the tests, in float64."""
    X, targets = regression_data(40)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        model = mlp_multitask(4, [1, 3, 1], hidden=(6,), dropout=dropout, batch_norm=batch_norm).double()
    losses = {"reg": first_loss or nn.MSELoss(), "cls": nn.CrossEntropyLoss(), "sin": nn.SmoothL1Loss()}
    return MultiTaskProblem(model, (X, targets), losses, engine=engine, micro_batch_size=micro_batch_size, **options)


def sgd(lr=0.05):
    return ConstantStep(lr)


# name: (problem options, algorithm factory, generations)
CASES = {
    "psmgd": ({}, lambda: PSMGD(q=3, estimator=Minibatch(16), step=sgd()), 8),
    "psmgd_adam": ({}, lambda: PSMGD(q=3, estimator=Minibatch(16), step=TorchOptimizer(torch.optim.Adam, lr=0.01)), 8),
    "mgda_full": ({}, lambda: MGDA(estimator=FullData(), step=sgd()), 5),
    "linear": ({}, lambda: LinearScalarization(estimator=Minibatch(8), step=sgd()), 6),
    "psmgd_vr": ({}, lambda: PSMGD(q=3, estimator=Recursive(batch_size=8), step=sgd()), 8),
    "stimulus": ({}, lambda: STIMULUS(batch_size=8, period=3, step=sgd()), 6),
    "representation": ({"engine": "representation"}, lambda: PSMGD(q=2, estimator=Minibatch(16), step=sgd()), 6),
    "loop": ({"engine": "loop"}, lambda: PSMGD(q=2, estimator=Minibatch(16), step=sgd()), 6),
    "task_parallel": ({"engine": "loop", "task_parallel": True}, lambda: PSMGD(q=2, estimator=Minibatch(16), step=sgd()), 6),
    "task_parallel_vr": ({"task_parallel": True}, lambda: STIMULUS(batch_size=8, period=3, step=sgd()), 5),
    "batch_norm": ({"batch_norm": True}, lambda: PSMGD(q=3, estimator=Minibatch(16), step=sgd()), 6),
    "skip": ({"nonfinite": "skip", "first_loss": "nan_on_rank_1"}, lambda: PSMGD(q=2, estimator=Minibatch(16), step=sgd()), 6),
}


def case_problem(name: str, dropout: float = 0.0):
    options = dict(CASES[name][0])
    if options.get("first_loss") == "nan_on_rank_1":
        # Calls 1 to 4 are the problem's setup checks and call 5 the first evaluation, so calls 8
        # and 9 are the third step and its retry.
        options["first_loss"] = nan_on_rank(nn.MSELoss(), 1, {8, 9})
    if name in ("skip", "batch_norm"):
        options["micro_batch_size"] = None
    return problem(dropout=dropout, **options)


class Recorder(Callback):
    """Record, after every generation, the weights, the backward passes and whether all ranks have the same state."""

    def __init__(self) -> None:
        super().__init__()
        self.weights: list[np.ndarray | None] = []
        self.backward: list[int] = []
        self.identical: list[bool] = []
        self._last_backward = 0

    def notify(self, algorithm) -> None:
        problem = algorithm.problem
        self.weights.append(None if algorithm.weights is None else np.array(algorithm.weights[0]))
        self.backward.append(problem.n_backward - self._last_backward)
        self._last_backward = problem.n_backward
        if problem.comm is not None:
            state = torch.cat([problem.parameter_vector(), *[b.reshape(-1).double() for b in problem.model.buffers()]])
            copies = [torch.empty_like(state) for _ in range(dist.get_world_size())]
            dist.all_gather(copies, state)
            # The generators must agree too: the all-reduce would equalize the parameters even
            # if the ranks drew different samples.
            generators = [None] * dist.get_world_size()
            dist.all_gather_object(generators, repr(algorithm.random_state.bit_generator.state))
            same = all(torch.equal(c, copies[0]) for c in copies) and len(set(generators)) == 1
            self.identical.append(same)


def run_case(name: str, dropout: float = 0.0, n_gen: int | None = None, checkpoint: Path | None = None,
             seed: int | None = 3) -> dict:
    """Run case ``name`` and return what the tests compare."""
    prob = case_problem(name, dropout)
    algorithm = CASES[name][1]()
    if checkpoint is not None:
        algorithm.checkpoint = Checkpoint(checkpoint, every=2)
    recorder = Recorder()
    res = minimize(prob, algorithm, ("n_gen", n_gen or CASES[name][2]), seed=seed, callback=recorder)
    comm = prob.comm
    return {
        "params": prob.parameter_vector(),
        "buffers": [b.clone() for b in prob.model.buffers()],
        "F": res.F,
        "weights": recorder.weights,
        "backward": recorder.backward,
        "identical": recorder.identical,
        "counters": dict(res.algorithm.counters),
        "world_size": 1 if comm is None else comm.world_size,
        "traffic": None if comm is None else (dict(comm.traffic.calls), dict(comm.traffic.bytes)),
    }


def rejections() -> dict[str, str]:
    """Try settings that differ between ranks or cannot be split; return each error message (the same on every rank)."""
    messages = {}

    def attempt(key, make_problem, algorithm, termination=("n_gen", 3), seed=3):
        try:
            minimize(make_problem(), algorithm, termination, seed=seed)
            messages[key] = "no error"
        except (ValueError, TypeError) as error:
            messages[key] = str(error)

    def own_half():
        X, targets = regression_data(40)
        part = slice(rank(), None, 2)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1)
            model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
        return MultiTaskProblem(model, (X[part], [t[part] for t in targets]),
                                [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()])

    attempt("seeds", problem, PSMGD(q=2, estimator=Minibatch(16)), seed=rank())
    attempt("data", own_half, PSMGD(q=2, estimator=Minibatch(16)))
    attempt("time", problem, PSMGD(q=2, estimator=Minibatch(16)), termination=("time", "00:00:30"))
    attempt("batch", problem, PSMGD(q=2, estimator=Minibatch(1)))
    return messages


def main(argv: list[str]) -> None:
    scenario, out = argv[0], Path(argv[1])
    init_from_environment("cpu", timeout_s=60)
    if scenario == "cases":
        dropout = 0.2 if dist.get_world_size() == 2 else 0.0
        for name in argv[2:]:
            if name.startswith("resume="):
                result = run_case("psmgd_vr", n_gen=int(name.split("=")[1]), checkpoint=out / "run.ckpt")
            elif name == "seedless":
                result = run_case("psmgd", seed=None)
            elif name == "rejections":
                result = rejections()
            else:
                result = run_case(name, dropout=dropout if name not in ("batch_norm", "skip") else 0.0)
            if rank() == 0:
                torch.save(result, out / f"{name}.pt")
    elif scenario == "fail":
        prob = problem(first_loss=raise_on_rank(nn.MSELoss(), 1, 6))
        minimize(prob, PSMGD(q=2, estimator=Minibatch(16), step=sgd()), ("n_gen", 10), seed=3)
    else:
        raise ValueError(f"unknown scenario {scenario!r}; use cases or fail")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
