"""MGDA: the multiple-gradient descent algorithm (Désidéri 2012; Sener & Koltun 2018)."""

from __future__ import annotations

from pmo_grad.algorithms.base import GradientAlgorithm
from pmo_grad.weighting.min_norm import MinNorm
from pmo_grad.weighting.schedule import Periodic, Weighting
from pmo_grad.weighting.settled import IgnoreSettled


def default_min_norm() -> Weighting:
    """Return the weighting of MGDA and PSMGD: min-norm weights over the objectives not yet settled."""
    return IgnoreSettled(MinNorm())


class MGDA(GradientAlgorithm):
    """Step along the min-norm element of the convex hull of the objective gradients.

    At every iteration and every point, λ* = argmin_{λ ∈ Δ_m} ‖Σ_s λ_s ∇f_s(x)‖² and
    x ← P(x − η Σ_s λ*_s ∇f_s(x)). The direction decreases every objective unless x is
    Pareto-stationary. Each iteration costs one Jacobian and one weight solve per point.

    Parameters
    ----------
    weighting:
        Gramian → weights map. The default, ``IgnoreSettled(MinNorm())``, leaves objectives
        whose projected gradient vanishes out of the min-norm problem, so a point on a bound
        where one objective is at its minimum (x1 = 0 on ZDT1) keeps improving the others.
        ``MinNorm()`` gives the textbook rule, which stops at such weakly Pareto-optimal points.
    **kwargs:
        Those of :class:`GradientAlgorithm` (``pop_size``, ``sampling``, ``step``,
        ``check_gradient``) and of pymoo's ``Algorithm``.
    """

    def __init__(self, *, weighting: Weighting | None = None, **kwargs) -> None:
        weighting = weighting if weighting is not None else default_min_norm()
        super().__init__(schedule=Periodic(weighting, q=1), **kwargs)
