"""Benchmark stochastic multi-gradient methods: full-data Pareto-stationarity against per-sample gradients.

Methods (all with one trajectory per run, ``pop_size=1``, and a constant step size):

  SMGD       SMGD(batch_size=32): min-norm weights from a fresh minibatch Jacobian every step
  PSMGD      PSMGD(q=5, estimator=Minibatch(32)): weights every 5 steps, minibatch gradients
  PSMGD-VR   PSMGD(q=None, estimator=Recursive()): q = ⌈√n⌉, SPIDER/SARAH corrections on ⌈√n⌉ samples
  STIMULUS   STIMULUS(): SPIDER/SARAH per-objective estimates, min-norm weights every step
  MoCo       MoCo(batch_size=32) with its default beta = 0.1, gamma = 0.1

Problems (finite sums, selected with ``--problems``):

  breast-cancer  GroupLogisticRegression.breast_cancer_groups(): n = 569, m = 2, d = 31
  diabetes       MultiTargetLeastSquares.diabetes_two_targets(): n = 442, m = 2, d = 10
  zdt1-noisy     NoisyGradients(ZDT1 with 10 variables, sigma = 1): n = 1000, m = 2, d = 10

Every run starts at the center of the box, (xl + xu) / 2, which is the origin w = 0, b = 0 for
the two regression problems. The seed therefore changes only the samples drawn. A pymoo
``Callback`` records after every generation the cumulative per-sample gradient count
(``algorithm.counters["n_sample_grads"]``: a per-sample Jacobian counts m, a per-sample weighted
gradient 1) and the full-data Pareto-stationarity of the current point,

    s(x) = min_{λ ∈ Δ_m} ‖λᵀ J(x)‖²,   J(x) the Jacobian on all n samples,

computed with ``pmo_grad.indicators.pareto_stationarity``. Columns of J that sit on a bound
which every objective's gradient pushes against are removed first, by the rule the algorithms
use (``blocked_coordinates``). For a point inside the box this is exactly
``pareto_stationarity(problem.sample_jacobian(X))``. The count of recorded points with such a
coordinate is reported per run.

All methods of one problem run under the same ``SampleBudgetTermination`` (a number of full
passes, one pass being n·m per-sample gradients). The constant step size of each (problem,
method) pair is chosen from a grid on the tuning seed, which is not a measured seed. The
chosen step is the one that first reaches stationarity ≤ 1e-5 with the fewest per-sample
gradients. When no step in the grid reaches it, the chosen step is the one with the lowest
median stationarity over the last tenth of the recorded generations.

Run from the repository root:

    python benchmarks/bench_stochastic.py [--seeds 1,2,3] [--tune-seed 0] [--quick]
        [--problems breast-cancer,diabetes,zdt1-noisy] [--out DIR] [--figures DIR]

The script prints the step-size scan and one results table per problem. It writes
``tuning.csv``, ``runs.csv`` (one row per run), ``traces.csv`` (one row per generation) and
``run_info.txt`` (machine, versions, commit) into the output folder. The figures
``stochastic_<problem>.png`` (stationarity against per-sample gradients, median over seeds with
the min-max band) go to ``--figures``, or to the output folder by default.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from pymoo.core.callback import Callback  # noqa: E402
from pymoo.optimize import minimize  # noqa: E402
from pymoo.problems import get_problem  # noqa: E402

from provenance import common_run_info  # noqa: E402  (benchmarks/ is the script folder)
from pmo_grad import (  # noqa: E402
    PSMGD,
    SMGD,
    STIMULUS,
    ConstantStep,
    Minibatch,
    MoCo,
    Recursive,
    SampleBudgetTermination,
)
from pmo_grad.problems.bounds import blocked_coordinates  # noqa: E402
from pmo_grad.indicators import pareto_stationarity  # noqa: E402
from pmo_grad.problems import GroupLogisticRegression, MultiTargetLeastSquares, NoisyGradients  # noqa: E402

DEFAULT_OUT = os.path.join("benchmarks", "results", "stochastic")

BATCH_SIZE = 32
PSMGD_PERIOD = 5
TOLERANCES = (1e-3, 1e-5)
TUNING_TOLERANCE = 1e-5
# Share of the recorded generations, at the end of a run, whose median stationarity ranks the
# steps that never reach TUNING_TOLERANCE.
TAIL_FRACTION = 0.1
# Stationarity values below this are drawn at this value on the log-scale figures (an exact 0
# has no place on a log axis).
PLOT_FLOOR = 1e-16
METHOD_NAMES = ("SMGD", "PSMGD", "PSMGD-VR", "STIMULUS", "MoCo")
METHOD_COLORS = {"SMGD": "tab:red", "PSMGD": "tab:orange", "PSMGD-VR": "tab:blue", "STIMULUS": "tab:green", "MoCo": "tab:purple"}


# ---------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ProblemSpec:
    """A benchmark problem: how to build it, its sample budget in full passes and its step grid."""

    key: str
    label: str
    build: Callable[[], object]
    passes: float
    quick_passes: float
    step_grid: tuple[float, ...]
    quick_step_grid: tuple[float, ...]


# Constant step sizes scanned on the two regression problems, in (variable unit)² per
# (objective unit). Their gradients are Lipschitz with constants of a few units (3.7 on
# diabetes, at most about 4.2 on breast cancer), so the grid spans well below to well above
# the stable range of full-gradient descent, η < 2 / L.
STEP_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def build_noisy_zdt1() -> NoisyGradients:
    return NoisyGradients(get_problem("zdt1", n_var=10), sigma=1.0, n_samples=1000, seed=0)


PROBLEMS = {
    spec.key: spec
    for spec in (
        ProblemSpec(
            "breast-cancer", "breast cancer, group logistic regression (n=569, m=2, d=31)",
            GroupLogisticRegression.breast_cancer_groups, passes=200, quick_passes=20,
            step_grid=STEP_GRID, quick_step_grid=(0.3, 1.0),
        ),
        ProblemSpec(
            "diabetes", "diabetes, two-target least squares (n=442, m=2, d=10)",
            MultiTargetLeastSquares.diabetes_two_targets, passes=200, quick_passes=20,
            step_grid=STEP_GRID, quick_step_grid=(0.1, 0.3),
        ),
        # Its Pareto set lies on the bound x_2 = … = x_10 = 0, which the projected step reaches
        # exactly, so a short budget suffices.
        ProblemSpec(
            "zdt1-noisy", "ZDT1 (10 variables) with Gaussian gradient noise, sigma=1 (n=1000, m=2, d=10)",
            build_noisy_zdt1, passes=20, quick_passes=2,
            step_grid=(0.1, 0.3, 1.0), quick_step_grid=(0.3,),
        ),
    )
}
DEFAULT_PROBLEMS = ("breast-cancer", "diabetes", "zdt1-noisy")


def make_method(name: str, step: float, start: np.ndarray):
    """Return a fresh algorithm ``name`` with a constant step and the given start point (one trajectory)."""
    common = {"pop_size": 1, "sampling": start, "step": ConstantStep(step)}
    if name == "SMGD":
        return SMGD(batch_size=BATCH_SIZE, **common)
    if name == "PSMGD":
        return PSMGD(q=PSMGD_PERIOD, estimator=Minibatch(BATCH_SIZE), **common)
    if name == "PSMGD-VR":
        return PSMGD(q=None, estimator=Recursive(), **common)
    if name == "STIMULUS":
        return STIMULUS(**common)
    if name == "MoCo":
        return MoCo(batch_size=BATCH_SIZE, **common)
    raise ValueError(f"unknown method {name!r}; expected one of {METHOD_NAMES}")


# ---------------------------------------------------------------------------- measuring


def full_data_stationarity(problem, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the full-data Pareto-stationarity of each point and whether it has a blocked coordinate."""
    J = problem.sample_jacobian(X)
    blocked = blocked_coordinates(X, problem.xl, problem.xu, J)
    J = np.where(blocked[:, None, :], 0.0, J)
    return pareto_stationarity(J), blocked.any(axis=1)


class StationarityTrace(Callback):
    """Callback that records, every generation, the per-sample gradient count and full-data stationarity.

    The full-data Jacobian formed here is not counted in the algorithm's counters.
    """

    def __init__(self, problem) -> None:
        super().__init__()
        self.problem = problem
        self.sample_grads: list[int] = []
        self.stationarity: list[float] = []
        self.n_blocked = 0
        self.last_blocked_sample_grads: int | None = None

    def notify(self, algorithm) -> None:
        X = algorithm.pop.get("X")
        values, blocked = full_data_stationarity(self.problem, X)
        self.sample_grads.append(int(algorithm.counters["n_sample_grads"]))
        self.stationarity.append(float(values[0]))
        if blocked[0]:
            self.n_blocked += 1
            self.last_blocked_sample_grads = self.sample_grads[-1]


@dataclass
class Run:
    """One trajectory: its trace and summary numbers."""

    problem: str
    method: str
    seed: int
    step: float
    sample_grads: np.ndarray
    stationarity: np.ndarray
    n_blocked: int
    last_blocked_sample_grads: int | None
    wall_s: float

    @property
    def n_generations(self) -> int:
        return len(self.stationarity)

    def first_reach(self, tolerance: float) -> float:
        """Per-sample gradients at the first recorded point with stationarity ≤ tolerance, else inf."""
        hits = np.flatnonzero(self.stationarity <= tolerance)
        return float(self.sample_grads[hits[0]]) if hits.size else math.inf

    def stays_below(self, tolerance: float) -> float:
        """Per-sample gradients from which every later recorded point has stationarity ≤ tolerance, else inf."""
        above = np.flatnonzero(self.stationarity > tolerance)
        if above.size == 0:
            return float(self.sample_grads[0])
        if above[-1] == len(self.stationarity) - 1:
            return math.inf
        return float(self.sample_grads[above[-1] + 1])

    def tail_level(self) -> float:
        """Median stationarity over the last TAIL_FRACTION of the recorded generations."""
        count = max(1, int(round(TAIL_FRACTION * len(self.stationarity))))
        return float(np.median(self.stationarity[-count:]))


def run_once(spec: ProblemSpec, problem, method: str, step: float, seed: int, budget: int) -> Run:
    start = ((problem.xl + problem.xu) / 2.0)[None, :]
    trace = StationarityTrace(problem)
    started = time.perf_counter()
    minimize(problem, make_method(method, step, start), SampleBudgetTermination(budget), seed=seed, callback=trace)
    wall_s = time.perf_counter() - started
    return Run(
        spec.key, method, seed, step, np.array(trace.sample_grads), np.array(trace.stationarity),
        trace.n_blocked, trace.last_blocked_sample_grads, wall_s,
    )


def choose_step(runs: list[Run]) -> Run:
    """Return the tuning run whose step wins: fewest per-sample gradients to TUNING_TOLERANCE, else lowest tail level."""
    reached = [run for run in runs if math.isfinite(run.first_reach(TUNING_TOLERANCE))]
    if reached:
        return min(reached, key=lambda run: (run.first_reach(TUNING_TOLERANCE), run.tail_level()))
    return min(runs, key=lambda run: run.tail_level())


# ---------------------------------------------------------------------------- summaries


def median_with_misses(values: list[float]) -> float:
    """Return the median with a miss (inf) counted as larger than every hit, so it is inf unless more than half hit."""
    return float(np.median(np.array(values, dtype=float)))


def format_count(value: float, pass_size: int) -> str:
    if not math.isfinite(value):
        return "not reached"
    return f"{value:.0f} ({value / pass_size:.1f})"


def format_reach(values: list[float], pass_size: int) -> str:
    hits = sum(math.isfinite(value) for value in values)
    median = median_with_misses(values)
    if not math.isfinite(median):
        return f"not reached ({hits}/{len(values)})"
    return f"{format_count(median, pass_size)} {hits}/{len(values)}"


def format_ratio(reference: float, value: float, reference_budget: float) -> str:
    """Return reference / value, as a lower bound "≥ budget / value" when the reference missed."""
    if not math.isfinite(value):
        return "-"
    if not math.isfinite(reference):
        return f">= {reference_budget / value:.2g}"
    return f"{reference / value:.2g}"


def format_blocked(runs: list[Run]) -> str:
    """Return the number of recorded points with a blocked coordinate, and the largest per-sample count among them."""
    total = sum(run.n_blocked for run in runs)
    if total == 0:
        return "0"
    last = max(run.last_blocked_sample_grads for run in runs if run.last_blocked_sample_grads is not None)
    return f"{total} ({last})"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    print(f"\n{title}")
    print("  ".join(cell.ljust(width) for cell, width in zip(header, widths)))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))


def report_tuning(spec: ProblemSpec, tuning: dict[str, list[Run]], chosen: dict[str, float], pass_size: int) -> None:
    header = ["method", "step", "first <= 1e-3 (passes)", "first <= 1e-5 (passes)", "tail median", "chosen"]
    rows = []
    for method, runs in tuning.items():
        for run in runs:
            rows.append([
                method, f"{run.step:g}", format_count(run.first_reach(1e-3), pass_size),
                format_count(run.first_reach(1e-5), pass_size), f"{run.tail_level():.2e}",
                "*" if run.step == chosen[method] else "",
            ])
    print_table(
        f"Step-size scan, {spec.label}, tuning seed {tuning[METHOD_NAMES[0]][0].seed}: per-sample gradients "
        f"to first reach stationarity <= tol (full passes of {pass_size} in brackets)",
        header, rows,
    )

    # Each tolerance with its own best step: how the methods compare when tuned for that tolerance alone.
    header = ["method"]
    for tolerance in TOLERANCES:
        header += [f"fewest to {tolerance:g} (passes)", "step", "SMGD / method"]
    best_smgd = {tolerance: min(run.first_reach(tolerance) for run in tuning["SMGD"]) for tolerance in TOLERANCES}
    smgd_budget = float(max(run.sample_grads[-1] for run in tuning["SMGD"]))
    rows = []
    for method, runs in tuning.items():
        row = [method]
        for tolerance in TOLERANCES:
            best = min(runs, key=lambda run: run.first_reach(tolerance))
            count = best.first_reach(tolerance)
            row += [format_count(count, pass_size), f"{best.step:g}" if math.isfinite(count) else "-",
                    format_ratio(best_smgd[tolerance], count, smgd_budget)]
        rows.append(row)
    print_table(
        f"Best step of the grid for each tolerance separately, {spec.label}, tuning seed "
        f"{tuning[METHOD_NAMES[0]][0].seed} (one seed)",
        header, rows,
    )


def report_results(spec: ProblemSpec, runs: list[Run], pass_size: int, budget: int) -> None:
    by_method = {method: [run for run in runs if run.method == method] for method in METHOD_NAMES}
    smgd = by_method["SMGD"]
    smgd_budget = float(np.median([run.sample_grads[-1] for run in smgd]))
    header = ["method", "step"]
    for tolerance in TOLERANCES:
        header += [f"first <= {tolerance:g}: median (passes) seeds", f"SMGD / method at {tolerance:g}"]
    header += ["stays <= 1e-05 from: median (passes) seeds", "final stationarity: median [min, max]",
               "generations", "blocked points (last at)", "wall s"]
    rows = []
    for method, group in by_method.items():
        row = [method, f"{group[0].step:g}"]
        for tolerance in TOLERANCES:
            values = [run.first_reach(tolerance) for run in group]
            reference = median_with_misses([run.first_reach(tolerance) for run in smgd])
            row += [format_reach(values, pass_size),
                    format_ratio(reference, median_with_misses(values), smgd_budget)]
        finals = [run.stationarity[-1] for run in group]
        row += [
            format_reach([run.stays_below(1e-5) for run in group], pass_size),
            f"{np.median(finals):.1e} [{min(finals):.1e}, {max(finals):.1e}]",
            f"{np.median([run.n_generations for run in group]):.0f}",
            format_blocked(group),
            f"{np.mean([run.wall_s for run in group]):.1f}",
        ]
        rows.append(row)
    print_table(
        f"Results, {spec.label}: budget {budget} per-sample gradients ({budget / pass_size:g} passes of {pass_size}), "
        f"seeds {sorted({run.seed for run in runs})}, one trajectory per run. Medians count a seed that misses as "
        "larger than any hit; '>=' ratios use SMGD's whole budget where SMGD misses",
        header, rows,
    )


# ---------------------------------------------------------------------------- figures


def plot_problem(spec: ProblemSpec, runs: list[Run], pass_size: int, path: str) -> None:
    """Draw stationarity against per-sample gradients: median over seeds and the min-max band, per method."""
    figure, axis = plt.subplots(figsize=(7.0, 4.4), dpi=100)
    for method in METHOD_NAMES:
        group = [run for run in runs if run.method == method]
        if not group:
            continue
        # Runs of one method take the same steps at the same per-sample counts, so the traces
        # are aligned. np.interp also covers runs of different lengths.
        grid = group[0].sample_grads
        values = np.array([
            np.interp(grid, run.sample_grads, np.maximum(run.stationarity, PLOT_FLOOR)) for run in group
        ])
        color = METHOD_COLORS[method]
        axis.plot(grid, np.median(values, axis=0), color=color, linewidth=1.2, label=f"{method} (step {group[0].step:g})")
        axis.fill_between(grid, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2, linewidth=0)
    for tolerance in TOLERANCES:
        axis.axhline(tolerance, color="grey", linestyle=":", linewidth=0.8)
    axis.set_yscale("log")
    axis.set_xlabel("per-sample gradient evaluations")
    axis.set_ylabel(f"full-data Pareto-stationarity min ‖λᵀJ‖²\n(values below {PLOT_FLOOR:g} drawn at {PLOT_FLOOR:g})", fontsize=9)
    seeds = sorted({run.seed for run in runs})
    axis.set_title(f"{spec.label}\nmedian and min-max over seeds {seeds}, pop_size=1", fontsize=9)
    top = axis.secondary_xaxis("top", functions=(lambda x: x / pass_size, lambda p: p * pass_size))
    top.set_xlabel(f"full passes (n·m = {pass_size})", fontsize=8)
    axis.legend(fontsize=8, loc="best")
    axis.grid(True, which="major", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# ---------------------------------------------------------------------------- output files


def run_info(args: argparse.Namespace) -> dict[str, str]:
    return {
        **common_run_info("benchmarks/bench_stochastic.py"),
        "seeds": ",".join(map(str, args.seeds)),
        "tune_seed": str(args.tune_seed),
        "quick": str(args.quick),
    }


def write_csv(path: str, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def run_rows(runs: list[Run], pass_size: dict[str, int]) -> list[list]:
    rows = []
    for run in runs:
        rows.append([
            run.problem, run.method, run.seed, run.step, pass_size[run.problem], run.n_generations,
            int(run.sample_grads[-1]), *(run.first_reach(tolerance) for tolerance in TOLERANCES),
            *(run.stays_below(tolerance) for tolerance in TOLERANCES), run.stationarity[-1], run.tail_level(),
            run.n_blocked, run.last_blocked_sample_grads if run.last_blocked_sample_grads is not None else "",
            round(run.wall_s, 3),
        ])
    return rows


RUN_HEADER = [
    "problem", "method", "seed", "step", "pass_size", "generations", "sample_grads_total",
    "first_reach_1e-3", "first_reach_1e-5", "stays_below_1e-3", "stays_below_1e-5",
    "final_stationarity", "tail_median_stationarity", "blocked_points", "last_blocked_sample_grads", "wall_s",
]


def trace_rows(runs: list[Run]) -> list[list]:
    rows = []
    for run in runs:
        for generation, (count, value) in enumerate(zip(run.sample_grads, run.stationarity)):
            rows.append([run.problem, run.method, run.seed, run.step, generation, int(count), f"{value:.6e}"])
    return rows


# ---------------------------------------------------------------------------- main


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers, got {text!r}") from error
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds must be distinct integers, at least one, got {text!r}")
    return seeds


def parse_problems(text: str) -> list[str]:
    keys = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [key for key in keys if key not in PROBLEMS]
    if not keys or unknown:
        raise argparse.ArgumentTypeError(f"problems must be names from {sorted(PROBLEMS)}, got {text!r}")
    return keys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=parse_seeds, default=[1, 2, 3],
                        help="comma-separated seeds of the measured runs (default 1,2,3)")
    parser.add_argument("--tune-seed", type=int, default=0,
                        help="seed of the step-size scan; must not be a measured seed (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="first seed only, 20 passes (2 on zdt1-noisy) and at most 2 steps per grid: a smoke check under a minute")
    parser.add_argument("--problems", type=parse_problems, default=list(DEFAULT_PROBLEMS),
                        help=f"comma-separated problems from {', '.join(DEFAULT_PROBLEMS)} (default all)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"folder for the CSV files, run_info.txt and figures (default {DEFAULT_OUT})")
    parser.add_argument("--figures", default=None,
                        help="folder for the PNG figures (default: the --out folder)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = args.seeds[:1]
    if args.tune_seed in args.seeds:
        parser.error(f"--tune-seed {args.tune_seed} is also a measured seed; pick a seed outside {args.seeds}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    figures_dir = args.figures or args.out
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(figures_dir, exist_ok=True)
    info = run_info(args)
    for key, value in info.items():
        print(f"{key}: {value}")
    started = time.perf_counter()

    tuning_rows, measured, pass_sizes = [], [], {}
    for key in args.problems:
        spec = PROBLEMS[key]
        problem = spec.build()
        pass_size = problem.n_samples * problem.n_obj
        pass_sizes[key] = pass_size
        passes = spec.quick_passes if args.quick else spec.passes
        grid = spec.quick_step_grid if args.quick else spec.step_grid
        budget = int(round(passes * pass_size))
        print(f"\n== {spec.label}: budget {budget} per-sample gradients ({passes:g} passes)", flush=True)

        tuning, chosen = {}, {}
        for method in METHOD_NAMES:
            tuning[method] = [run_once(spec, problem, method, step, args.tune_seed, budget) for step in grid]
            chosen[method] = choose_step(tuning[method]).step
            for run in tuning[method]:
                tuning_rows.append([key, method, run.step, run.seed, run.first_reach(1e-3), run.first_reach(1e-5),
                                    run.tail_level(), run.step == chosen[method]])
            print(f"  tuned {method}: step {chosen[method]:g}", flush=True)
        report_tuning(spec, tuning, chosen, pass_size)

        runs = []
        for method in METHOD_NAMES:
            for seed in args.seeds:
                run = run_once(spec, problem, method, chosen[method], seed, budget)
                runs.append(run)
                print(f"  {method} seed {seed}: final stationarity {run.stationarity[-1]:.2e} "
                      f"({run.n_generations} generations, {run.wall_s:.1f} s)", flush=True)
        report_results(spec, runs, pass_size, budget)
        figure_path = os.path.join(figures_dir, f"stochastic_{key.replace('-', '_')}.png")
        plot_problem(spec, runs, pass_size, figure_path)
        print(f"figure: {figure_path}")
        measured.extend(runs)

    write_csv(os.path.join(args.out, "tuning.csv"),
              ["problem", "method", "step", "seed", "first_reach_1e-3", "first_reach_1e-5",
               "tail_median_stationarity", "chosen"], tuning_rows)
    write_csv(os.path.join(args.out, "runs.csv"), RUN_HEADER, run_rows(measured, pass_sizes))
    write_csv(os.path.join(args.out, "traces.csv"),
              ["problem", "method", "seed", "step", "generation", "sample_grads", "stationarity"], trace_rows(measured))
    info["wall_s_total"] = f"{time.perf_counter() - started:.0f}"
    with open(os.path.join(args.out, "run_info.txt"), "w") as handle:
        handle.writelines(f"{key}: {value}\n" for key, value in info.items())
    print(f"\ntotal wall time {info['wall_s_total']} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
