"""Preference vectors and the ideal point shared by the preference-guided weightings.

A preference vector w ∈ Δ_m (non-negative, summing to 1) names the ray {z + t·w : t ≥ 0} in
objective space, where z is the ideal point (zero unless given). Tchebycheff, PBI and EPO look
for the Pareto point on that ray, and Pareto MTL for a Pareto point in the cone of directions
closer to w than to any other preference of the run. pymoo's ``get_reference_directions``
returns such vectors, spread evenly over the simplex, including its boundary.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_ideal", "check_preferences"]


def check_preferences(preferences: np.ndarray, n_obj: int | None = None) -> np.ndarray:
    """Return the preference vectors as rows on the simplex (each divided by its sum), shape (n, m).

    Raises:
        ValueError: if the array is not 2-D with at least one row and two columns, has
            non-finite or negative entries, a row of zeros, or (given ``n_obj``) a number of
            columns other than the number of objectives.
    """
    P = np.asarray(preferences, dtype=float)
    if P.ndim != 2 or P.shape[0] == 0 or P.shape[1] < 2:
        raise ValueError(
            f"preference vectors must have shape (n, m) with n >= 1 and m >= 2 objectives, got {P.shape}; "
            "pymoo's get_reference_directions('das-dennis', m, n_partitions=p) returns such an array"
        )
    if n_obj is not None and P.shape[1] != n_obj:
        raise ValueError(
            f"preference vectors have {P.shape[1]} entries but the problem has {n_obj} objectives; "
            "give one entry per objective"
        )
    if not np.all(np.isfinite(P)) or np.any(P < 0):
        row = int(np.flatnonzero(~np.all(np.isfinite(P) & (P >= 0), axis=1))[0])
        raise ValueError(f"preference vectors must be finite and non-negative, got {P[row].tolist()} in row {row}")
    sums = P.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        row = int(np.flatnonzero(sums[:, 0] <= 0)[0])
        raise ValueError(f"preference vector {row} is all zeros; every vector needs a positive entry")
    return P / sums


def check_ideal(ideal: np.ndarray | None, n_obj: int | None = None) -> np.ndarray | None:
    """Return the ideal point z as a float vector (``None`` stays ``None``, meaning z = 0).

    Raises:
        ValueError: if z is not a finite 1-D vector, or (given ``n_obj``) its length differs
            from the number of objectives.
    """
    if ideal is None:
        return None
    z = np.asarray(ideal, dtype=float)
    if z.ndim != 1 or not np.all(np.isfinite(z)):
        raise ValueError(f"ideal must be a finite vector with one entry per objective, got {ideal!r}")
    if n_obj is not None and z.size != n_obj:
        raise ValueError(f"ideal has {z.size} entries but the problem has {n_obj} objectives")
    return z


def offsets_from_ideal(F: np.ndarray, ideal: np.ndarray | None) -> np.ndarray:
    """Return y = F − z, the objective values measured from the ideal point (F itself when z is None)."""
    if ideal is None:
        return F
    if ideal.size != F.shape[1]:
        raise ValueError(f"ideal has {ideal.size} entries but the problem has {F.shape[1]} objectives")
    return F - ideal
