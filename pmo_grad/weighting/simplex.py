"""Euclidean projection onto the probability simplex."""

from __future__ import annotations

import numpy as np


def project_to_simplex(V: np.ndarray) -> np.ndarray:
    """Return argmin_{λ ∈ Δ_m} ‖λ − v‖ for each row v of V (K × m).

    Sort-based algorithm: with u the entries of v sorted in decreasing order and
    ρ = max{i : u_i − (Σ_{j≤i} u_j − 1)/i > 0}, the projection is max(v − τ, 0) with
    τ = (Σ_{j≤ρ} u_j − 1)/ρ (Held, Wolfe and Crowder 1974; Duchi et al. 2008).
    """
    V = np.asarray(V, dtype=float)
    if V.ndim != 2 or V.shape[1] == 0:
        raise ValueError(f"expected an array of shape (K, m) with m >= 1, got {V.shape}")
    if not np.all(np.isfinite(V)):
        raise ValueError("cannot project non-finite values onto the simplex")
    U = -np.sort(-V, axis=1)
    cumulative = np.cumsum(U, axis=1) - 1.0
    ranks = np.arange(1, V.shape[1] + 1)
    positive = U - cumulative / ranks > 0
    rho = positive.shape[1] - np.argmax(positive[:, ::-1], axis=1)
    tau = cumulative[np.arange(len(V)), rho - 1] / rho
    return np.maximum(V - tau[:, None], 0.0)
