"""Per-generation records of a run: a pymoo ``Callback`` and the trace it produces.

:class:`RunRecorder` measures a run after every generation (or every ``every``-th) without
pymoo's ``save_history``, which deep-copies the whole algorithm each generation. It stores
small arrays only: counters, wall seconds, HV, IGD, Pareto-stationarity, the weights λ and
the population's objective vectors. :class:`RunTrace` is the finished table that the plot
functions read. It can also be built from a saved history with :meth:`RunTrace.from_history`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from pymoo.core.callback import Callback

from pmo_grad.algorithms.base import GradientAlgorithm
from pmo_grad.indicators.quality import hypervolume, igd
from pmo_grad.indicators.stationarity import pareto_stationarity
from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.problems.gradient import ProblemGradient
from pmo_grad.problems.support import problem_name

logger = logging.getLogger(__name__)

STATIONARITY_MODES = ("algorithm", "exact", "none")
"""Choices of ``RunRecorder(stationarity=...)``; see :class:`RunRecorder`."""

METRIC_COLUMNS = ("hv", "igd", "stationarity", "stationarity_max")
"""Quality columns of a :class:`RunTrace`, each NaN where it was not measured."""


@dataclass(frozen=True)
class GenerationRecord:
    """The measurements of one generation (see :class:`RunRecorder` for each field)."""

    n_gen: int
    counters: Mapping[str, int]
    seconds: float
    hv: float
    igd: float
    stationarity: float
    stationarity_max: float
    weights: np.ndarray | None
    refresh: bool
    objectives: np.ndarray


@dataclass(frozen=True)
class RunTrace:
    """The per-generation records of one run, as arrays over the T recorded generations.

    Attributes
    ----------
    algorithm:
        Class name of the algorithm, for titles and messages.
    problem:
        Class name of the problem.
    n_obj:
        Number of objectives m.
    n_gen:
        pymoo's generation number of each record, shape (T,). Generation 1 evaluates the
        start points, so generation t follows t − 1 gradient steps.
    counters:
        Cumulative counters per record, each of shape (T,): ``n_eval`` for every algorithm,
        and for pmo_grad's gradient methods also ``n_grad``, ``n_weighted_grad``,
        ``n_weight_solves``, ``n_sample_grads`` and ``n_check_evals``.
    seconds:
        Wall seconds since the run started, without the time spent recording, shape (T,).
        NaN in a trace built from a saved history, which stores no times.
    hv, igd:
        Hypervolume of the non-dominated points at ``ref_point`` and IGD to ``pareto_front``,
        shape (T,). NaN where not measured, or where the front had a non-finite value.
    stationarity, stationarity_max:
        Mean and maximum over the population of min_{λ ∈ Δ_m} ‖λᵀJ‖², in
        (objective unit / variable unit)², shape (T,). NaN where not measured.
    weights:
        Weights λ of every point, shape (T, K, m). Row t contains the weights of the step that
        produced generation t, NaN before the first step. None for algorithms without weights.
    refresh:
        Whether the algorithm solved for weights since the previous record, shape (T,). With
        ``every=1`` that is exactly the refresh steps.
    objectives:
        Objective vectors F of the population at each record, one (K × m) array per record.
    follows_trajectories:
        True when point k of every record continues point k of the previous one, as in
        pmo_grad's gradient methods. False for NSGA-II and other methods whose survival
        reorders the population.
    ref_point:
        Reference point of ``hv``, or None.
    """

    algorithm: str
    problem: str
    n_obj: int
    n_gen: np.ndarray
    counters: Mapping[str, np.ndarray]
    seconds: np.ndarray
    hv: np.ndarray
    igd: np.ndarray
    stationarity: np.ndarray
    stationarity_max: np.ndarray
    weights: np.ndarray | None
    refresh: np.ndarray
    objectives: tuple[np.ndarray, ...] = field(repr=False)
    follows_trajectories: bool
    ref_point: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.n_gen)

    def column(self, name: str) -> np.ndarray:
        """Return the column ``name``: ``n_gen``, ``seconds``, a counter, ``hv``, ``igd``, ``stationarity`` or ``stationarity_max``."""
        if name == "n_gen":
            return self.n_gen
        if name == "seconds":
            return self.seconds
        if name in METRIC_COLUMNS:
            return getattr(self, name)
        if name in self.counters:
            return self.counters[name]
        known = ["n_gen", "seconds", *self.counters, *METRIC_COLUMNS]
        raise KeyError(
            f"the trace of {self.algorithm} has no column {name!r}; it has {', '.join(known)}. "
            "Counters such as n_grad and n_sample_grads exist only for pmo_grad's gradient methods."
        )

    @classmethod
    def from_records(
        cls,
        records: Sequence[GenerationRecord],
        algorithm: str,
        problem: str,
        n_obj: int,
        follows_trajectories: bool,
        ref_point: np.ndarray | None = None,
    ) -> RunTrace:
        """Stack per-generation records into a trace."""
        if not records:
            raise ValueError(
                f"no generation of {algorithm} was recorded; pass the recorder to "
                "minimize(..., callback=recorder) and run it before plotting"
            )
        keys = list(records[0].counters)
        counters = {key: np.array([r.counters.get(key, 0) for r in records], dtype=np.int64) for key in keys}
        weights = None
        if any(r.weights is not None for r in records):
            shape = next(r.weights.shape for r in records if r.weights is not None)
            weights = np.stack([r.weights if r.weights is not None else np.full(shape, np.nan) for r in records])
        return cls(
            algorithm=algorithm,
            problem=problem,
            n_obj=int(n_obj),
            n_gen=np.array([r.n_gen for r in records], dtype=np.int64),
            counters=counters,
            seconds=np.array([r.seconds for r in records], dtype=float),
            hv=np.array([r.hv for r in records], dtype=float),
            igd=np.array([r.igd for r in records], dtype=float),
            stationarity=np.array([r.stationarity for r in records], dtype=float),
            stationarity_max=np.array([r.stationarity_max for r in records], dtype=float),
            weights=weights,
            refresh=np.array([r.refresh for r in records], dtype=bool),
            objectives=tuple(r.objectives for r in records),
            follows_trajectories=bool(follows_trajectories),
            ref_point=ref_point,
        )

    @classmethod
    def from_history(
        cls,
        history: Sequence,
        ref_point: ArrayLike | None = None,
        pareto_front: ArrayLike | None = None,
        stationarity: str = "algorithm",
    ) -> RunTrace:
        """Measure every algorithm copy of a pymoo history (``minimize(..., save_history=True)``).

        The arguments mean what they mean for :class:`RunRecorder`. A history stores no wall
        times, so ``seconds`` is NaN throughout.
        """
        history = list(history) if history is not None else []
        if not history:
            raise ValueError(
                "the history is empty; run minimize(..., save_history=True) first, or record the run "
                "with minimize(..., callback=RunRecorder(...)), which needs no deep copies"
            )
        meter = _GenerationMeter(ref_point, pareto_front, stationarity)
        first = history[0]
        meter.bind(first.problem)
        records = []
        previous = None
        for algorithm in history:
            record = meter.measure(algorithm, previous, seconds=math.nan)
            records.append(record)
            previous = record
        return cls.from_records(
            records,
            type(first).__name__,
            problem_name(first.problem),
            first.problem.n_obj,
            isinstance(first, GradientAlgorithm),
            meter.ref_point,
        )


def _check_ref_point(ref_point: ArrayLike | None) -> np.ndarray | None:
    if ref_point is None:
        return None
    point = np.asarray(ref_point, dtype=float)
    if point.ndim != 1 or not np.all(np.isfinite(point)):
        raise ValueError(
            f"ref_point must be a 1-D sequence of finite numbers, one per objective, got {ref_point!r}"
        )
    if point.size < 2:
        raise ValueError(
            f"ref_point {ref_point!r} has {point.size} coordinate(s); a multi-objective problem needs one per "
            "objective, at least 2, for example [1.1, 1.1]"
        )
    return point


def _check_pareto_front(pareto_front: ArrayLike | None) -> np.ndarray | None:
    if pareto_front is None:
        return None
    front = np.asarray(pareto_front, dtype=float)
    if front.ndim != 2 or len(front) == 0 or not np.all(np.isfinite(front)):
        raise ValueError(
            "pareto_front must be a non-empty 2-D array of finite objective vectors (n × m), "
            f"got shape {front.shape}"
        )
    return front


class _GenerationMeter:
    """Measure one generation of an algorithm; shared by RunRecorder and RunTrace.from_history."""

    def __init__(self, ref_point: ArrayLike | None, pareto_front: ArrayLike | None, stationarity: str) -> None:
        if stationarity not in STATIONARITY_MODES:
            raise ValueError(
                f"stationarity must be one of {', '.join(map(repr, STATIONARITY_MODES))}, got {stationarity!r}"
            )
        self.ref_point = _check_ref_point(ref_point)
        self.pareto_front = _check_pareto_front(pareto_front)
        self.stationarity_mode = stationarity
        self._full_jacobian: Callable[[np.ndarray], np.ndarray] | None = None

    def bind(self, problem) -> None:
        """Check the settings against ``problem`` and prepare the exact stationarity measure."""
        m = problem.n_obj
        name = problem_name(problem)
        if self.ref_point is not None and self.ref_point.size != m:
            raise ValueError(
                f"ref_point has {self.ref_point.size} coordinates but problem {name} has {m} objectives; "
                "pass one coordinate per objective"
            )
        if self.pareto_front is not None and self.pareto_front.shape[1] != m:
            raise ValueError(
                f"pareto_front has {self.pareto_front.shape[1]} columns but problem {name} has {m} objectives"
            )
        if self.stationarity_mode != "exact":
            return
        # Separate gradient sources, so the recorder's Jacobians never enter the algorithm's counters.
        if isinstance(problem, FiniteSumProblem):
            # All n samples, in chunks; this also serves networks, whose evaluate() gives no dF.
            self._full_jacobian = problem.sample_jacobian
        else:
            self._full_jacobian = ProblemGradient(problem, check_gradient=False).jacobian

    def measure(self, algorithm, previous: GenerationRecord | None, seconds: float) -> GenerationRecord:
        pop_F = np.array(algorithm.pop.get("F"), dtype=float, copy=True)
        opt_F = algorithm.opt.get("F") if algorithm.opt is not None else pop_F
        counters = dict(getattr(algorithm, "counters", None) or {"n_eval": int(algorithm.evaluator.n_eval)})

        hv_value = math.nan if self.ref_point is None else hypervolume(opt_F, self.ref_point)
        igd_value = math.nan if self.pareto_front is None else igd(opt_F, self.pareto_front)
        mean, worst = self._stationarity(algorithm)

        weights = getattr(algorithm, "weights", None)
        weights = None if weights is None else np.array(weights, dtype=float, copy=True)
        solves = counters.get("n_weight_solves")
        if solves is None:
            refresh = False
        elif previous is None:
            refresh = solves > 0
        else:
            refresh = solves > previous.counters.get("n_weight_solves", 0)

        return GenerationRecord(
            n_gen=int(algorithm.n_gen),
            counters=counters,
            seconds=float(seconds),
            hv=hv_value,
            igd=igd_value,
            stationarity=mean,
            stationarity_max=worst,
            weights=weights,
            refresh=bool(refresh),
            objectives=pop_F,
        )

    def _stationarity(self, algorithm) -> tuple[float, float]:
        if self.stationarity_mode == "none":
            return math.nan, math.nan
        if self.stationarity_mode == "algorithm":
            values = getattr(algorithm, "stationarity", None)
        else:
            X = algorithm.pop.get("X")
            problem = algorithm.problem
            J = self._full_jacobian(X)
            if problem.xl is None or problem.xu is None:
                values = pareto_stationarity(J)  # no box, as for networks
            else:
                values = pareto_stationarity(J, X, problem.xl, problem.xu)
        if values is None or len(values) == 0:
            return math.nan, math.nan
        values = np.asarray(values, dtype=float)
        return float(values.mean()), float(values.max())


class RunRecorder(Callback):
    """Record counters, time, HV, IGD, Pareto-stationarity and weights after each generation.

    Pass one recorder per run: ``minimize(problem, algorithm, termination,
    callback=RunRecorder(ref_point=...))``. Then ``recorder.trace`` (a :class:`RunTrace`), the
    recorder itself or the pymoo ``Result`` can be given to :func:`plot_convergence`,
    :func:`plot_weights` and :func:`plot_trajectories`. Nothing is deep-copied: a record contains
    the counters, a few numbers and copies of the weights and objective vectors (K × m each).

    Per recorded generation:

    - ``n_gen`` and the algorithm's cumulative counters (``n_eval`` only, for algorithms
      without pmo_grad's counters);
    - ``seconds``: wall time since the run started, minus the time spent in this recorder,
      so measuring does not slow the curve down;
    - ``hv``: pymoo's hypervolume of the non-dominated points at ``ref_point`` (when given);
    - ``igd``: pymoo's IGD to ``pareto_front`` (when given);
    - ``stationarity`` and ``stationarity_max``: mean and maximum over the points of
      s(x) = min_{λ ∈ Δ_m} ‖λᵀJ(x)‖², see ``stationarity`` below;
    - ``weights``: a copy of ``algorithm.weights`` (K × m) and ``refresh``, whether the
      weights were solved again (``n_weight_solves`` grew) since the previous record;
    - ``objectives``: a copy of the population's F (K × m).

    Parameters
    ----------
    ref_point:
        Reference point of the hypervolume, one coordinate per objective. None records no HV.
    pareto_front:
        Points of the true front for IGD (n × m), for example ``problem.pareto_front()``. None
        records no IGD. The recorder never calls ``problem.pareto_front()`` itself,
        because pymoo 0.6.2 downloads the fronts of some problems (Kursawe, DTLZ7) in that call.
    stationarity:
        ``"algorithm"`` (default) reads ``algorithm.stationarity``, which costs nothing. It is
        measured at the last Jacobian the algorithm formed: at the population one generation
        earlier, at the last refresh for PSMGD, and on the gradient estimate for sampling
        estimators. Like the default MGDA weighting, it leaves settled objectives out, so a
        point at the minimum of one objective still measures the others. It is NaN for
        algorithms without it, such as NSGA-II. ``"exact"`` computes
        :func:`pmo_grad.indicators.pareto_stationarity` over all objectives and variables
        from the full-data Jacobian of the current population on every record, for any
        algorithm on a problem with gradients: ``problem.sample_jacobian(X)`` on all samples
        for a finite-sum problem (a network's training data, not the validation data behind
        its F), and :class:`pmo_grad.problems.ProblemGradient` otherwise. Those Jacobians are
        not counted in the algorithm's counters and their time is not in ``seconds``. ``"none"`` records no stationarity.
    every:
        Record generation 1, every ``every``-th generation after it, and the last one.
    """

    def __init__(
        self,
        ref_point: ArrayLike | None = None,
        pareto_front: ArrayLike | None = None,
        stationarity: str = "algorithm",
        every: int = 1,
    ) -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be an integer >= 1 (record every every-th generation), got {every!r}")
        self.every = int(every)
        self._meter = _GenerationMeter(ref_point, pareto_front, stationarity)
        self.records: list[GenerationRecord] = []
        self._algorithm_name: str | None = None
        self._problem_name: str | None = None
        self._n_obj: int | None = None
        self._follows_trajectories = False
        self._clock_zero = 0.0
        self._overhead = 0.0

    def initialize(self, algorithm) -> None:
        self._meter.bind(algorithm.problem)
        self._algorithm_name = type(algorithm).__name__
        self._problem_name = problem_name(algorithm.problem)
        self._n_obj = int(algorithm.problem.n_obj)
        self._follows_trajectories = isinstance(algorithm, GradientAlgorithm)
        # pymoo sets start_time with time.time() when the run starts. The recorder is first
        # called after generation 1, so the time of that generation comes from start_time.
        elapsed_before = 0.0
        if algorithm.start_time is not None:
            elapsed_before = time.time() - algorithm.start_time
        self._clock_zero = time.perf_counter() - elapsed_before

    def notify(self, algorithm) -> None:
        entered = time.perf_counter()
        n_gen = int(algorithm.n_gen)
        if self.records and n_gen <= self.records[-1].n_gen:
            raise RuntimeError(
                f"this RunRecorder already contains {len(self.records)} generation(s) of a {self._algorithm_name} run "
                f"and was called again at generation {n_gen}; create a new RunRecorder for each run"
            )
        last = algorithm.termination is not None and algorithm.termination.has_terminated()
        if (n_gen - 1) % self.every == 0 or last:
            seconds = entered - self._clock_zero - self._overhead
            previous = self.records[-1] if self.records else None
            self.records.append(self._meter.measure(algorithm, previous, seconds))
        self._overhead += time.perf_counter() - entered

    @property
    def trace(self) -> RunTrace:
        """The records so far as a :class:`RunTrace`."""
        return RunTrace.from_records(
            self.records,
            self._algorithm_name or "an algorithm",
            self._problem_name or "a problem",
            self._n_obj or 0,
            self._follows_trajectories,
            self._meter.ref_point,
        )

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"RunRecorder({len(self.records)} generation(s) of {self._algorithm_name or 'no run yet'})"
