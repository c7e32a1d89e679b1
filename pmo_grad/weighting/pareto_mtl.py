r"""Pareto MTL weights: multi-gradient descent restricted to a preference's sub-region (Lin et al., NeurIPS 2019).

The preference vectors :math:`u_1, \dots, u_P` of a run, scaled to unit length, split the
objective space into cones. Trajectory k owns the cone of :math:`u_k`:

.. math::

    \Omega_k = \{F : G_j(F) = \langle u_j - u_k, y \rangle \le 0 \text{ for all } j\},
    \qquad y = F - z,

the objective vectors whose direction is at least as close to :math:`u_k` as to any other
:math:`u_j` (for y ≥ 0). :math:`\nabla_x G_j = \sum_s (u_j - u_k)_s \nabla f_s`, so every
constraint gradient is a combination of the objective gradients. With the vectors
:math:`a_i \in \mathbb{R}^m` and :math:`\hat G = A C A^\top` (C the Gramian, A the matrix
with rows :math:`a_i`), the min-norm element of the hull of the gradients :math:`a_i^\top J`
has weights γ = argmin over the simplex of :math:`\gamma^\top \hat G \gamma`, and the
objective weights are :math:`\lambda = A^\top \gamma`:

* outside its cone (some :math:`G_j > \epsilon \|y\|`) the rows are the
  :math:`u_j - u_k` whose :math:`G_j` lie within :math:`\epsilon \|y\|` of the largest, so
  the step is the steepest descent of :math:`\max_j G_j` and moves the point toward its
  cone. The paper uses every violated constraint here. With a hundred preferences a point
  far from its cone violates dozens, and the min-norm solve over all of them dominates the
  run, while the largest violation alone already points back to the cone;
* inside, the rows are the unit vectors :math:`e_s` (the objectives) and the
  :math:`u_j - u_k` with :math:`G_j \ge -\epsilon \|y\|` (constraints about to bind), so the
  step is the MGDA step of the objectives that also keeps the point in its cone.

The weights sum to the mass γ puts on objective rows and have mixed signs wherever a
constraint is part of the direction.
"""

from __future__ import annotations

import math

import numpy as np

from pmo_grad.weighting.context import ContextWeighting, WeightingContext
from pmo_grad.weighting.gramian import gramian as gramian_of
from pmo_grad.weighting.min_norm import MinNorm
from pmo_grad.weighting.preferences import check_ideal, offsets_from_ideal

__all__ = ["ParetoMTLWeighting", "subregion_violations"]


def _unit_rows(P: np.ndarray) -> np.ndarray:
    return P / np.linalg.norm(P, axis=1, keepdims=True)


def subregion_violations(F: np.ndarray, own: np.ndarray, preference_set: np.ndarray, ideal: np.ndarray | None = None) -> np.ndarray:
    """Return max_j G_j / ‖y‖ for each row of F: ≤ 0 inside the cone of its own preference, shape (n,).

    ``own`` (n × m) holds each row's preference vector and ``preference_set`` (P × m) all
    preference vectors of the run.
    """
    y = offsets_from_ideal(np.asarray(F, dtype=float), ideal)
    own_unit = _unit_rows(np.asarray(own, dtype=float))
    others = _unit_rows(np.unique(np.asarray(preference_set, dtype=float), axis=0))
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
        ε ≥ 0: a constraint with G_j ≥ −ε‖y‖ joins the direction inside the cone, and a point
        with some G_j > ε‖y‖ counts as outside. Dimensionless (a difference of cosines).
    """

    needs_gramian = True

    def __init__(self, ideal: np.ndarray | None = None, active_tol: float = 1e-3) -> None:
        self.ideal = check_ideal(ideal)
        active_tol = float(active_tol)
        if not math.isfinite(active_tol) or active_tol < 0:
            raise ValueError(f"active_tol must be a finite number >= 0, got {active_tol!r}")
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
        distinct = np.linalg.norm(differences, axis=2) > 1e-12
        G = np.einsum("kjs,ks->kj", differences, y)
        scale = self.active_tol * np.linalg.norm(y, axis=1, keepdims=True)
        G = np.where(distinct, G, -np.inf)
        largest = G.max(axis=1, keepdims=True)
        outside = (largest > scale)[:, 0]
        worst = distinct & (G >= largest - scale)
        near = distinct & (G >= -scale)

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
