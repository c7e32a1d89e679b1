"""Terminations for gradient methods."""

from __future__ import annotations

import math

import numpy as np

from pymoo.core.termination import Termination, TerminateIfAny
from pymoo.termination.max_gen import MaximumGenerationTermination

from pmo_grad.problems.finite_sum import FiniteSumProblem


class StationarityTermination(Termination):
    """Stop when every point is Pareto-stationary to within ``tol``: max_k min_λ ‖λᵀJ_k‖² ≤ tol.

    The measure is read from the algorithm's last Jacobian (with PSMGD: the last refresh), so
    the check costs no extra gradient evaluation. Progress reported to pymoo is
    log(s₀ / s) / log(s₀ / tol), clipped to [0, 1], where s₀ is the first measured value.
    """

    def __init__(self, tol: float = 1e-12) -> None:
        super().__init__()
        tol = float(tol)
        if not math.isfinite(tol) or tol <= 0:
            raise ValueError(f"tol must be a positive finite number, got {tol!r}")
        self.tol = tol
        self._first: float | None = None

    def _update(self, algorithm) -> float:
        values = getattr(algorithm, "stationarity", None)
        if values is None or len(values) == 0:
            return 0.0
        current = float(values.max())
        if current <= self.tol:
            return 1.0
        if self._first is None:
            self._first = current
        if self._first <= self.tol or current >= self._first:
            return 0.0
        return min(1.0, math.log(self._first / current) / math.log(self._first / self.tol))


def default_gradient_termination(n_max_gen: int = 1000, tol: float = 1e-12) -> Termination:
    """Return the termination used when none is given: ``n_max_gen`` iterations or stationarity ≤ ``tol``."""
    return TerminateIfAny(MaximumGenerationTermination(n_max_gen), StationarityTermination(tol))


class SampleBudgetTermination(Termination):
    """Stop once the run has used ``max_sample_grads`` per-sample gradient evaluations.

    The count is ``algorithm.counters["n_sample_grads"]`` (a per-sample Jacobian counts m, a
    per-sample weighted gradient 1, summed over the points), so runs of different methods can be
    compared at equal cost. The iteration that crosses the budget is completed.
    """

    def __init__(self, max_sample_grads: int) -> None:
        super().__init__()
        if isinstance(max_sample_grads, bool) or not isinstance(max_sample_grads, (int, np.integer)) or max_sample_grads < 1:
            raise ValueError(f"max_sample_grads must be a positive integer, got {max_sample_grads!r}")
        self.max_sample_grads = int(max_sample_grads)

    def _update(self, algorithm) -> float:
        counters = getattr(algorithm, "counters", None)
        if counters is None or not isinstance(algorithm.problem, FiniteSumProblem):
            raise TypeError(
                f"SampleBudgetTermination counts per-sample gradients, so it needs a pmo_grad gradient "
                f"algorithm on a FiniteSumProblem; got {type(algorithm).__name__} on "
                f"{type(algorithm.problem).__name__}. Use ('n_gen', N) or ('n_eval', N) otherwise."
            )
        return counters["n_sample_grads"] / self.max_sample_grads
