"""MGDA: the multiple-gradient descent algorithm (Désidéri 2012; Sener & Koltun 2018)."""

from __future__ import annotations

from pmo_grad.algorithms.base import GradientAlgorithm
from pmo_grad.weighting.min_norm import MinNorm
from pmo_grad.weighting.schedule import Periodic


class MGDA(GradientAlgorithm):
    """Step along the min-norm element of the convex hull of the objective gradients.

    At every iteration and every point, λ* = argmin_{λ ∈ Δ_m} ‖Σ_s λ_s ∇f_s(x)‖² and
    x ← P(x − η Σ_s λ*_s ∇f_s(x)). The direction decreases every objective unless x is
    Pareto-stationary. Each iteration costs one Jacobian and one weight solve per point.

    Keyword arguments are those of :class:`GradientAlgorithm` (``pop_size``, ``sampling``,
    ``step``) and of pymoo's ``Algorithm``.
    """

    def __init__(self, *, weighting: MinNorm | None = None, **kwargs) -> None:
        super().__init__(schedule=Periodic(weighting if weighting is not None else MinNorm(), q=1), **kwargs)
