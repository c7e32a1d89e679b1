"""Benchmark data-parallel training: bytes communicated and time per step on 1 and k processes.

Part (a) trains MultiDigits (an MLP trunk of ``--hidden`` widths on the 144 pixels, two
10-class heads, float32) with three methods. Every method uses ``--optimizer`` (Adam with
learning rate 1e-3, or SGD with learning rate 0.1) and a global minibatch of ``--batch-size``
samples:

  MGDA     MGDA(estimator=Minibatch(b)): per-task gradients and a weight solve every step
  PSMGD    PSMGD(q=5, estimator=Minibatch(b)): per-task gradients every 5th step, one weighted
           gradient in between
  linear   LinearScalarization(estimator=Minibatch(b)): one weighted gradient every step

It reports, per step and per q = 5 steps, the payload bytes of the collectives one rank makes
(``Communicator.traffic``: the size of the tensor a rank passes to an all-reduce), and the wall
time per step with 1 process (no process group) and with each number of processes in
``--ranks``. A ring all-reduce of P payload bytes sends about 2(k − 1)/k · P bytes per rank.

Part (b) compares the two ways of splitting a refresh among k ranks on OneVsRestDigits (ten
tasks, an MLP trunk of ``--hidden`` widths with ten one-logit heads) with MGDA and the loop
engine, whose cost
grows with the number of tasks: samples split among ranks (each rank runs 10 backward passes
per micro-batch on its shard) against tasks split among ranks (each rank runs ⌈10/k⌉ on the
whole batch).

Every process uses one thread (``OMP_NUM_THREADS=1``), so k processes use k cores. Each
measurement runs ``--warmup`` steps first, then times ``--steps`` steps (a multiple of 5) between
barriers. The script also prints the largest parameter difference between the 1-process and the
k-process run of each method. With SGD it stays at the level of float32 rounding; Adam divides
each coordinate by its own gradient scale, so on coordinates whose gradient is near rounding
level the runs drift further apart.

Run from the repository root:

    python benchmarks/bench_distributed.py [--ranks 2] [--device cpu] [--steps 40] [--batch-size 1024]
        [--hidden 256,256] [--optimizer adam]

On a machine with k GPUs, ``--device cuda --ranks k`` runs the same measurements with NCCL, one
GPU per process. The script starts its worker processes itself (with ``python -m
torch.distributed.run`` on 127.0.0.1 and a free port) and prints the tables; nothing is written.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from provenance import git_state, package_source_digest  # noqa: E402  (benchmarks/ is the script folder)

METHODS = ("MGDA", "PSMGD", "linear")
Q = 5


# ---------------------------------------------------------------------------------- worker side

def _algorithm(method: str, batch_size: int, optimizer: str):
    import torch

    from pmo_grad import MGDA, PSMGD, ConstantStep, LinearScalarization, Minibatch, TorchOptimizer

    step = TorchOptimizer(torch.optim.Adam, lr=1e-3) if optimizer == "adam" else ConstantStep(0.1)
    if method == "MGDA":
        return MGDA(estimator=Minibatch(batch_size), step=step)
    if method == "PSMGD":
        return PSMGD(q=Q, estimator=Minibatch(batch_size), step=step)
    return LinearScalarization(estimator=Minibatch(batch_size), step=step)


def _measure(problem, algorithm, warmup: int, steps: int, device: str) -> dict:
    """Run ``warmup`` + ``steps`` steps; return the time per step, the bytes of each step and the parameters."""
    import torch
    import torch.distributed as dist

    algorithm.setup(problem, termination=("n_gen", warmup + steps + 10), seed=1)
    algorithm.next()  # the initial evaluation
    for _ in range(warmup):
        algorithm.next()
    comm = problem.comm

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()
        if comm is not None:
            dist.barrier()

    per_step = []
    backward = problem.n_backward
    in_collectives = comm.traffic.seconds if comm is not None else 0.0
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        before = comm.traffic.total_bytes if comm is not None else 0
        algorithm.next()
        per_step.append((comm.traffic.total_bytes if comm is not None else 0) - before)
    sync()
    seconds = (time.perf_counter() - start) / steps
    return {
        "seconds_per_step": seconds,
        "bytes": per_step,
        "backward_per_step": (problem.n_backward - backward) / steps,
        "collective_seconds_per_step": ((comm.traffic.seconds if comm is not None else 0.0) - in_collectives) / steps,
        "params": problem.parameter_vector().double().cpu().tolist(),
        "n_params": problem.n_var,
    }


def worker(args: argparse.Namespace) -> None:
    import torch.distributed as dist

    from pmo_grad.launch import launched_by_torchrun
    from pmo_grad.problems.datasets import multi_digits_problem, one_vs_rest_problem
    from pmo_grad.problems.distributed import init_from_environment

    device = args.device
    if launched_by_torchrun():
        device = str(init_from_environment(args.device, timeout_s=600))
    results = {}
    for method in METHODS:
        problem = multi_digits_problem(hidden=args.hidden, device=device)
        results[method] = _measure(problem, _algorithm(method, args.batch_size, args.optimizer), args.warmup, args.steps, args.device)
    for split in ("samples", "tasks"):
        if split == "tasks" and not dist.is_initialized():
            continue
        problem = one_vs_rest_problem(hidden=args.hidden, device=device, engine="loop", task_parallel=split == "tasks")
        results[f"tasks/{split}"] = _measure(problem, _algorithm("MGDA", args.batch_size, args.optimizer), args.warmup,
                                             args.steps, args.device)
    if not dist.is_initialized() or dist.get_rank() == 0:
        with open(args.worker_out, "w") as handle:
            json.dump(results, handle)
    if dist.is_initialized():
        dist.destroy_process_group()


# ---------------------------------------------------------------------------------- launcher side

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(nproc: int, args: argparse.Namespace, out: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    if os.path.exists("/sys/class/net/lo") and args.device == "cpu":
        env["GLOO_SOCKET_IFNAME"] = "lo"
    script = [os.path.abspath(__file__), "--worker-out", out, "--device", args.device, "--steps", str(args.steps),
              "--warmup", str(args.warmup), "--batch-size", str(args.batch_size),
              "--hidden", ",".join(str(w) for w in args.hidden), "--optimizer", args.optimizer]
    if nproc == 1:
        command = [sys.executable, *script]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--nnodes=1",
                   "--master_addr=127.0.0.1", f"--master_port={_free_port()}", *script]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {nproc}-process run failed with exit code {done.returncode}:\n{done.stderr[-4000:]}")
    with open(out) as handle:
        return json.load(handle)


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    print(f"\n{title}")
    print("| " + " | ".join(str(cell).ljust(w) for cell, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell).ljust(w) for cell, w in zip(row, widths)) + " |")


def _run_info(args: argparse.Namespace) -> dict[str, str]:
    import numpy
    import torch

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, {platform.platform()}",
        "software": f"Python {platform.python_version()}, torch {torch.__version__}, numpy {numpy.__version__}",
        "pmo_grad": f"{git_state('pmo_grad')}, source digest {package_source_digest()}",
    }


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid layer widths {text!r}: use integers like 256,256")
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"invalid layer widths {text!r}: give one or more integers >= 1")
    return widths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranks", default="2", help="comma-separated process counts to compare with 1 (default: 2)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cpu (gloo) or cuda (NCCL, one GPU per process)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per measurement, a multiple of 5 (default: 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before the timed ones, a multiple of 5 (default: 5)")
    parser.add_argument("--batch-size", type=int, default=1024,
                        help="global minibatch in samples, at most 1258 (default: 1024)")
    parser.add_argument("--hidden", type=_widths, default=(256, 256), help="hidden layer widths (default: 256,256)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                        help="Adam with learning rate 1e-3 (default) or SGD with learning rate 0.1")
    parser.add_argument("--worker-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < Q or args.steps % Q or args.warmup % Q:
        parser.error(f"--steps must be a positive multiple of {Q} and --warmup a multiple of {Q}, so that the "
                     f"timed steps hold whole PSMGD periods; got {args.steps} and {args.warmup}")
    if args.worker_out is not None:
        worker(args)
        return 0
    try:
        ranks = sorted({int(part) for part in args.ranks.split(",") if part.strip()})
    except ValueError:
        parser.error(f"--ranks must be comma-separated integers, got {args.ranks!r}")
    if not ranks or min(ranks) < 2:
        parser.error(f"--ranks must list process counts of 2 or more, got {args.ranks!r}")

    info = _run_info(args)
    for key, value in info.items():
        print(f"{key}: {value}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        runs = {k: _launch(k, args, os.path.join(folder, f"{k}.json")) for k in [1, *ranks]}

    k_max = ranks[-1]
    n_params = runs[1]["MGDA"]["n_params"]
    rows = []
    for method in METHODS:
        counts = runs[k_max][method]["bytes"]
        per_period = [sum(counts[i:i + Q]) for i in range(0, len(counts), Q)]
        rows.append([method, f"{max(counts):,}", f"{min(counts):,}", f"{sum(counts) / len(counts):,.0f}",
                     f"{sum(per_period) / len(per_period):,.0f}"])
    mgda_period = sum(runs[k_max]["MGDA"]["bytes"]) / (len(runs[k_max]["MGDA"]["bytes"]) / Q)
    _table(f"(a) payload bytes per rank on {k_max} ranks, MultiDigits, hidden {args.hidden}, {n_params:,} float32 "
           f"parameters, batch {args.batch_size}",
           ["method", "largest step", "smallest step", "mean per step", f"per {Q} steps"], rows)
    print("ratio to MGDA per 5 steps: " + ", ".join(
        f"{m} {sum(runs[k_max][m]['bytes']) / (len(runs[k_max][m]['bytes']) / Q) / mgda_period:.3f}" for m in METHODS))

    rows = []
    for method in METHODS:
        one = runs[1][method]
        cells = [method, f"{one['seconds_per_step'] * 1e3:.2f}"]
        for k in ranks:
            other = runs[k][method]
            difference = max(abs(a - b) for a, b in zip(one["params"], other["params"]))
            cells += [f"{other['seconds_per_step'] * 1e3:.2f}", f"{other['collective_seconds_per_step'] * 1e3:.2f}",
                      f"{one['seconds_per_step'] / other['seconds_per_step']:.2f}", f"{difference:.1e}"]
        rows.append(cells)
    header = ["method", "1 process (ms/step)"]
    for k in ranks:
        header += [f"{k} processes (ms/step)", "in collectives (ms/step)", f"speed-up 1/{k}", f"max |θ1 − θ{k}|"]
    _table(f"(a) time per step, {args.device}, {args.optimizer}, {args.steps} timed steps", header, rows)

    rows = []
    one = runs[1]["tasks/samples"]
    rows.append(["1 process", f"{one['backward_per_step']:.1f}", f"{one['seconds_per_step'] * 1e3:.2f}", "-", "1.00", "-"])
    for k in ranks:
        for split in ("samples", "tasks"):
            run = runs[k][f"tasks/{split}"]
            difference = max(abs(a - b) for a, b in zip(one["params"], run["params"]))
            rows.append([f"{k} processes, {split} split", f"{run['backward_per_step']:.1f}",
                         f"{run['seconds_per_step'] * 1e3:.2f}", f"{run['collective_seconds_per_step'] * 1e3:.2f}",
                         f"{one['seconds_per_step'] / run['seconds_per_step']:.2f}", f"{difference:.1e}"])
    _table(f"(b) MGDA on OneVsRestDigits (10 tasks, loop engine), hidden {args.hidden}, batch {args.batch_size}",
           ["run", "backward passes per step (rank 0)", "ms/step", "in collectives (ms/step)", "speed-up",
            "max |θ1 − θk|"], rows)
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
