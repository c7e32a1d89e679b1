"""Recursive (SPIDER/SARAH) gradient estimates: full data every q steps, corrected differences in between."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from pymoo.core.problem import Problem

from pmo_grad.estimators.base import Cost, check_batch_size, require_finite
from pmo_grad.estimators.minibatch import draw_samples, require_finite_sum
from pmo_grad.problems.finite_sum import FiniteSumProblem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecursiveState:
    """State of :class:`Recursive` for K points.

    ``jacobian`` is the per-objective estimate u_t (K × m × d) while the recursion runs on it,
    else None. ``weighted`` is the weighted estimate (K × d), and ``weights`` the weights it was
    made for.
    """

    problem: FiniteSumProblem
    period: int
    batch_size: int
    X_prev: np.ndarray | None = None
    jacobian: np.ndarray | None = None
    weighted: np.ndarray | None = None
    weights: np.ndarray | None = None


class Recursive:
    """SPIDER/SARAH variance reduction on a finite-sum problem.

    At refresh iterations (t mod q = 0) the estimate is the full-data gradient. In between, a
    sample set A (|A| = ``batch_size``, ⌈√n⌉ by default) is drawn and

        u_t = u_{t−1} + (1/|A|) Σ_{j∈A} [∇f_j(x_t) − ∇f_j(x_{t−1})],

    with the same A at both points. A Jacobian request runs this recursion per objective
    (2 |A| m per-sample gradients per point). A weighted-gradient request with weights λ that
    are frozen since the last refresh runs it on the weighted objective Σ_s λ_s f_s, starting
    from λᵀu of the last per-objective estimate, so an inner step costs two weighted
    gradients (2 |A| per point) whatever the number of objectives.

    Parameters
    ----------
    batch_size:
        |A|; None gives ⌈√n⌉.
    period:
        Refresh period q in iterations; None takes the algorithm's weight period (PSMGD's q),
        or ⌈√n⌉ for algorithms that solve weights at every iteration.
    replace:
        Draw A with replacement.

    A request that cannot continue the recursion (per-objective estimate wanted after weighted
    steps, or weights that changed since it started) takes a full-data refresh instead.
    """

    def __init__(self, batch_size: int | None = None, period: int | None = None, replace: bool = False) -> None:
        self.batch_size = check_batch_size(batch_size)
        self.period = check_batch_size(period, "period", "iterations between full-data refreshes")
        self.replace = bool(replace)

    def init(self, problem: Problem, n_points: int, period: int | None) -> RecursiveState:
        problem = require_finite_sum(problem, "Recursive")
        batch_size = self.batch_size if self.batch_size is not None else problem.default_batch_size()
        if not self.replace and batch_size > problem.n_samples:
            raise ValueError(
                f"batch_size {batch_size} exceeds the problem's {problem.n_samples} samples; "
                "lower it or pass replace=True"
            )
        q = self.period if self.period is not None else (period or problem.default_batch_size())
        return RecursiveState(problem=problem, period=int(q), batch_size=batch_size)

    # ------------------------------------------------------------------ requests

    def jacobian(self, state: RecursiveState, X, t, rng):
        problem = state.problem
        K, m = len(X), problem.n_obj
        if t % state.period == 0 or state.jacobian is None:
            if t % state.period != 0:
                logger.debug("Recursive: per-objective estimate requested at t=%d after weighted steps; refreshing", t)
            J = require_finite(problem.sample_jacobian(X), "full-data Jacobian")
            cost = Cost(n_grad=K, n_sample_grads=K * m * problem.n_samples)
        else:
            idx = draw_samples(rng, problem.n_samples, state.batch_size, self.replace)
            difference = problem.sample_jacobian(X, idx) - problem.sample_jacobian(state.X_prev, idx)
            J = require_finite(state.jacobian + difference, "recursive Jacobian estimate")
            cost = Cost(n_grad=K, n_sample_grads=2 * K * m * len(idx))
        new_state = replace(state, X_prev=X.copy(), jacobian=J, weighted=None, weights=None)
        return J, new_state, cost

    def weighted_gradient(self, state: RecursiveState, X, weights, t, rng):
        problem = state.problem
        K = len(X)
        weights = np.asarray(weights, dtype=float)
        if state.jacobian is not None:
            previous = np.einsum("ks,ksd->kd", weights, state.jacobian)
        elif state.weighted is not None and np.array_equal(state.weights, weights):
            previous = state.weighted
        else:
            previous = None

        if t % state.period == 0 or previous is None:
            D = require_finite(problem.sample_weighted_gradient(X, weights), "full-data weighted gradient")
            cost = Cost(n_weighted_grad=K, n_sample_grads=K * problem.n_samples)
        else:
            idx = draw_samples(rng, problem.n_samples, state.batch_size, self.replace)
            difference = problem.sample_weighted_gradient(X, weights, idx) - problem.sample_weighted_gradient(
                state.X_prev, weights, idx
            )
            D = require_finite(previous + difference, "recursive weighted-gradient estimate")
            cost = Cost(n_weighted_grad=K, n_sample_grads=2 * K * len(idx))
        new_state = replace(state, X_prev=X.copy(), jacobian=None, weighted=D, weights=weights.copy())
        return D, None, new_state, cost

    def __repr__(self) -> str:
        return f"Recursive(batch_size={self.batch_size}, period={self.period}, replace={self.replace})"
