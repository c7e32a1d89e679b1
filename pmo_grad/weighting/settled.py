"""Leave objectives whose (projected) gradient vanishes out of the weighting.

An objective with ∇f_s(x) = 0 (after removing the coordinates blocked by the box) sits at a
first-order minimum of its own. The MGDA min-norm problem then puts all weight on it and
returns d = 0, so the run stops at a weakly Pareto-optimal point even when the other objectives
can still decrease without increasing f_s to first order. This happens on the bounds of ZDT1,
ZDT2 and DTLZ2 (f1 = x1 at x1 = 0, f_m = (1 + g) sin(x1 π/2) at x1 = 0), where the points
would otherwise stay far from the front.
"""

from __future__ import annotations

import numpy as np

from pmo_grad.weighting.context import ContextWeighting
from pmo_grad.weighting.schedule import Weighting


def settled_objectives(gramian: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """Return a (K × m) mask of objectives whose gradient norm is at most ``rtol`` times the largest one.

    Points whose gradients all vanish get an all-False mask: nothing is left out there, because
    such a point is Pareto-stationary whatever the weights.
    """
    norms_sq = np.einsum("kii->ki", gramian)
    largest = norms_sq.max(axis=1, keepdims=True)
    settled = norms_sq <= (rtol**2) * largest
    settled[np.all(settled, axis=1) | (largest[:, 0] == 0.0)] = False
    return settled


class IgnoreSettled:
    """Apply a weighting to the objectives that are not settled, with weight 0 on the settled ones.

    For each point, S is the set of settled objectives (gradient norm at most ``rtol`` times the
    largest, see :func:`settled_objectives`); the inner weighting is solved on the Gramian of
    the others, G[¬S, ¬S], and λ_s = 0 for s ∈ S. Where S is empty this is the inner weighting.
    The direction d then satisfies ⟨∇f_s, d⟩ = 0 for s ∈ S: settled objectives do not change
    to first order.
    """

    def __init__(self, inner: Weighting, rtol: float = 1e-12) -> None:
        if not 0.0 <= rtol < 1.0:
            raise ValueError(f"rtol must lie in [0, 1), got {rtol!r}")
        if isinstance(inner, ContextWeighting):
            raise TypeError(
                f"IgnoreSettled cannot wrap {inner!r}: it would drop objectives from a weighting that "
                "reads the objective values or preferences, which changes what that weighting computes. "
                "Use the weighting on its own."
            )
        self.inner = inner
        self.rtol = float(rtol)

    def __call__(self, gramian: np.ndarray) -> np.ndarray:
        settled = settled_objectives(gramian, self.rtol)
        if not settled.any():
            return self.inner(gramian)
        K, m, _ = gramian.shape
        weights = np.zeros((K, m))
        # Points are grouped by their set of kept objectives, so the inner weighting stays batched.
        for kept_objectives in np.unique(~settled, axis=0):
            rows = np.flatnonzero(np.all(~settled == kept_objectives, axis=1))
            columns = np.flatnonzero(kept_objectives)
            sub = gramian[np.ix_(rows, columns, columns)]
            weights[np.ix_(rows, columns)] = self.inner(sub)
        return weights

    def __repr__(self) -> str:
        return f"IgnoreSettled({self.inner!r}, rtol={self.rtol:g})"
