"""Benchmark network training: time per step against linear scalarization, and peak memory against batch size.

Part 1, time per step. Every method trains the same network (same initial weights) on the same
problem with ``Minibatch(--batch-size)`` samples per step and Adam (lr 1e-3):

  LS                 LinearScalarization(): one backward pass of the weighted loss per step
  torch loop         plain PyTorch, no pmo_grad: sum of the task losses, backward, Adam step
  MGDA/loop          MGDA(), per-task backward passes (engine "loop")
  MGDA/batched       MGDA(), all task gradients in batched backward calls (engine "batched")
  MGDA/repr          MGDA(), MGDA-UB: weights from gradients with respect to the shared features
  PSMGD q=5, q=8     PSMGD(q), default engine ("auto": the loop on a CPU, batched on a GPU);
                     weights every q steps, one weighted backward pass otherwise
  PSMGD q=5/batched  the same with the batched engine
  torchjd MGDA       torchjd's mtl_backward + jac_to_grad(MGDA()), when torchjd imports

The methods run side by side: each round times ``--steps`` consecutive steps of every method in
turn (``--steps`` is a multiple of 40, so PSMGD's periods 5 and 8 complete), and a method's
ratio is the median over rounds of its time divided by LS's time in the same round. The pmo_grad
methods are timed through pymoo's ``algorithm.next()``, display off, so LS carries the same
overhead. Problems: MultiDigits (2 tasks, 12 × 12 canvases, cross-entropy) and OneVsRestDigits
(10 binary tasks on 8 × 8 digits, logistic loss), each with an MLP trunk of ``--hidden`` units.

Part 2, memory. Each configuration runs in a fresh process: MultiDigits with ``--pairings``
canvases per image, MGDA with the batched engine, two full steps at batch size b, with and
without ``micro_batch_size``; the figure is the growth of peak resident memory (CPU,
``ru_maxrss``) or of ``torch.cuda.max_memory_allocated`` (GPU) over the process's state after
building the problem.

Run from the repository root:

    python benchmarks/bench_neural.py [--rounds 7] [--steps 40] [--device cpu] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
import torch
from pymoo.core.termination import NoTermination

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.dirname(__import__("os").path.abspath(__file__))))

from benchmarks.provenance import git_state, package_source_digest  # noqa: E402
from pmo_grad import MGDA, PSMGD, LinearScalarization, Minibatch, TorchOptimizer  # noqa: E402
from pmo_grad.problems.datasets import multi_digits_problem, one_vs_rest_problem  # noqa: E402


def make_problem(name: str, hidden: tuple[int, ...], engine: str, device: str, micro_batch_size=None, pairings=1):
    options = dict(hidden=hidden, engine=engine, device=device, micro_batch_size=micro_batch_size)
    if name == "multidigits":
        return multi_digits_problem(pairings=pairings, **options)
    return one_vs_rest_problem(**options)


class PmoGradMethod:
    """A pmo_grad algorithm stepped through pymoo's ``next()``."""

    def __init__(self, problem, algorithm) -> None:
        self.problem = problem
        self.algorithm = algorithm
        algorithm.setup(problem, termination=NoTermination(), seed=1, verbose=False)
        algorithm.next()  # initial evaluation

    def step(self) -> None:
        self.algorithm.next()


class TorchLoop:
    """Plain PyTorch: minibatch, sum of the task losses, one backward, Adam."""

    def __init__(self, problem, batch_size: int) -> None:
        self.problem = problem
        self.batch_size = batch_size
        self.optimizer = torch.optim.Adam(problem.model.parameters(), lr=1e-3)
        self.rng = np.random.default_rng(1)

    def step(self) -> None:
        problem = self.problem
        idx = np.sort(self.rng.choice(problem.n_samples, self.batch_size, replace=False))
        inputs, targets = problem.train_data.batch(idx)
        outputs = problem.model(inputs)
        loss = sum(f(o, t) for f, o, t in zip(problem.losses, outputs, targets))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


class TorchJDMGDA:
    """torchjd's MGDA step: per-task Jacobian of the shared parameters, MGDA aggregation, Adam."""

    def __init__(self, problem, batch_size: int) -> None:
        from torchjd.aggregation import MGDA as JDMGDA

        self.problem = problem
        self.batch_size = batch_size
        self.aggregator = JDMGDA()
        self.optimizer = torch.optim.Adam(problem.model.parameters(), lr=1e-3)
        self.rng = np.random.default_rng(1)
        self.shared = list(problem.model.trunk.parameters())

    def step(self) -> None:
        from torchjd.autojac import jac_to_grad, mtl_backward

        problem = self.problem
        idx = np.sort(self.rng.choice(problem.n_samples, self.batch_size, replace=False))
        inputs, targets = problem.train_data.batch(idx)
        z = problem.model.trunk(inputs)
        losses = [f(head(z), t) for f, head, t in zip(problem.losses, problem.model.heads, targets)]
        self.optimizer.zero_grad(set_to_none=True)
        mtl_backward(losses, features=z)
        jac_to_grad(self.shared, self.aggregator)
        self.optimizer.step()


def build_methods(name: str, args) -> dict:
    hidden = tuple(args.hidden)
    adam = TorchOptimizer(torch.optim.Adam, lr=1e-3)

    def pmo(engine, algorithm):
        return PmoGradMethod(make_problem(name, hidden, engine, args.device), algorithm)

    batch = Minibatch(args.batch_size)
    methods = {
        "LS": pmo("batched", LinearScalarization(estimator=batch, step=adam)),
        "torch loop": TorchLoop(make_problem(name, hidden, "batched", args.device), args.batch_size),
        "MGDA/loop": pmo("loop", MGDA(estimator=batch, step=adam)),
        "MGDA/batched": pmo("batched", MGDA(estimator=batch, step=adam)),
        "MGDA/repr": pmo("representation", MGDA(estimator=batch, step=adam)),
        "PSMGD q=5": pmo("auto", PSMGD(q=5, estimator=batch, step=adam)),
        "PSMGD q=8": pmo("auto", PSMGD(q=8, estimator=batch, step=adam)),
        "PSMGD q=5/batched": pmo("batched", PSMGD(q=5, estimator=batch, step=adam)),
    }
    try:
        methods["torchjd MGDA"] = TorchJDMGDA(make_problem(name, hidden, "batched", args.device), args.batch_size)
    except ImportError:
        print("torchjd is not installed; its MGDA step is left out (pip install torchjd)")
    return methods


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_methods(name: str, args) -> dict[str, list[float]]:
    methods = build_methods(name, args)
    for method in methods.values():
        for _ in range(args.warmup):
            method.step()
    times: dict[str, list[float]] = {key: [] for key in methods}
    for _ in range(args.rounds):
        for key, method in methods.items():
            synchronize(args.device)
            start = time.perf_counter()
            for _ in range(args.steps):
                method.step()
            synchronize(args.device)
            times[key].append((time.perf_counter() - start) / args.steps)
    return times


def report_times(name: str, n_tasks: int, times: dict[str, list[float]]) -> None:
    baseline = times["LS"]
    print(f"\n{name} ({n_tasks} tasks): median time per step and ratio to LS over rounds")
    print("| method | ms / step | ratio to LS (median, min–max over rounds) |")
    print("|---|---:|---:|")
    for key, values in times.items():
        ratios = [v / b for v, b in zip(values, baseline)]
        print(f"| {key} | {1000 * statistics.median(values):.2f} | "
              f"{statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f}) |")


def memory_child(batch_size: int, micro: int | None, args) -> dict:
    problem = make_problem("multidigits", tuple(args.memory_hidden), "batched", args.device,
                           micro_batch_size=micro, pairings=args.pairings)
    batch_size = min(batch_size, problem.n_samples)
    algorithm = MGDA(estimator=Minibatch(batch_size), step=TorchOptimizer(torch.optim.Adam, lr=1e-3))
    algorithm.setup(problem, termination=NoTermination(), seed=1)
    algorithm.next()
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.max_memory_allocated()
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    for _ in range(2):
        algorithm.next()
    if args.device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"batch": batch_size, "micro": micro, "growth_mb": (peak - base) / 2**20, "n": problem.n_samples}


def memory_table(args) -> None:
    print(f"\nPeak memory growth during two MGDA steps (batched engine), MultiDigits with {args.pairings} "
          f"pairings, MLP {tuple(args.memory_hidden)}, device {args.device}")
    print("| batch size | without micro-batching (MB) | micro_batch_size=64 (MB) |")
    print("|---:|---:|---:|")
    for batch in args.memory_batches:
        cells = []
        for micro in (None, 64):
            command = [sys.executable, __file__, "--memory-child", str(batch), str(micro or 0),
                       "--device", args.device, "--pairings", str(args.pairings),
                       "--memory-hidden", *map(str, args.memory_hidden)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            result = json.loads(out)
            cells.append(f"{result['growth_mb']:.1f}")
        label = f"{result['batch']} (all)" if result["batch"] == result["n"] else str(result["batch"])
        print(f"| {label} | {cells[0]} | {cells[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--pairings", type=int, default=4)
    parser.add_argument("--memory-hidden", type=int, nargs="+", default=[1024, 1024])
    parser.add_argument("--memory-batches", type=int, nargs="+", default=[64, 256, 1024, 100000])
    parser.add_argument("--problems", nargs="+", default=["multidigits", "onevsrest"])
    parser.add_argument("--quick", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        batch, micro = args.memory_child
        print(json.dumps(memory_child(batch, micro or None, args)))
        return
    if args.quick:
        args.rounds, args.steps, args.warmup, args.hidden = 2, 40, 2, [32]
        args.memory_batches, args.memory_hidden, args.pairings = [64, 100000], [64], 1
    if args.steps % 40:
        parser.error(f"--steps must be a multiple of 40 so that PSMGD's periods 5 and 8 complete, got {args.steps}")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}")
    print(f"machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"code: {git_state('pmo_grad', 'benchmarks')}, pmo_grad digest {package_source_digest()}")
    print(f"settings: rounds {args.rounds}, steps {args.steps}, batch {args.batch_size}, hidden {tuple(args.hidden)}")
    for name in args.problems:
        n_tasks = 2 if name == "multidigits" else 10
        report_times(name, n_tasks, time_methods(name, args))
    memory_table(args)


if __name__ == "__main__":
    main()
