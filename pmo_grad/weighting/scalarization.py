r"""Gradients of the Tchebycheff and PBI scalarizations, as weights on the objective gradients.

A scalarization g(F(x)) turns the objectives into one function per preference vector w. Its
gradient is :math:`\nabla_x g = \sum_s (\partial g / \partial F_s) \nabla f_s(x)`, so the
weights are :math:`\lambda = \nabla_F g` and need only the objective values. The exact
Tchebycheff weighting also reads the Gramian, to pick the steepest descent direction where
the function has a kink.
Both weightings divide λ by :math:`\sum_s |\lambda_s|`, a positive factor per point, so the
direction keeps the gradient's orientation while step sizes mean the same for every method.
With y = F − z (z the ideal point), both look for the Pareto point on the ray z + t·w.
"""

from __future__ import annotations

import math

import numpy as np

from pmo_grad.weighting.context import ContextWeighting, WeightingContext
from pmo_grad.weighting.min_norm import MinNorm
from pmo_grad.weighting.preferences import check_ideal, offsets_from_ideal

__all__ = ["PBIWeighting", "TchebycheffWeighting"]


def _unit_l1(weights: np.ndarray) -> np.ndarray:
    totals = np.abs(weights).sum(axis=1, keepdims=True)
    return np.divide(weights, totals, out=np.full_like(weights, 1.0 / weights.shape[1]), where=totals > 0)


class TchebycheffWeighting(ContextWeighting):
    r"""Steepest descent on the Tchebycheff scalarization along the preference ray, or on its smoothed form.

    With :math:`\tilde w_s = \max(w_s, \delta)` and :math:`v_s = y_s / \tilde w_s`,

    .. math::

        g(x) = \max_s v_s, \qquad
        g_\mu(x) = \mu \log \textstyle\sum_s \exp(v_s / \mu) \quad (\mu > 0).

    The minimizers of g over the Pareto set are the points where y is a multiple of
    :math:`\tilde w`, the point on the ray when the ray meets the front.

    * μ = 0: g is not differentiable where several :math:`v_s` tie, which is the ray itself,
      and a plain subgradient zigzags across it. The weights are those of the steepest-descent
      direction instead, the min-norm element of the gradients :math:`\nabla f_s / \tilde w_s`
      of the objectives within ε·|max v| of the maximum: :math:`\lambda_s \propto \gamma_s /
      \tilde w_s` with γ the min-norm weights of the Gramian :math:`C_{st} / (\tilde w_s
      \tilde w_t)` of those objectives. A point near its ray thus lowers the tied objectives
      together and moves along the ray to the front. This needs the Gramian.
    * μ > 0: :math:`\lambda_s \propto \mathrm{softmax}(v / \mu)_s / \tilde w_s`, the gradient
      of :math:`g_\mu`, from the objective values alone. Its minimizer lies off the ray by an
      amount of the order of μ.

    The weights are non-negative and sum to 1.

    pymoo's reference directions contain zeros on the boundary of the simplex, where
    :math:`y_s / w_s` is undefined. The floor δ replaces them, which tilts such a ray by about
    δ toward the inside of the simplex.

    Parameters
    ----------
    ideal:
        Ideal point z (one entry per objective); ``None`` means z = 0.
    smoothing:
        μ ≥ 0 in units of v (objective units per unit of preference); 0 gives the exact
        Tchebycheff function.
    preference_floor:
        δ in (0, 1), the smallest preference entry used in the division.
    active_tol:
        ε ≥ 0 of the exact form: objectives with v_s ≥ (1 − ε) max v count as tied.
    """

    def __init__(
        self,
        ideal: np.ndarray | None = None,
        smoothing: float = 0.0,
        preference_floor: float = 1e-4,
        active_tol: float = 1e-3,
    ) -> None:
        self.ideal = check_ideal(ideal)
        smoothing = float(smoothing)
        if not math.isfinite(smoothing) or smoothing < 0:
            raise ValueError(f"smoothing must be a finite number >= 0 (0: exact Tchebycheff), got {smoothing!r}")
        self.smoothing = smoothing
        preference_floor = float(preference_floor)
        if not 0.0 < preference_floor < 1.0:
            raise ValueError(f"preference_floor must lie in (0, 1), got {preference_floor!r}")
        self.preference_floor = preference_floor
        active_tol = float(active_tol)
        if not 0.0 <= active_tol < 1.0:
            raise ValueError(f"active_tol must lie in [0, 1), got {active_tol!r}")
        self.active_tol = active_tol
        self.needs_gramian = smoothing == 0.0
        self._min_norm = MinNorm()

    def scalarization(self, F: np.ndarray, preferences: np.ndarray) -> np.ndarray:
        """Return g (or g_μ) of each row of F with its preference vector, shape (n,)."""
        v = offsets_from_ideal(F, self.ideal) / np.maximum(preferences, self.preference_floor)
        if self.smoothing == 0.0:
            return v.max(axis=1)
        top = v.max(axis=1)
        return top + self.smoothing * np.log(np.exp((v - top[:, None]) / self.smoothing).sum(axis=1))

    def __call__(self, gramian: np.ndarray | None, context: WeightingContext) -> np.ndarray:
        floored = np.maximum(context.requested_preferences(), self.preference_floor)
        v = offsets_from_ideal(context.requested_objectives(), self.ideal) / floored
        top = v.max(axis=1, keepdims=True)
        if self.smoothing > 0.0:
            share = np.exp((v - top) / self.smoothing)
            return _unit_l1(share / floored)

        tied = v >= top - self.active_tol * np.abs(top)
        scaled = np.asarray(gramian, dtype=float) / (floored[:, :, None] * floored[:, None, :])
        share = np.zeros_like(v)
        # Points are grouped by their set of tied objectives, so the min-norm solves stay batched.
        for pattern in np.unique(tied, axis=0):
            rows = np.flatnonzero(np.all(tied == pattern, axis=1))
            columns = np.flatnonzero(pattern)
            share[np.ix_(rows, columns)] = self._min_norm(scaled[np.ix_(rows, columns, columns)])
        return _unit_l1(share / floored)

    def __repr__(self) -> str:
        return (f"TchebycheffWeighting(ideal={None if self.ideal is None else self.ideal.tolist()}, "
                f"smoothing={self.smoothing:g}, preference_floor={self.preference_floor:g}, "
                f"active_tol={self.active_tol:g})")


class PBIWeighting(ContextWeighting):
    r"""Penalty-based boundary intersection (PBI) along the preference ray, with optional smoothing.

    With :math:`\hat w = w / \|w\|`, the distance along the ray :math:`d_1 = \langle y, \hat w\rangle`
    and the offset from it :math:`e = y - d_1 \hat w`,

    .. math::

        g(x) = d_1 + \theta \sqrt{\|e\|^2 + \sigma^2 \|y\|^2}, \qquad
        \nabla_F g = \hat w + \theta \frac{e + \sigma^2 y}{\sqrt{\|e\|^2 + \sigma^2 \|y\|^2}}.

    σ = 0 is the PBI function d1 + θ‖e‖ of MOEA/D, whose gradient jumps across the ray (where
    e = 0 it is taken as ŵ). A gradient step then overshoots the ray from either side, and a
    point zigzags around it instead of moving along it. σ > 0 rounds the kink off over a
    width of about σ‖y‖, so the minimizer moves off the ray by a distance of that order
    divided by θ. For θ large enough the minimizer of the exact function is the Pareto point
    on the ray; θ trades convergence along the ray against staying on it.

    The weights are :math:`\nabla_F g` divided by its ℓ1 norm. Their signs are mixed wherever
    the penalty term outweighs ŵ, because the direction then raises an objective to get back
    to the ray.

    Parameters
    ----------
    ideal:
        Ideal point z (one entry per objective); ``None`` means z = 0.
    theta:
        Penalty θ > 0 on the distance from the ray (5 is the usual choice in MOEA/D).
    smoothing:
        σ ≥ 0, dimensionless (relative to ‖y‖).
    """

    needs_gramian = False

    def __init__(self, ideal: np.ndarray | None = None, theta: float = 5.0, smoothing: float = 0.03) -> None:
        self.ideal = check_ideal(ideal)
        theta = float(theta)
        if not math.isfinite(theta) or theta <= 0:
            raise ValueError(f"theta (the penalty on the distance from the ray) must be a positive number, got {theta!r}")
        self.theta = theta
        smoothing = float(smoothing)
        if not math.isfinite(smoothing) or smoothing < 0:
            raise ValueError(f"smoothing must be a finite number >= 0 (0: exact PBI), got {smoothing!r}")
        self.smoothing = smoothing

    def _parts(self, F: np.ndarray, preferences: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        directions = preferences / np.linalg.norm(preferences, axis=1, keepdims=True)
        y = offsets_from_ideal(F, self.ideal)
        along = np.einsum("ks,ks->k", y, directions)
        off = y - along[:, None] * directions
        return y, directions, along, off

    def scalarization(self, F: np.ndarray, preferences: np.ndarray) -> np.ndarray:
        """Return g of each row of F with its preference vector, shape (n,)."""
        y, _, along, off = self._parts(F, preferences)
        spread = np.sum(off**2, axis=1) + self.smoothing**2 * np.sum(y**2, axis=1)
        return along + self.theta * np.sqrt(spread)

    def __call__(self, gramian: np.ndarray | None, context: WeightingContext) -> np.ndarray:
        y, directions, _, off = self._parts(context.requested_objectives(), context.requested_preferences())
        pull = off + self.smoothing**2 * y
        spread = np.sqrt(np.sum(off**2, axis=1) + self.smoothing**2 * np.sum(y**2, axis=1))[:, None]
        penalty = np.divide(pull, spread, out=np.zeros_like(pull), where=spread > 0)
        return _unit_l1(directions + self.theta * penalty)

    def __repr__(self) -> str:
        return (f"PBIWeighting(ideal={None if self.ideal is None else self.ideal.tolist()}, theta={self.theta:g}, "
                f"smoothing={self.smoothing:g})")
