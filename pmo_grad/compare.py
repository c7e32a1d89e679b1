"""The comparison run: gradient methods, NSGA-II and NSGA-III on common test problems, over several seeds.

Each (problem, algorithm, seed) run gets a fixed iteration budget. The tables report what each
run cost (wall time, F and Jacobian evaluations) next to what it reached: HV at a fixed
reference point, as a value and as a percentage of the true front's HV, and IGD.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.algorithms.moo.nsga3 import NSGA3
from pymoo.core.problem import Problem
from pymoo.optimize import minimize
from pymoo.problems import get_problem
from pymoo.util.ref_dirs import get_reference_directions

from pmo_grad.algorithms import EPO, MGDA, PBI, PSMGD, HypervolumeAscent, LinearScalarization, ParetoMTL, Tchebycheff
from pmo_grad.indicators import hypervolume, igd, true_hypervolume
from pmo_grad.problems import ConvexQuadraticPair, FonsecaFleming

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProblemSpec:
    """A named test problem with the reference point and the iteration budgets of the comparison.

    ``lr`` is the constant step of PSMGD, MGDA and linear scalarization; the other gradient
    methods use their default step rules. ``ideal`` is the ideal point given to the
    preference-guided methods, ``None`` where it is 0.
    """

    make: Callable[[], Problem]
    ref_point: tuple[float, ...]
    lr: float
    n_gen_gradient: int = 300
    n_gen_evolutionary: int = 200
    ideal: tuple[float, ...] | None = None


PROBLEMS: dict[str, ProblemSpec] = {
    "zdt1": ProblemSpec(lambda: get_problem("zdt1"), (1.1, 1.1), lr=0.1),
    "zdt2": ProblemSpec(lambda: get_problem("zdt2"), (1.1, 1.1), lr=0.1),
    # The ZDT3 front reaches f2 = -0.77337 (the minimum of pymoo's sampled front), so the rays
    # of the preference-guided methods start just below it.
    "zdt3": ProblemSpec(lambda: get_problem("zdt3"), (1.1, 1.1), lr=0.1, ideal=(0.0, -0.7734)),
    "dtlz2": ProblemSpec(lambda: get_problem("dtlz2", n_var=12, n_obj=3), (1.1, 1.1, 1.1), lr=0.1),
    "fonseca_fleming": ProblemSpec(lambda: FonsecaFleming(n_var=3), (1.1, 1.1), lr=0.5),
    "quadratic": ProblemSpec(lambda: ConvexQuadraticPair(n_var=10), (1.1, 1.1), lr=0.5),
}

def _step(spec: ProblemSpec):
    from pmo_grad.algorithms import ConstantStep

    return ConstantStep(spec.lr)


def nsga3_directions(n_obj: int, pop_size: int) -> np.ndarray:
    """Return the largest set of Das–Dennis directions with at most ``pop_size`` members (at least the corners)."""
    partitions = 1
    while len(get_reference_directions("das-dennis", n_obj, n_partitions=partitions + 1)) <= pop_size:
        partitions += 1
    return get_reference_directions("das-dennis", n_obj, n_partitions=partitions)


def _nsga3(spec: ProblemSpec, pop: int) -> NSGA3:
    return NSGA3(ref_dirs=nsga3_directions(len(spec.ref_point), pop), pop_size=pop)


ALGORITHMS: dict[str, Callable[[ProblemSpec, int], object]] = {
    "psmgd": lambda spec, pop: PSMGD(q=5, pop_size=pop, step=_step(spec)),
    "mgda": lambda spec, pop: MGDA(pop_size=pop, step=_step(spec)),
    "linear": lambda spec, pop: LinearScalarization(pop_size=pop, step=_step(spec)),
    "epo": lambda spec, pop: EPO(pop_size=pop, ideal=spec.ideal),
    "pmtl": lambda spec, pop: ParetoMTL(pop_size=pop, ideal=spec.ideal),
    "tchebycheff": lambda spec, pop: Tchebycheff(pop_size=pop, ideal=spec.ideal),
    "pbi": lambda spec, pop: PBI(pop_size=pop, ideal=spec.ideal),
    "hv": lambda spec, pop: HypervolumeAscent(spec.ref_point, pop_size=pop),
    "nsga2": lambda spec, pop: NSGA2(pop_size=pop),
    "nsga3": _nsga3,
}

EVOLUTIONARY = ("nsga2", "nsga3")
DEFAULT_PROBLEMS = ("zdt1", "zdt2", "dtlz2", "fonseca_fleming", "quadratic")
DEFAULT_ALGORITHMS = ("psmgd", "mgda", "nsga2")
DEFAULT_SEEDS = (1, 2, 3)


@dataclass
class RunRecord:
    """One (problem, algorithm, seed) run; ``hv`` and ``igd`` are NaN when the run's front does not score."""

    problem: str
    algorithm: str
    seed: int
    hv: float
    hv_percent: float
    igd: float
    seconds: float
    n_eval: int
    n_grad: int
    n_points: int
    front: np.ndarray = field(repr=False)


def run_one(
    problem_name: str, algorithm_name: str, seed: int, pop_size: int = 100, n_gen: int | None = None
) -> RunRecord:
    """Run one algorithm on one problem with one seed and score its final front.

    ``n_gen`` overrides the problem's iteration budget (300 for gradient methods, 200 for NSGA-II and NSGA-III).
    """
    spec = PROBLEMS[problem_name]
    problem = spec.make()
    algorithm = ALGORITHMS[algorithm_name](spec, pop_size)
    if n_gen is None:
        n_gen = spec.n_gen_evolutionary if algorithm_name in EVOLUTIONARY else spec.n_gen_gradient
    start = time.perf_counter()
    res = minimize(problem, algorithm, ("n_gen", n_gen), seed=seed, verbose=False)
    seconds = time.perf_counter() - start

    F = res.F if res.F is not None else np.empty((0, problem.n_obj))
    counters = getattr(res.algorithm, "counters", None)
    n_eval = counters["n_eval"] if counters else int(res.algorithm.evaluator.n_eval)
    n_grad = counters["n_grad"] if counters else 0
    hv = hypervolume(F, spec.ref_point)
    true_hv = true_hypervolume(problem, spec.ref_point)
    return RunRecord(
        problem=problem_name,
        algorithm=algorithm_name,
        seed=seed,
        hv=hv,
        hv_percent=100.0 * hv / true_hv,
        igd=igd(F, problem.pareto_front()),
        seconds=seconds,
        n_eval=n_eval,
        n_grad=n_grad,
        n_points=len(F),
        front=F,
    )


def _validate_names(names: Sequence[str], known: Sequence[str], kind: str) -> list[str]:
    names = list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown {kind} {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")
    if not names:
        raise ValueError(f"no {kind} given; choose from {', '.join(known)}")
    return names


def run_comparison(
    problems: Sequence[str] = DEFAULT_PROBLEMS,
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    pop_size: int = 100,
    n_gen: int | None = None,
    progress: bool = False,
) -> list[RunRecord]:
    """Run every algorithm on every problem with every seed; return one record per run."""
    problems = _validate_names(problems, list(PROBLEMS), "problem(s)")
    algorithms = _validate_names(algorithms, list(ALGORITHMS), "algorithm(s)")
    if not seeds:
        raise ValueError("no seeds given; pass at least one integer seed")
    jobs = [(p, a, s) for p in problems for a in algorithms for s in seeds]
    records = []
    from tqdm.auto import tqdm

    for p, a, s in tqdm(jobs, desc="compare", unit="run", disable=not progress):
        logger.info("running %s on %s with seed %d", a, p, s)
        records.append(run_one(p, a, s, pop_size, n_gen))
    return records


SUMMARY_COLUMNS = ("algorithm", "runs", "failed", "hv", "hv_std", "hv_percent", "igd", "seconds", "n_eval", "n_grad")


def summarize(records: Sequence[RunRecord], problem: str) -> list[dict]:
    """Return one row per algorithm on ``problem``: means over the seeds whose front scored."""
    rows = []
    for algorithm in dict.fromkeys(r.algorithm for r in records if r.problem == problem):
        runs = [r for r in records if r.problem == problem and r.algorithm == algorithm]
        scored = [r for r in runs if np.isfinite(r.hv) and np.isfinite(r.igd)]

        def mean(key: str, source=scored) -> float:
            return float(np.mean([getattr(r, key) for r in source])) if source else float("nan")

        rows.append({
            "algorithm": algorithm,
            "runs": len(runs),
            "failed": len(runs) - len(scored),
            "hv": mean("hv"),
            "hv_std": float(np.std([r.hv for r in scored])) if scored else float("nan"),
            "hv_percent": mean("hv_percent"),
            "igd": mean("igd"),
            "seconds": mean("seconds", runs),
            "n_eval": mean("n_eval", runs),
            "n_grad": mean("n_grad", runs),
        })
    return rows


def format_markdown(rows: Sequence[dict], problem: str, ref_point: Sequence[float]) -> str:
    """Return a markdown table of the summary rows of one problem."""
    ref = ", ".join(f"{v:g}" for v in ref_point)
    lines = [
        f"### {problem} (HV reference point ({ref}); HV % is relative to the true front's HV)",
        "",
        "| algorithm | runs | failed | HV | HV std | HV % | IGD | time (s) | F evals | Jacobian evals |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['algorithm']} | {r['runs']} | {r['failed']} | {r['hv']:.6f} | {r['hv_std']:.2e} | "
            f"{r['hv_percent']:.3f} | {r['igd']:.3e} | {r['seconds']:.2f} | {r['n_eval']:.0f} | {r['n_grad']:.0f} |"
        )
    return "\n".join(lines)


def write_results(records: Sequence[RunRecord], out_dir: Path) -> list[Path]:
    """Write runs.csv, summary.csv, summary.md and one fronts PNG per problem into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from pmo_grad.visualization import plot_fronts

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    runs_path = out_dir / "runs.csv"
    with runs_path.open("w", newline="") as fh:
        fields = [k for k in asdict(records[0]) if k != "front"]
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for r in records:
            writer.writerow({k: v for k, v in asdict(r).items() if k != "front"})
    written.append(runs_path)

    summary_path = out_dir / "summary.csv"
    markdown = []
    with summary_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=("problem",) + SUMMARY_COLUMNS)
        writer.writeheader()
        for problem in dict.fromkeys(r.problem for r in records):
            rows = summarize(records, problem)
            for row in rows:
                writer.writerow({"problem": problem, **row})
            markdown.append(format_markdown(rows, problem, PROBLEMS[problem].ref_point))

            first_seed = min(r.seed for r in records if r.problem == problem)
            fronts = {r.algorithm: r.front for r in records if r.problem == problem and r.seed == first_seed}
            fig = plot_fronts(fronts, PROBLEMS[problem].make().pareto_front(), title=f"{problem} (seed {first_seed})")
            png = out_dir / f"fronts_{problem}.png"
            fig.savefig(png, dpi=110)
            plt.close(fig)
            written.append(png)
    written.append(summary_path)

    md_path = out_dir / "summary.md"
    md_path.write_text("\n\n".join(markdown) + "\n")
    written.append(md_path)
    return written
