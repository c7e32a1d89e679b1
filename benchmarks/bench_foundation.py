"""Benchmark PSMGD and MGDA against NSGA-II and NSGA-III on ZDT1 and DTLZ2.

Every run uses 100 points and pymoo's ``minimize`` with a seed. Parts:

scan  PSMGD's constant step size, chosen per problem on the tuning seed (not a measured seed)
a     ZDT1, 30 variables: hypervolume (HV) at (1.1, 1.1) of PSMGD(q=5) and MGDA with a
      constant and an Armijo step, and of NSGA-II after 200 generations
b     DTLZ2, 3 objectives, 12 variables: HV at (1.1, 1.1, 1.1) of PSMGD(q=5) and MGDA,
      and of NSGA-III with the 91 Das-Dennis directions (12 partitions) after 200 generations
c     from the part (a) runs: wall time PSMGD needs to reach NSGA-II's final HV, divided by
      NSGA-II's wall time for its 200 generations
d     ZDT1, 1000 variables: NSGA-II for 200 generations, then PSMGD for the same wall time

A pymoo budget of ``n_gen`` generations gives a gradient method n_gen − 1 gradient steps,
because its first generation only evaluates the start points.

Run from the repository root:

    python benchmarks/bench_foundation.py [--seeds 1,2,3] [--quick] [--out DIR]

The script prints one table per part and writes ``results.csv`` (one row per run),
``traces.csv`` (HV against wall time per generation for part c) and ``run_info.txt``
(machine, versions, pmo_grad commit and source digest) into the output folder.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import math
import os
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np
import pymoo
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.algorithms.moo.nsga3 import NSGA3
from pymoo.core.callback import Callback
from pymoo.indicators.hv import HV
from pymoo.indicators.igd import IGD
from pymoo.optimize import minimize
from pymoo.problems import get_problem
from pymoo.termination.max_time import TimeBasedTermination
from pymoo.util.ref_dirs import get_reference_directions

from provenance import git_state, package_source_digest  # noqa: E402  (benchmarks/ is the script folder)
from pmo_grad import MGDA, PSMGD, ArmijoStep, ConstantStep
from pmo_grad.indicators import true_hypervolume

POP_SIZE = 100
PSMGD_PERIOD = 5
ZDT1_REF = np.array([1.1, 1.1])
DTLZ2_REF = np.array([1.1, 1.1, 1.1])

# Targets for PSMGD. For scale on ZDT1: the true front has HV 0.876667, 100 evenly spaced
# points on it have 0.87141, and an L-BFGS-B search over 100 front points found 0.87211.
ZDT1_PSMGD_TARGET_HV = 0.8712
DTLZ2_PSMGD_TARGET_HV = 0.750
TIME_RATIO_TARGET = 0.5

# Tolerances used only to describe where the final points sit.
ON_FRONT_TOLERANCE = 1e-3
DISTINCT_X1_DECIMALS = 6


@dataclass(frozen=True)
class Budget:
    """Generation counts and step-size candidates for one benchmark size (full or quick)."""

    zdt1_gradient_gens: int
    zdt1_armijo_gens: int
    zdt1_nsga2_gens: int
    dtlz2_gradient_gens: int
    dtlz2_nsga3_gens: int
    large_nsga2_gens: int
    zdt1_step_candidates: tuple[float, ...]
    dtlz2_step_candidates: tuple[float, ...]
    large_step_candidates: tuple[float, ...]


FULL_BUDGET = Budget(
    zdt1_gradient_gens=1000,
    zdt1_armijo_gens=300,
    zdt1_nsga2_gens=200,
    dtlz2_gradient_gens=1000,
    dtlz2_nsga3_gens=200,
    large_nsga2_gens=200,
    zdt1_step_candidates=(0.02, 0.05, 0.1, 0.2, 0.5),
    dtlz2_step_candidates=(0.01, 0.02, 0.05, 0.1, 0.2),
    # The step is in (variable unit)² / (objective unit). On ZDT1 each ∂g/∂x_i is 9 / (n − 1),
    # so with 1000 variables a useful step is larger than with 30.
    large_step_candidates=(0.2, 0.5, 1.0, 2.0),
)

QUICK_BUDGET = Budget(
    zdt1_gradient_gens=200,
    zdt1_armijo_gens=20,
    zdt1_nsga2_gens=50,
    dtlz2_gradient_gens=100,
    dtlz2_nsga3_gens=50,
    large_nsga2_gens=20,
    zdt1_step_candidates=(0.05, 0.1),
    dtlz2_step_candidates=(0.02, 0.05),
    large_step_candidates=(1.0, 2.0),
)


# ---------------------------------------------------------------------------- running


class HypervolumeTrace(Callback):
    """Callback that records (wall seconds, HV of ``algorithm.opt``) after every generation.

    The time spent inside this callback is measured and subtracted, so ``elapsed`` is the
    algorithm's own wall time since ``start()``.
    """

    def __init__(self, ref_point: np.ndarray) -> None:
        super().__init__()
        self.indicator = HV(ref_point=ref_point)
        self.elapsed: list[float] = []
        self.hv: list[float] = []
        self.overhead_s = 0.0
        self.start_s = 0.0

    def start(self) -> None:
        self.start_s = time.perf_counter()

    def notify(self, algorithm) -> None:
        entered = time.perf_counter()
        self.elapsed.append(entered - self.start_s - self.overhead_s)
        self.hv.append(float(self.indicator(algorithm.opt.get("F"))))
        self.overhead_s += time.perf_counter() - entered


@dataclass
class RunResult:
    """Final population, HV, wall time (HV recording excluded), generations and counters of one run."""

    X: np.ndarray
    F: np.ndarray
    hv: float
    wall_s: float
    n_gen: int
    counters: dict[str, int]
    trace: HypervolumeTrace | None


def run_algorithm(problem, algorithm, termination, seed: int, ref_point: np.ndarray, trace: bool = False) -> RunResult:
    """Run ``minimize`` once and return the final population, its HV and the wall time.

    With ``trace``, HV is recorded after every generation and the recording time is
    subtracted from ``wall_s``.
    """
    callback = HypervolumeTrace(ref_point) if trace else None
    # In pymoo 0.6.2, minimize(callback=None) replaces the default callback with None and the run
    # fails with a TypeError, so the keyword is passed only when there is a callback.
    options = {} if callback is None else {"callback": callback}
    started = time.perf_counter()
    if callback is not None:
        callback.start()
    result = minimize(problem, algorithm, termination, seed=seed, verbose=False, **options)
    wall_s = time.perf_counter() - started
    if callback is not None:
        wall_s -= callback.overhead_s

    F = result.pop.get("F")
    counters = dict(getattr(result.algorithm, "counters", {"n_eval": result.algorithm.evaluator.n_eval}))
    # HV ignores dominated points, so the HV of the whole final population is the HV of its
    # non-dominated subset.
    return RunResult(
        X=result.pop.get("X"),
        F=F,
        hv=float(HV(ref_point=ref_point)(F)),
        wall_s=wall_s,
        # pymoo advances n_iter once more after the last generation.
        n_gen=int(result.algorithm.n_iter) - 1,
        counters=counters,
        trace=callback,
    )


def warm_up() -> None:
    """Run each algorithm for a few generations so that one-time import costs stay out of the timings."""
    zdt1 = get_problem("zdt1")
    minimize(zdt1, NSGA2(pop_size=POP_SIZE), ("n_gen", 3), seed=0)
    minimize(zdt1, PSMGD(q=PSMGD_PERIOD, pop_size=POP_SIZE), ("n_gen", 3), seed=0)
    minimize(zdt1, MGDA(pop_size=POP_SIZE, step=ArmijoStep()), ("n_gen", 3), seed=0)


# ---------------------------------------------------------------------------- diagnostics


def zdt1_point_summary(X: np.ndarray) -> dict[str, float]:
    """Describe where ZDT1 points sit: x1 at its bound 0, near 0, above 0.5, on the front."""
    x1 = X[:, 0]
    g = 1.0 + 9.0 * X[:, 1:].sum(axis=1) / (X.shape[1] - 1)
    return {
        "n_x1_at_0": int(np.sum(x1 <= 0.0)),
        "n_x1_in_0_0.05": int(np.sum((x1 > 0.0) & (x1 <= 0.05))),
        "n_x1_above_0.5": int(np.sum(x1 > 0.5)),
        "n_distinct_x1": int(np.unique(np.round(x1, DISTINCT_X1_DECIMALS)).size),
        "n_on_front": int(np.sum(g - 1.0 <= ON_FRONT_TOLERANCE)),
        "median_g": float(np.median(g)),
    }


def dtlz2_point_summary(X: np.ndarray, n_obj: int) -> dict[str, float]:
    """Describe where DTLZ2 points sit: off the front, and on the front's edges."""
    position = X[:, : n_obj - 1]
    g = np.sum((X[:, n_obj - 1 :] - 0.5) ** 2, axis=1)
    return {
        "n_off_front": int(np.sum(g > ON_FRONT_TOLERANCE)),
        "n_position_at_bound": int(np.sum(np.any((position <= 0.0) | (position >= 1.0), axis=1))),
        "max_g": float(g.max()),
    }


# ---------------------------------------------------------------------------- tables


def mean_std(values: list[float]) -> tuple[float, float]:
    """Return the mean and the sample standard deviation (NaN for fewer than two values)."""
    array = np.asarray(values, dtype=float)
    std = float(np.std(array, ddof=1)) if array.size > 1 else float("nan")
    return float(np.mean(array)), std


def format_mean_std(values: list[float], digits: int) -> str:
    mean, std = mean_std(values)
    if math.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
    print()
    print(title)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))


def print_target(label: str, measured: float, target: float, higher_is_better: bool = True) -> None:
    met = measured >= target if higher_is_better else measured <= target
    gap = target - measured if higher_is_better else measured - target
    verdict = "met" if met else f"not met, gap {gap:.4f}"
    print(f"target {label}: measured {measured:.4f}, target {target}: {verdict}")


def group_rows(records: list[dict], part: str) -> dict[str, list[dict]]:
    """Return the records of one part grouped by configuration label, in first-seen order."""
    groups: dict[str, list[dict]] = {}
    for record in records:
        if record["part"] == part:
            groups.setdefault(record["config"], []).append(record)
    return groups


# ---------------------------------------------------------------------------- parts


def choose_constant_step(problem, candidates, termination_for, seed, ref_point, records, problem_label) -> float:
    """Run PSMGD with each candidate constant step on the tuning seed and return the best one."""
    best_step, best_hv = candidates[0], -math.inf
    for step in candidates:
        algorithm = PSMGD(q=PSMGD_PERIOD, pop_size=POP_SIZE, step=ConstantStep(step))
        run = run_algorithm(problem, algorithm, termination_for(), seed, ref_point)
        records.append(
            {"part": "scan", "problem": problem_label, "config": f"PSMGD(q={PSMGD_PERIOD}) const {step:g}",
             "seed": seed, "hv": run.hv, "wall_s": run.wall_s, "n_gen": run.n_gen, **run.counters}
        )
        print(f"  scan {problem_label}: ConstantStep({step:g}) HV {run.hv:.4f} ({run.wall_s:.1f} s)", flush=True)
        if run.hv > best_hv:
            best_step, best_hv = step, run.hv
    return best_step


def part_a_zdt1(seeds, budget: Budget, step: float, records, traces) -> None:
    problem = get_problem("zdt1")
    configs = [
        (f"PSMGD(q={PSMGD_PERIOD}) const {step:g}", lambda: PSMGD(q=PSMGD_PERIOD, pop_size=POP_SIZE, step=ConstantStep(step)), budget.zdt1_gradient_gens),
        (f"PSMGD(q={PSMGD_PERIOD}) Armijo", lambda: PSMGD(q=PSMGD_PERIOD, pop_size=POP_SIZE, step=ArmijoStep()), budget.zdt1_armijo_gens),
        (f"MGDA const {step:g}", lambda: MGDA(pop_size=POP_SIZE, step=ConstantStep(step)), budget.zdt1_gradient_gens),
        ("MGDA Armijo", lambda: MGDA(pop_size=POP_SIZE, step=ArmijoStep()), budget.zdt1_armijo_gens),
        ("NSGA-II", lambda: NSGA2(pop_size=POP_SIZE), budget.zdt1_nsga2_gens),
    ]
    for seed in seeds:
        for label, make, n_gen in configs:
            run = run_algorithm(problem, make(), ("n_gen", n_gen), seed, ZDT1_REF, trace=True)
            records.append(
                {"part": "a", "problem": "zdt1-30", "config": label, "seed": seed, "hv": run.hv,
                 "wall_s": run.wall_s, "n_gen": n_gen, **run.counters, **zdt1_point_summary(run.X)}
            )
            traces.append((label, seed, run.trace))
            print(f"  a seed {seed} {label}: HV {run.hv:.4f} ({run.wall_s:.1f} s)", flush=True)


def report_part_a(records, true_hv: float) -> None:
    groups = group_rows(records, "a")
    header = ["method", "n_gen", "HV", "HV / true", "wall s", "F evals", "x1=0", "0<x1<=.05", "x1>.5", "distinct x1", "on front"]
    rows = []
    for label, group in groups.items():
        hvs = [r["hv"] for r in group]
        rows.append([
            label, str(group[0]["n_gen"]), format_mean_std(hvs, 4), f"{np.mean(hvs) / true_hv:.4f}",
            format_mean_std([r["wall_s"] for r in group], 2), f"{np.mean([r['n_eval'] for r in group]):.0f}",
            *(f"{np.mean([r[key] for r in group]):.1f}" for key in
              ("n_x1_at_0", "n_x1_in_0_0.05", "n_x1_above_0.5", "n_distinct_x1", "n_on_front")),
        ])
    print_table(f"(a) ZDT1, 30 variables, 100 points: HV at (1.1, 1.1), true HV {true_hv:.6f}; "
                f"point columns are means over seeds of the final 100 points", header, rows)
    best_psmgd = max(np.mean([r["hv"] for r in g]) for label, g in groups.items() if label.startswith("PSMGD"))
    print_target("ZDT1 PSMGD HV >= 0.8712 (best PSMGD row)", best_psmgd, ZDT1_PSMGD_TARGET_HV)


def part_b_dtlz2(seeds, budget: Budget, step: float, records) -> None:
    problem = get_problem("dtlz2", n_var=12, n_obj=3)
    ref_dirs = get_reference_directions("das-dennis", 3, n_partitions=12)
    configs = [
        (f"PSMGD(q={PSMGD_PERIOD}) const {step:g}", lambda: PSMGD(q=PSMGD_PERIOD, pop_size=POP_SIZE, step=ConstantStep(step)), budget.dtlz2_gradient_gens),
        (f"MGDA const {step:g}", lambda: MGDA(pop_size=POP_SIZE, step=ConstantStep(step)), budget.dtlz2_gradient_gens),
        (f"NSGA-III ({len(ref_dirs)} dirs)", lambda: NSGA3(ref_dirs=ref_dirs, pop_size=POP_SIZE), budget.dtlz2_nsga3_gens),
    ]
    for seed in seeds:
        for label, make, n_gen in configs:
            run = run_algorithm(problem, make(), ("n_gen", n_gen), seed, DTLZ2_REF)
            records.append(
                {"part": "b", "problem": "dtlz2-3obj-12", "config": label, "seed": seed, "hv": run.hv,
                 "wall_s": run.wall_s, "n_gen": n_gen, **run.counters, **dtlz2_point_summary(run.X, 3)}
            )
            print(f"  b seed {seed} {label}: HV {run.hv:.4f} ({run.wall_s:.1f} s)", flush=True)


def report_part_b(records, true_hv: float) -> None:
    groups = group_rows(records, "b")
    header = ["method", "n_gen", "HV", "HV / true", "wall s", "F evals", "off front", "on front edge", "max g"]
    rows = []
    for label, group in groups.items():
        hvs = [r["hv"] for r in group]
        rows.append([
            label, str(group[0]["n_gen"]), format_mean_std(hvs, 4), f"{np.mean(hvs) / true_hv:.4f}",
            format_mean_std([r["wall_s"] for r in group], 2), f"{np.mean([r['n_eval'] for r in group]):.0f}",
            f"{np.mean([r['n_off_front'] for r in group]):.1f}",
            f"{np.mean([r['n_position_at_bound'] for r in group]):.1f}",
            f"{np.mean([r['max_g'] for r in group]):.3f}",
        ])
    print_table(f"(b) DTLZ2, 3 objectives, 12 variables, 100 points: HV at (1.1, 1.1, 1.1), true HV {true_hv:.6f}; "
                f"off front: g > {ON_FRONT_TOLERANCE:g}; on front edge: x1 or x2 at a bound", header, rows)
    psmgd = [np.mean([r["hv"] for r in g]) for label, g in groups.items() if label.startswith("PSMGD")]
    print_target("DTLZ2 PSMGD HV >= 0.750", psmgd[0], DTLZ2_PSMGD_TARGET_HV)


def part_c_time_to_target(traces, records) -> None:
    """Compare, per seed, PSMGD's time to reach NSGA-II's final HV with NSGA-II's own time."""
    nsga2 = {seed: trace for label, seed, trace in traces if label == "NSGA-II"}
    for label, seed, trace in traces:
        if not label.startswith("PSMGD"):
            continue
        target_hv = nsga2[seed].hv[-1]
        nsga2_time = nsga2[seed].elapsed[-1]
        reached = [i for i, value in enumerate(trace.hv) if value >= target_hv]
        best_hv = max(trace.hv)
        record = {"part": "c", "problem": "zdt1-30", "config": label, "seed": seed, "target_hv": target_hv,
                  "nsga2_time_s": nsga2_time, "best_hv": best_hv, "psmgd_time_s": trace.elapsed[-1],
                  "psmgd_time_to_best_s": trace.elapsed[trace.hv.index(best_hv)]}
        # The reverse comparison: how long NSGA-II needs for the best HV that PSMGD reached.
        nsga2_reached = [i for i, value in enumerate(nsga2[seed].hv) if value >= best_hv]
        if nsga2_reached:
            record["nsga2_time_to_psmgd_best_s"] = nsga2[seed].elapsed[nsga2_reached[0]]
        if reached:
            record["time_to_target_s"] = trace.elapsed[reached[0]]
            record["time_ratio"] = trace.elapsed[reached[0]] / nsga2_time
        records.append(record)

    header = ["method", "NSGA-II HV (target)", "NSGA-II s", "reached", "time ratio", "best PSMGD HV",
              "PSMGD s to best", "PSMGD total s", "NSGA-II s to PSMGD best"]
    rows = []
    for label, group in group_rows(records, "c").items():
        ratios = [r["time_ratio"] for r in group if "time_ratio" in r]
        reverse = [r["nsga2_time_to_psmgd_best_s"] for r in group if "nsga2_time_to_psmgd_best_s" in r]
        rows.append([
            label, format_mean_std([r["target_hv"] for r in group], 4), format_mean_std([r["nsga2_time_s"] for r in group], 2),
            f"{len(ratios)}/{len(group)}", format_mean_std(ratios, 3) if ratios else "not reached",
            format_mean_std([r["best_hv"] for r in group], 4), format_mean_std([r["psmgd_time_to_best_s"] for r in group], 2),
            format_mean_std([r["psmgd_time_s"] for r in group], 2),
            f"{format_mean_std(reverse, 2)} ({len(reverse)}/{len(group)})" if reverse else f"not reached (0/{len(group)})",
        ])
    print_table("(c) ZDT1: PSMGD wall time to reach NSGA-II's HV after its last generation, divided by "
                "NSGA-II's wall time; HV recording time subtracted from all times", header, rows)
    for label, group in group_rows(records, "c").items():
        ratios = [r["time_ratio"] for r in group if "time_ratio" in r]
        if len(ratios) == len(group):
            print_target(f"{label} time ratio <= 0.5", float(np.mean(ratios)), TIME_RATIO_TARGET, higher_is_better=False)
        else:
            print(f"target {label} time ratio <= 0.5: not met, NSGA-II's HV not reached in "
                  f"{len(group) - len(ratios)} of {len(group)} seeds")


def part_d_large(seeds, budget: Budget, tune_seed: int, records) -> None:
    problem = get_problem("zdt1", n_var=1000)

    tuning_nsga2 = run_algorithm(problem, NSGA2(pop_size=POP_SIZE), ("n_gen", budget.large_nsga2_gens), tune_seed, ZDT1_REF)
    step = choose_constant_step(
        problem, budget.large_step_candidates, lambda: TimeBasedTermination(tuning_nsga2.wall_s),
        tune_seed, ZDT1_REF, records, "zdt1-1000",
    )
    igd = IGD(problem.pareto_front(n_pareto_points=1000))
    for seed in seeds:
        nsga2 = run_algorithm(problem, NSGA2(pop_size=POP_SIZE), ("n_gen", budget.large_nsga2_gens), seed, ZDT1_REF)
        psmgd = run_algorithm(
            problem, PSMGD(q=PSMGD_PERIOD, pop_size=POP_SIZE, step=ConstantStep(step)),
            TimeBasedTermination(nsga2.wall_s), seed, ZDT1_REF,
        )
        for label, run in (("NSGA-II", nsga2), (f"PSMGD(q={PSMGD_PERIOD}) const {step:g}", psmgd)):
            records.append(
                {"part": "d", "problem": "zdt1-1000", "config": label, "seed": seed, "hv": run.hv,
                 "wall_s": run.wall_s, "n_gen": run.n_gen, "igd": float(igd(run.F)),
                 **run.counters, **zdt1_point_summary(run.X)}
            )
            print(f"  d seed {seed} {label}: HV {run.hv:.4f} after {run.n_gen} generations ({run.wall_s:.1f} s)", flush=True)


def report_part_d(records) -> None:
    header = ["method", "generations", "wall s", "HV", "IGD", "median g", "x1=0"]
    rows = []
    for label, group in group_rows(records, "d").items():
        rows.append([
            label, format_mean_std([r["n_gen"] for r in group], 0), format_mean_std([r["wall_s"] for r in group], 2),
            format_mean_std([r["hv"] for r in group], 4), format_mean_std([r["igd"] for r in group], 3),
            format_mean_std([r["median_g"] for r in group], 3), f"{np.mean([r['n_x1_at_0'] for r in group]):.1f}",
        ])
    print_table("(d) ZDT1, 1000 variables, 100 points, equal wall time: HV at (1.1, 1.1); "
                "IGD against 1000 points of the true front",
                header, rows)


# ---------------------------------------------------------------------------- run record



def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_info(args: argparse.Namespace) -> dict[str, str]:
    """Collect the machine, software versions and code state that a result belongs to."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "command": " ".join(["python", *sys.argv]),
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical CPUs, {memory_gib:.0f} GiB RAM",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pymoo": pymoo.__version__,
        "pmo_grad_commit": git_state("pmo_grad", "benchmarks/bench_foundation.py"),
        "pmo_grad_source_sha256": package_source_digest(),
        "seeds": ",".join(str(seed) for seed in args.seeds),
        "tune_seed": str(args.tune_seed),
        "budget": "quick" if args.quick else "full",
    }


# ---------------------------------------------------------------------------- output


def write_csv(path: str, records: list[dict]) -> None:
    fields: list[str] = []
    for record in records:
        fields.extend(key for key in record if key not in fields)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)


def write_traces(path: str, traces) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["config", "seed", "generation", "elapsed_s", "hv"])
        for label, seed, trace in traces:
            for generation, (elapsed, value) in enumerate(zip(trace.elapsed, trace.hv), start=1):
                writer.writerow([label, seed, generation, f"{elapsed:.6f}", f"{value:.8f}"])


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds must be comma-separated integers such as 1,2,3, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("--seeds must name at least one seed, for example 1,2,3")
    if any(seed < 0 for seed in seeds):
        raise argparse.ArgumentTypeError(f"seeds must be >= 0, got {text!r}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds contains a seed twice, got {text!r}. Give each seed once.")
    return seeds


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=parse_seeds, default=[1, 2, 3],
                        help="comma-separated seeds of the measured runs (default 1,2,3)")
    parser.add_argument("--tune-seed", type=int, default=0,
                        help="seed of the step-size scan; keep it out of --seeds (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke check: first seed only and small budgets, under a minute")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results", "foundation"),
                        help="folder for results.csv, traces.csv and run_info.txt (default benchmarks/results/foundation)")
    args = parser.parse_args(argv)
    if args.tune_seed < 0:
        parser.error(f"--tune-seed must be >= 0, got {args.tune_seed}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f"--out {args.out!r} exists and is not a folder; pass a folder path")
    if args.tune_seed in args.seeds:
        parser.error(f"--tune-seed {args.tune_seed} is also in --seeds; the step must be chosen on another seed")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    budget = QUICK_BUDGET if args.quick else FULL_BUDGET
    seeds = args.seeds[:1] if args.quick else args.seeds
    os.makedirs(args.out, exist_ok=True)

    info = run_info(args)
    for key, value in info.items():
        print(f"{key}: {value}")
    started = time.perf_counter()
    warm_up()

    records: list[dict] = []
    traces: list = []
    zdt1 = get_problem("zdt1")
    dtlz2 = get_problem("dtlz2", n_var=12, n_obj=3)
    zdt1_step = choose_constant_step(zdt1, budget.zdt1_step_candidates, lambda: ("n_gen", budget.zdt1_gradient_gens),
                                     args.tune_seed, ZDT1_REF, records, "zdt1-30")
    dtlz2_step = choose_constant_step(dtlz2, budget.dtlz2_step_candidates, lambda: ("n_gen", budget.dtlz2_gradient_gens),
                                      args.tune_seed, DTLZ2_REF, records, "dtlz2-3obj-12")
    part_a_zdt1(seeds, budget, zdt1_step, records, traces)
    part_b_dtlz2(seeds, budget, dtlz2_step, records)
    part_d_large(seeds, budget, args.tune_seed, records)

    scan_rows = [[r["problem"], r["config"], f"{r['hv']:.4f}", f"{r['wall_s']:.2f}"] for r in records if r["part"] == "scan"]
    print_table(f"Step-size scan on the tuning seed {args.tune_seed} (the best HV is used below)",
                ["problem", "method", "HV", "wall s"], scan_rows)
    report_part_a(records, true_hypervolume(zdt1, ZDT1_REF))
    report_part_b(records, true_hypervolume(dtlz2, DTLZ2_REF))
    part_c_time_to_target(traces, records)
    report_part_d(records)

    # Modules are imported once at the start, so edits made during the run do not change the
    # results. The digest taken at the start then differs from the files on disk.
    final_digest = package_source_digest()
    if final_digest != info["pmo_grad_source_sha256"]:
        print(f"\nWARNING: the pmo_grad sources changed during the run (digest {info['pmo_grad_source_sha256']} "
              f"at the start, {final_digest} at the end). The results belong to the start digest.")
        info["pmo_grad_source_sha256_at_end"] = final_digest

    write_csv(os.path.join(args.out, "results.csv"), records)
    write_traces(os.path.join(args.out, "traces.csv"), traces)
    with open(os.path.join(args.out, "run_info.txt"), "w") as handle:
        handle.writelines(f"{key}: {value}\n" for key, value in info.items())
    print(f"\nwrote results.csv, traces.csv and run_info.txt into {args.out}; total wall time "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
