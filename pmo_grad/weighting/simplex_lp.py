"""Small linear programs over the probability simplex, batched over points (used by EPO).

Each point k poses

    maximize  c_kᵀ α   subject to  α ∈ Δ_m,  A_k α ≥ b_k,

with m objectives and a few constraint rows; a row with b = −∞ is inactive. For m ≤ 4 the
solver enumerates the vertices of the feasible polytope: each vertex solves Σ α = 1 with m − 1
active inequalities (α_s = 0 or a row of A at equality), so all candidate vertices of all
points are one batched linear solve, and the best feasible one is the optimum. For m ≥ 5,
where the number of candidates grows quickly, each point goes to ``scipy.optimize.linprog``
(HiGHS).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

__all__ = ["SimplexLPResult", "solve_simplex_lp"]

_MAX_ENUMERATED_OBJECTIVES = 4
# Relative tolerance of the feasibility checks, against the scale of each constraint row.
_FEASIBILITY_RTOL = 1e-9


@dataclass(frozen=True)
class SimplexLPResult:
    """Maximizers (K × m, rows on the simplex where feasible, NaN elsewhere) and a feasibility mask (K,)."""

    weights: np.ndarray
    feasible: np.ndarray


def _check_inputs(c, A, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.asarray(c, dtype=float)
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    if c.ndim != 2 or c.shape[1] < 1:
        raise ValueError(f"c must have shape (K, m), got {c.shape}")
    K, m = c.shape
    if A.ndim != 3 or A.shape[0] != K or A.shape[2] != m:
        raise ValueError(f"A must have shape (K, p, m) = ({K}, p, {m}), got {A.shape}")
    if b.shape != A.shape[:2]:
        raise ValueError(f"b must have shape (K, p) = {A.shape[:2]}, got {b.shape}")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(A))):
        raise ValueError("c and A must be finite")
    if np.any(np.isnan(b)) or np.any(b == np.inf):
        raise ValueError("b must be finite or -inf (an inactive row); NaN and +inf are not allowed")
    return c, A, b


def _enumerate_vertices(c: np.ndarray, A: np.ndarray, b: np.ndarray) -> SimplexLPResult:
    K, m = c.shape
    # All inequalities as rows of M α ≥ h: first α_s ≥ 0, then A α ≥ b.
    M = np.concatenate([np.broadcast_to(np.eye(m), (K, m, m)), A], axis=1)
    h = np.concatenate([np.zeros((K, m)), b], axis=1)
    active_sets = np.array(list(itertools.combinations(range(M.shape[1]), m - 1)), dtype=int).reshape(-1, m - 1)

    systems = np.empty((K, len(active_sets), m, m))
    systems[:, :, 0, :] = 1.0
    systems[:, :, 1:, :] = M[:, active_sets, :]
    rhs = np.empty((K, len(active_sets), m))
    rhs[:, :, 0] = 1.0
    rhs[:, :, 1:] = h[:, active_sets]

    usable = np.all(np.isfinite(rhs), axis=2)
    row_norms = np.prod(np.linalg.norm(systems, axis=3), axis=2)
    determinants = np.linalg.det(systems)
    usable &= np.abs(determinants) > 1e-12 * row_norms
    systems[~usable] = np.eye(m)
    rhs[~usable] = 1.0 / m
    vertices = np.linalg.solve(systems, rhs[..., None])[..., 0]

    scale = 1.0 + np.abs(M).sum(axis=2) + np.where(np.isfinite(h), np.abs(h), 0.0)
    slack = np.einsum("kqm,kvm->kvq", M, vertices) - h[:, None, :]
    feasible = usable & np.all(slack >= -_FEASIBILITY_RTOL * scale[:, None, :], axis=2)

    values = np.where(feasible, np.einsum("km,kvm->kv", c, vertices), -np.inf)
    best = np.argmax(values, axis=1)
    any_feasible = feasible.any(axis=1)
    weights = vertices[np.arange(K), best]
    # Rounding can leave entries a few ulp below zero; clip and renormalize onto the simplex.
    weights = np.maximum(weights, 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    weights[~any_feasible] = np.nan
    return SimplexLPResult(weights, any_feasible)


def _linprog_each(c: np.ndarray, A: np.ndarray, b: np.ndarray) -> SimplexLPResult:
    K, m = c.shape
    weights = np.full((K, m), np.nan)
    feasible = np.zeros(K, dtype=bool)
    for k in range(K):
        active = np.isfinite(b[k])
        result = linprog(
            -c[k],
            A_ub=-A[k][active] if active.any() else None,
            b_ub=-b[k][active] if active.any() else None,
            A_eq=np.ones((1, m)),
            b_eq=[1.0],
            bounds=[(0.0, None)] * m,
            method="highs",
        )
        if result.status == 0:
            alpha = np.maximum(result.x, 0.0)
            weights[k] = alpha / alpha.sum()
            feasible[k] = True
    return SimplexLPResult(weights, feasible)


def solve_simplex_lp(c: np.ndarray, A: np.ndarray, b: np.ndarray) -> SimplexLPResult:
    """Solve max cᵀα over {α ∈ Δ_m : A α ≥ b} for each of K points.

    Args:
        c: Objective vectors, shape (K, m).
        A: Constraint matrices, shape (K, p, m); p may be 0.
        b: Right-hand sides, shape (K, p); −∞ marks an inactive row.

    Returns:
        A maximizer per point (one optimal vertex where the optimum is not unique) and a mask
        of the points whose feasible set is not empty. Infeasible points get NaN weights.
        Feasibility is checked up to 1e-9 times the scale of each constraint row.
    """
    c, A, b = _check_inputs(c, A, b)
    if c.shape[1] == 1:
        ones = np.ones((len(c), 1))
        ok = np.all((A[:, :, 0] >= b - _FEASIBILITY_RTOL * (1.0 + np.abs(A[:, :, 0]))), axis=1)
        return SimplexLPResult(np.where(ok[:, None], ones, np.nan), ok)
    if c.shape[1] <= _MAX_ENUMERATED_OBJECTIVES:
        return _enumerate_vertices(c, A, b)
    return _linprog_each(c, A, b)
