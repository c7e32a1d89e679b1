r"""Pareto MTL weights: multi-gradient descent restricted to a preference's sub-region (Lin et al., NeurIPS 2019).

The preference vectors :math:`u_1, \dots, u_P` of a run, scaled to unit length, split the
objective space into cones. Trajectory k owns the cone of :math:`u_k`:

.. math::

    \Omega_k = \{F : G_j(F) = \langle u_j - u_k, y \rangle \le 0 \text{ for all } j\},
    \qquad y = F - z,

the objective vectors whose direction is at least as close to :math:`u_k` as to any other
:math:`u_j` (for y ≥ 0). The position of y relative to the boundary with :math:`u_j` is
measured by :math:`\rho_j = G_j / (\|y\| \, \|u_j - u_k\|^2)`, which is −1/2 on the ray of
:math:`u_k` and 0 on the boundary, whatever the spacing of the preferences.
:math:`\nabla_x G_j = \sum_s (u_j - u_k)_s \nabla f_s`, so every
constraint gradient is a combination of the objective gradients. With the vectors
:math:`a_i \in \mathbb{R}^m` and :math:`\hat G = A C A^\top` (C the Gramian, A the matrix
with rows :math:`a_i`), the min-norm element of the hull of the gradients :math:`a_i^\top J`
has weights γ = argmin over the simplex of :math:`\gamma^\top \hat G \gamma`, and the
objective weights are :math:`\lambda = A^\top \gamma`:

* outside its cone (some :math:`\rho_j > \epsilon`) the rows are the :math:`u_j - u_k`
  whose :math:`\rho_j` lie within ε of the largest, so the step is the steepest descent of
  the largest violation and moves the point toward its cone. The paper uses every violated
  constraint here. With a hundred preferences a point far from its cone violates dozens,
  and the min-norm solve over all of them dominates the run, while the largest violation
  alone already points back to the cone;
* inside, the rows are the unit vectors :math:`e_s` (the objectives) and the
  :math:`u_j - u_k` with :math:`\rho_j \ge -\epsilon` (constraints about to bind), so the
  step is the MGDA step of the objectives that also keeps the point in its cone. A
  threshold on :math:`G_j / \|y\|` alone would, with closely spaced preferences, count the
  constraints on both sides of the cone as binding everywhere. Their gradients point
  against each other, the min-norm direction then nearly vanishes, and the point stalls.

The weights sum to the mass γ puts on objective rows and have mixed signs wherever a
constraint is part of the direction.
"""

from __future__ import annotations

import numpy as np

from pmo_grad.weighting.context import ContextWeighting, WeightingContext
from pmo_grad.weighting.gramian import gramian as gramian_of
from pmo_grad.weighting.min_norm import MinNorm
from pmo_grad.weighting.preferences import check_ideal, check_preferences, offsets_from_ideal

__all__ = ["ParetoMTLWeighting", "subregion_violations"]


def _unit_rows(P: np.ndarray) -> np.ndarray:
    return P / np.linalg.norm(P, axis=1, keepdims=True)


def subregion_violations(F: np.ndarray, own: np.ndarray, preference_set: np.ndarray, ideal: np.ndarray | None = None) -> np.ndarray:
    """Return max_j G_j / ‖y‖ for each row of F: ≤ 0 inside the cone of its own preference, shape (n,).

    ``own`` (n × m) holds each row's preference vector and ``preference_set`` (P × m) all
    preference vectors of the run.
    """
    F = np.asarray(F, dtype=float)
    own = check_preferences(own, F.shape[1] if F.ndim == 2 else None)
    if F.shape != own.shape:
        raise ValueError(f"F has shape {F.shape} but own has shape {own.shape}; give one preference vector per row of F")
    y = offsets_from_ideal(F, check_ideal(ideal, F.shape[1]))
    own_unit = _unit_rows(own)
    others = _unit_rows(np.unique(check_preferences(preference_set, F.shape[1]), axis=0))
    G = np.einsum("js,ks->kj", others, y) - np.einsum("ks,ks->k", own_unit, y)[:, None]
    norms = np.linalg.norm(y, axis=1)
    return np.divide(G.max(axis=1), norms, out=np.zeros(len(y)), where=norms > 0)


class ParetoMTLWeighting(ContextWeighting):
    """Pareto MTL weights (see the module docstring); the preference set is every preference of the run.

    Parameters
    ----------
    ideal:
        Ideal point z; ``None`` means z = 0.
    active_tol:
        ε in [0, 1/2): a constraint with ρ_j ≥ −ε joins the direction inside the cone, and a
        point with some ρ_j > ε counts as outside. Dimensionless: ε = 0.1 is the last fifth
        of the way from the ray to the boundary.
    """

    needs_gramian = True

    def __init__(self, ideal: np.ndarray | None = None, active_tol: float = 0.1) -> None:
        self.ideal = check_ideal(ideal)
        active_tol = float(active_tol)
        if not 0.0 <= active_tol < 0.5:
            raise ValueError(f"active_tol must lie in [0, 0.5), got {active_tol!r}")
        self.active_tol = active_tol
        self._min_norm = MinNorm()
        self.last_outside: np.ndarray | None = None

    def __call__(self, gramian: np.ndarray | None, context: WeightingContext) -> np.ndarray:
        C = np.asarray(gramian, dtype=float)
        y = offsets_from_ideal(context.requested_objectives(), self.ideal)
        own = _unit_rows(context.requested_preferences())
        others = _unit_rows(np.unique(context.preferences, axis=0))
        K, m = y.shape

        differences = others[None, :, :] - own[:, None, :]  # [k, j, s] = (u_j - u_k)_s
        squared_gaps = np.sum(differences**2, axis=2)
        distinct = squared_gaps > 1e-24
        G = np.einsum("kjs,ks->kj", differences, y)
        scale = np.linalg.norm(y, axis=1, keepdims=True) * np.where(distinct, squared_gaps, 1.0)
        position = np.where(distinct & (scale > 0), G / np.where(scale > 0, scale, 1.0), -np.inf)
        largest = position.max(axis=1, keepdims=True)
        outside = (largest > self.active_tol)[:, 0]
        worst = distinct & (position >= largest - self.active_tol)
        near = distinct & (position >= -self.active_tol)

        row_sets = [
            differences[k, worst[k]] if outside[k] else np.concatenate([np.eye(m), differences[k, near[k]]], axis=0)
            for k in range(K)
        ]
        # Repeating a vector leaves its hull unchanged, so padding every set with copies of its
        # first row gives one batch of equal-size min-norm problems.
        size = max(len(rows) for rows in row_sets)
        padded = np.stack([np.concatenate([rows, np.repeat(rows[:1], size - len(rows), axis=0)]) for rows in row_sets])
        # Rows u_j - u_k of close preferences are short, and forming A C Aᵀ directly cancels
        # almost all digits. With C = L Lᵀ, the Gramian of the rows of A L keeps them.
        eigenvalues, eigenvectors = np.linalg.eigh(C)
        factor = eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.0))[:, None, :]
        gamma = self._min_norm(gramian_of(padded @ factor))
        weights = np.einsum("ki,kis->ks", gamma, padded)
        self.last_outside = outside
        return weights

    def __repr__(self) -> str:
        return f"ParetoMTLWeighting(ideal={None if self.ideal is None else self.ideal.tolist()}, active_tol={self.active_tol:g})"
