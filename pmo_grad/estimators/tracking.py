"""Gradient tracking (MoCo): per-objective gradient estimates smoothed across iterations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pymoo.core.problem import Problem

from pmo_grad.estimators.minibatch import Minibatch


@dataclass(frozen=True)
class TrackingState:
    inner: object
    tracked: np.ndarray | None = None


class Tracking:
    """Track each objective's gradient with an exponential average of inner estimates.

    Y_0 = Ĵ(x_0) and Y_t = Y_{t−1} − β (Y_{t−1} − Ĵ(x_t)) for t ≥ 1, where Ĵ is the inner
    estimator's Jacobian (a minibatch by default). This is the tracking step of MoCo (Fernando
    et al., "Mitigating gradient bias in multi-objective learning", ICLR 2023): the weights are
    then solved from Y, whose error shrinks as the iterates slow down, which removes the bias
    that solving from one minibatch has. Only Jacobian requests are supported, because the
    tracked quantity is per objective.
    """

    def __init__(self, inner: object | None = None, beta: float = 0.1) -> None:
        beta = float(beta)
        if not math.isfinite(beta) or not 0.0 < beta <= 1.0:
            raise ValueError(f"beta must lie in (0, 1] (1 tracks nothing and keeps only the newest estimate), got {beta!r}")
        self.inner = inner if inner is not None else Minibatch()
        self.beta = beta

    def init(self, problem: Problem, n_points: int, period: int | None) -> TrackingState:
        return TrackingState(inner=self.inner.init(problem, n_points, period))

    def jacobian(self, state: TrackingState, X, t, rng):
        estimate, inner_state, cost = self.inner.jacobian(state.inner, X, t, rng)
        if state.tracked is None:
            tracked = estimate
        else:
            tracked = state.tracked - self.beta * (state.tracked - estimate)
        return tracked, TrackingState(inner=inner_state, tracked=tracked), cost

    def weighted_gradient(self, state, X, weights, t, rng):
        raise TypeError(
            "Tracking keeps per-objective gradients, so it cannot return a weighted gradient on its own; "
            "use it with a weighting that is solved at every iteration (MoCo, MGDA)."
        )

    def __repr__(self) -> str:
        return f"Tracking({self.inner!r}, beta={self.beta:g})"


