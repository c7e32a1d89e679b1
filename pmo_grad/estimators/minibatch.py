"""Minibatch gradients: the mean over a random set of samples, drawn anew at every request."""

from __future__ import annotations

import numpy as np
from pymoo.core.problem import Problem

from pmo_grad.estimators.base import Cost, check_batch_size, require_finite
from pmo_grad.problems.finite_sum import FiniteSumProblem


def require_finite_sum(problem: Problem, estimator: str) -> FiniteSumProblem:
    """Return ``problem`` if it is a finite sum, else raise a TypeError that names the estimator to use."""
    if not isinstance(problem, FiniteSumProblem):
        raise TypeError(
            f"{estimator} draws samples, so it needs a FiniteSumProblem, got {type(problem).__name__}. "
            "Use FullData() for an ordinary pymoo problem, or wrap it in NoisyGradients for "
            "stochastic gradients."
        )
    return problem


def draw_samples(rng: np.random.Generator, n_samples: int, batch_size: int, replace: bool) -> np.ndarray:
    """Draw ``batch_size`` sample indices from [0, n), sorted so chunked sums are ordered."""
    if not replace and batch_size > n_samples:
        raise ValueError(
            f"batch_size {batch_size} exceeds the {n_samples} samples; lower it or sample with replace=True"
        )
    return np.sort(rng.choice(n_samples, size=batch_size, replace=replace))


class Minibatch:
    """Gradients averaged over b samples drawn uniformly at every request.

    ĝ = (1/b) Σ_{j∈B} ∇f_j(x), B drawn from the algorithm's generator, with or without
    replacement, and shared by all K points of the request. The estimate is unbiased for the
    gradient. The MGDA weights solved from it are not unbiased, because their expectation
    differs from the full-data weights: this is the bias of stochastic MGDA.
    """

    def __init__(self, batch_size: int = 32, replace: bool = False) -> None:
        self.batch_size = check_batch_size(batch_size)
        self.replace = bool(replace)

    def init(self, problem: Problem, n_points: int, period: int) -> FiniteSumProblem:
        problem = require_finite_sum(problem, "Minibatch")
        if not self.replace and self.batch_size > problem.n_samples:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the problem's {problem.n_samples} samples; "
                "lower it or pass replace=True"
            )
        return problem

    def jacobian(self, problem: FiniteSumProblem, X, t, rng):
        idx = draw_samples(rng, problem.n_samples, self.batch_size, self.replace)
        J = require_finite(problem.sample_jacobian(X, idx), "minibatch Jacobian")
        K, m = J.shape[:2]
        return J, problem, Cost(n_grad=K, n_sample_grads=K * m * len(idx))

    def weighted_gradient(self, problem: FiniteSumProblem, X, weights, t, rng):
        idx = draw_samples(rng, problem.n_samples, self.batch_size, self.replace)
        D = require_finite(problem.sample_weighted_gradient(X, weights, idx), "minibatch weighted gradient")
        return D, None, problem, Cost(n_weighted_grad=len(X), n_sample_grads=len(X) * len(idx))

    def __repr__(self) -> str:
        return f"Minibatch(batch_size={self.batch_size}, replace={self.replace})"
