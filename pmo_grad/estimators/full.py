"""Full-data gradients: the exact Jacobian or weighted gradient at every request."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymoo.core.problem import Problem

from pmo_grad.estimators.base import Cost, require_finite
from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.problems.gradient import ProblemGradient


@dataclass
class FullDataState:
    gradient: ProblemGradient
    n_samples: int


class FullData:
    """Exact gradients on all the data.

    For a pymoo problem this is its Jacobian (its own ``out["dF"]`` or automatic
    differentiation, validated by :class:`ProblemGradient`). For a finite-sum problem the same
    path sums over all n samples in chunks of its ``chunk_size``, so n per-sample gradients are
    counted per point and objective (one per point and sample for a weighted gradient).
    """

    def __init__(self, singular_offset: float = 1e-8, check_gradient: bool = True) -> None:
        self.singular_offset = singular_offset
        self.check_gradient = check_gradient

    def init(self, problem: Problem, n_points: int, period: int) -> FullDataState:
        n_samples = problem.n_samples if isinstance(problem, FiniteSumProblem) else 0
        return FullDataState(ProblemGradient(problem, self.singular_offset, self.check_gradient), n_samples)

    def jacobian(self, state: FullDataState, X, t, rng) -> tuple[np.ndarray, FullDataState, Cost]:
        J = state.gradient.jacobian(X)
        K, m = J.shape[:2]
        return J, state, Cost(n_grad=K, n_sample_grads=K * m * state.n_samples)

    def weighted_gradient(self, state: FullDataState, X, weights, t, rng):
        K = len(X)
        problem = state.gradient.problem
        if isinstance(problem, FiniteSumProblem) and state.gradient.source is not None:
            D = require_finite(problem.sample_weighted_gradient(X, weights), "full-data weighted gradient")
            return D, None, state, Cost(n_weighted_grad=K, n_sample_grads=K * state.n_samples)
        D, J = state.gradient.weighted_gradient(X, weights)
        if J is None:
            return D, None, state, Cost(n_weighted_grad=K, n_sample_grads=K * state.n_samples)
        return D, J, state, Cost(n_grad=K, n_sample_grads=K * J.shape[1] * state.n_samples)

    def __repr__(self) -> str:
        return "FullData()"
