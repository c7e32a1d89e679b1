"""Linear scalarization: gradient descent on a fixed weighted sum of the objectives."""

from __future__ import annotations

from collections.abc import Sequence

from pmo_grad.algorithms.base import GradientAlgorithm
from pmo_grad.weighting.schedule import Fixed


class LinearScalarization(GradientAlgorithm):
    """Descend on Σ_s w_s f_s with fixed weights w (normalized to sum to 1).

    Each iteration costs one weighted gradient per point (one reverse pass where the problem
    is differentiated automatically) and no weight solve. Only points on the convex part of
    the front can be reached this way.

    Parameters
    ----------
    weights:
        One non-negative weight per objective; ``None`` gives equal weights.
    **kwargs:
        Those of :class:`GradientAlgorithm` and of pymoo's ``Algorithm``.
    """

    def __init__(self, weights: Sequence[float] | None = None, **kwargs) -> None:
        super().__init__(schedule=Fixed(weights), **kwargs)
