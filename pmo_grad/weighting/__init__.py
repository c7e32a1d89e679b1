"""Weightings: Gramian (K × m × m) → weights λ (K × m) on the simplex, and their schedules."""

from pmo_grad.weighting.gramian import gramian
from pmo_grad.weighting.min_norm import MinNorm, MinNormResult, min_norm_weights
from pmo_grad.weighting.projected_gradient import ProjectedGradientWeights
from pmo_grad.weighting.schedule import Fixed, Periodic, ScheduleState, WeightSchedule
from pmo_grad.weighting.settled import IgnoreSettled, settled_objectives
from pmo_grad.weighting.simplex import project_to_simplex

__all__ = [
    "Fixed",
    "IgnoreSettled",
    "MinNorm",
    "MinNormResult",
    "Periodic",
    "ProjectedGradientWeights",
    "ScheduleState",
    "WeightSchedule",
    "gramian",
    "min_norm_weights",
    "project_to_simplex",
    "settled_objectives",
]
