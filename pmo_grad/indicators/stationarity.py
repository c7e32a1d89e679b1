"""Pareto-stationarity: how far a point is from satisfying the first-order Pareto condition."""

from __future__ import annotations

import numpy as np

from pmo_grad.problems.bounds import blocked_coordinates
from pmo_grad.weighting.gramian import gramian
from pmo_grad.weighting.min_norm import min_norm_weights


def stationarity_from_gramian(gramians: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return λᵀ G λ per point for Gramians (K × m × m) and weights (K × m)."""
    return np.einsum("ks,kst,kt->k", weights, gramians, weights)


def pareto_stationarity(
    jacobians: np.ndarray,
    X: np.ndarray | None = None,
    xl: np.ndarray | None = None,
    xu: np.ndarray | None = None,
) -> np.ndarray:
    """Return the Pareto-stationarity measure of each point, shape (K,).

    For a point with objective gradients ∇f_1, …, ∇f_m (the rows of its Jacobian),

        s(x) = min_{λ ∈ Δ_m} ‖Σ_s λ_s ∇f_s(x)‖²,

    the squared norm of the MGDA min-norm direction. x is Pareto-stationary iff s(x) = 0.
    The unit is (objective unit / variable unit)². Jacobians have shape (K, m, d), or
    (m, d) for a single point.

    Given the points X (K × d) and the box [xl, xu], coordinates on a bound that every
    gradient pushes outwards are left out first (see
    :func:`pmo_grad.problems.bounds.blocked_coordinates`), so a point whose Pareto set lies on
    the box, like ZDT1's x2 = … = xn = 0, measures 0 there.
    """
    J = np.asarray(jacobians, dtype=float)
    if J.ndim == 2:
        J = J[None]
    if X is not None:
        if xl is None or xu is None:
            raise ValueError("pass both xl and xu with X, to leave out the coordinates blocked by the box")
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape != (J.shape[0], J.shape[2]):
            raise ValueError(f"X must have shape (K, d) = ({J.shape[0]}, {J.shape[2]}) to match the Jacobians, got {X.shape}")
        J = np.where(blocked_coordinates(X, np.asarray(xl, float), np.asarray(xu, float), J)[:, None, :], 0.0, J)
    G = gramian(J)
    result = min_norm_weights(G)
    return np.maximum(stationarity_from_gramian(G, result.weights), 0.0)
