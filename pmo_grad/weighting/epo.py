r"""Exact Pareto optimal (EPO) search weights (Mahapatra and Rajan, ICML 2020).

EPO steers a point to the Pareto point on its preference ray. With y = F − z ≥ 0 (z the
ideal point), p = y / Σ_s y_s and the preference w ∈ Δ_m, it measures how far y is from the
ray by the non-uniformity

.. math::

    \mu = \mathrm{KL}(w \,\|\, p) = \sum_{s:\, w_s > 0} w_s \log(w_s / p_s),

which is zero exactly when p = w, that is when y lies on the ray z + t·w. Equivalently
r ⊙ y is balanced (all entries equal) for r = 1 / w, the form of the EPO paper. The paper
measures KL(r ⊙ y / ⟨r, y⟩ ‖ 𝟙/m), which needs every w_s > 0; the divergence above is zero
on the same ray and is also defined for the preference vectors with zero entries that
pymoo's reference directions contain.

The direction is d = Σ_s α_s ∇f_s with α ∈ Δ_m from a linear program in the Gramian C = J Jᵀ.
Along −d objective s changes at the rate −(Cα)_s, and μ at the rate −aᵀCα / Σ_s y_s, where

.. math::

    a_s = \Big(\sum_t y_t\Big) \frac{\partial \mu}{\partial y_s} = 1 - \frac{w_s}{p_s}

is the anchor: positive for objectives above their preferred share. Two modes:

* balance (μ > tol): maximize (Ca)ᵀα, the decrease rate of μ, subject to (Cα)_s ≥ 0 for
  the objectives with the largest p_s / w_s (they must not rise), and (Cα)_s ≥ (Ca)_s for
  the objectives that the anchor direction Σ_t a_t ∇f_t would raise (they may rise, but no
  faster than along the anchor). When the anchor direction raises no objective, all
  objectives must not rise;
* descent (μ ≤ tol): maximize Σ_s (Cα)_s, the total decrease rate, subject to Cα ≥ 0 (no
  objective rises) and (Ca)ᵀα ≥ min(max_s (Ca)_s, 0) (μ does not grow where it need not).

When the constraints of a mode cannot all be met, the anchor bounds (balance) or the μ bound
(descent) are dropped, and as a last resort the min-norm (MGDA) weights are used.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from pmo_grad.weighting.context import ContextWeighting, WeightingContext
from pmo_grad.weighting.min_norm import MinNorm
from pmo_grad.weighting.preferences import check_ideal, offsets_from_ideal
from pmo_grad.weighting.simplex_lp import solve_simplex_lp

__all__ = ["EPOWeighting", "preference_divergence"]

logger = logging.getLogger(__name__)

# The anchor uses w_s / p_s with p_s at least this fraction of w_s, so a_s >= 1 - 1e3: an
# objective at its ideal value that the preference wants raised gets a large, finite anchor.
_SHARE_FLOOR = 1e-3


def _shares(y: np.ndarray) -> np.ndarray:
    totals = y.sum(axis=1, keepdims=True)
    return np.divide(y, totals, out=np.full_like(y, 1.0 / y.shape[1]), where=totals > 0)


def preference_divergence(F: np.ndarray, preferences: np.ndarray, ideal: np.ndarray | None = None) -> np.ndarray:
    """Return μ = KL(w ‖ p) of each row of F (see the module docstring), shape (n,); +inf where p_s = 0 < w_s."""
    y = offsets_from_ideal(np.asarray(F, dtype=float), ideal)
    p = _shares(y)
    w = np.asarray(preferences, dtype=float)
    positive = w > 0
    with np.errstate(divide="ignore"):
        logs = np.log(np.where(positive, w, 1.0)) - np.log(np.where(positive, p, 1.0))
    return np.where(positive, w * logs, 0.0).sum(axis=1)


class EPOWeighting(ContextWeighting):
    """EPO weights: balance toward the preference ray, then descend along it (see the module docstring).

    Parameters
    ----------
    ideal:
        Ideal point z; every objective value must stay at or above it. ``None`` means z = 0,
        which suits losses and the usual test problems.
    tol:
        Non-uniformity μ (in nats) below which a point counts as on its ray and takes
        descent steps.
    """

    needs_gramian = True

    def __init__(self, ideal: np.ndarray | None = None, tol: float = 1e-6) -> None:
        self.ideal = check_ideal(ideal)
        tol = float(tol)
        if not math.isfinite(tol) or tol <= 0:
            raise ValueError(f"tol (the non-uniformity below which a point is on its ray) must be > 0, got {tol!r}")
        self.tol = tol
        self._min_norm = MinNorm()
        self.last_modes: np.ndarray | None = None

    def _offsets(self, F: np.ndarray) -> np.ndarray:
        y = offsets_from_ideal(F, self.ideal)
        if np.any(y < 0):
            k, s = (int(i) for i in np.argwhere(y < 0)[0])
            z = 0.0 if self.ideal is None else float(self.ideal[s])
            raise ValueError(
                f"EPO measures objectives from the ideal point z, but objective {s} is {F[k, s]:.6g} < z_{s} = {z:.6g} "
                f"at point {k}; pass ideal= a point at or below every objective value (for example the problem's "
                "ideal point)"
            )
        return y

    def __call__(self, gramian: np.ndarray | None, context: WeightingContext) -> np.ndarray:
        C = np.asarray(gramian, dtype=float)
        w = context.requested_preferences()
        y = self._offsets(context.requested_objectives())
        K, m = y.shape
        p = _shares(y)
        mu = preference_divergence(y, w)
        positive = w > 0
        ratio = np.where(positive, w / np.where(positive, np.maximum(p, _SHARE_FLOOR * w), 1.0), 0.0)
        anchor = 1.0 - ratio
        Ca = np.einsum("kst,kt->ks", C, anchor)

        balance = mu > self.tol
        weights = np.empty((K, m))
        if balance.any():
            weights[balance] = self._balance(C[balance], Ca[balance], p[balance], w[balance])
        if (~balance).any():
            weights[~balance] = self._descend(C[~balance], Ca[~balance])
        self.last_modes = np.where(balance, "balance", "descent")
        return weights

    def _solve_or_fallback(self, C, c, rows, rhs, relaxed_rhs) -> np.ndarray:
        result = solve_simplex_lp(c, rows, rhs)
        weights = result.weights.copy()
        pending = ~result.feasible
        if pending.any():
            relaxed = solve_simplex_lp(c[pending], rows[pending], relaxed_rhs[pending])
            weights[pending] = relaxed.weights
            pending[np.flatnonzero(pending)[relaxed.feasible]] = False
        if pending.any():
            logger.debug("EPO: no feasible linear program at %d point(s); using min-norm weights", int(pending.sum()))
            weights[pending] = self._min_norm(C[pending])
        return weights

    def _balance(self, C, Ca, p, w) -> np.ndarray:
        K, m = p.shape
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.where(w > 0, p / np.where(w > 0, w, 1.0), np.where(p > 0, np.inf, 0.0))
        max_excess = excess == excess.max(axis=1, keepdims=True)
        helped = Ca > 0
        rhs = np.where(helped, -np.inf, Ca)
        rhs = np.where(max_excess, 0.0, rhs)
        rhs = np.where(helped.any(axis=1, keepdims=True), rhs, 0.0)
        relaxed_rhs = np.where(max_excess, 0.0, -np.inf)
        return self._solve_or_fallback(C, Ca, C, rhs, relaxed_rhs)

    def _descend(self, C, Ca) -> np.ndarray:
        K, m = Ca.shape
        rows = np.concatenate([C, Ca[:, None, :]], axis=1)
        bound = np.minimum(Ca.max(axis=1), 0.0)
        rhs = np.concatenate([np.zeros((K, m)), bound[:, None]], axis=1)
        relaxed_rhs = np.concatenate([np.zeros((K, m)), np.full((K, 1), -np.inf)], axis=1)
        return self._solve_or_fallback(C, C.sum(axis=1), rows, rhs, relaxed_rhs)

    def __repr__(self) -> str:
        return f"EPOWeighting(ideal={None if self.ideal is None else self.ideal.tolist()}, tol={self.tol:g})"
