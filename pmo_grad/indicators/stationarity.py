"""Pareto-stationarity: how far a point is from satisfying the first-order Pareto condition."""

from __future__ import annotations

import numpy as np

from pmo_grad.weighting.gramian import gramian
from pmo_grad.weighting.min_norm import min_norm_weights


def stationarity_from_gramian(gramians: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return λᵀ G λ per point for Gramians (K × m × m) and weights (K × m)."""
    return np.einsum("ks,kst,kt->k", weights, gramians, weights)


def pareto_stationarity(jacobians: np.ndarray) -> np.ndarray:
    """Return the Pareto-stationarity measure of each point, shape (K,).

    For a point with objective gradients ∇f_1, …, ∇f_m (the rows of its Jacobian),

        s(x) = min_{λ ∈ Δ_m} ‖Σ_s λ_s ∇f_s(x)‖²,

    the squared norm of the MGDA min-norm direction. x is Pareto-stationary iff s(x) = 0.
    The unit is (objective unit / variable unit)². Jacobians have shape (K, m, d), or
    (m, d) for a single point.
    """
    J = np.asarray(jacobians, dtype=float)
    if J.ndim == 2:
        J = J[None]
    G = gramian(J)
    result = min_norm_weights(G)
    return np.maximum(stationarity_from_gramian(G, result.weights), 0.0)
