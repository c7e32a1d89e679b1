"""Weightings: Gramian (K × m × m) → weights λ (K × m) on the simplex, and their schedules."""

from pmo_grad.weighting.context import ContextWeighting, WeightingContext
from pmo_grad.weighting.epo import EPOWeighting, preference_divergence
from pmo_grad.weighting.gramian import gramian
from pmo_grad.weighting.hypervolume import HypervolumeWeighting, hypervolume_weights, nondominated_layers
from pmo_grad.weighting.min_norm import MinNorm, MinNormResult, min_norm_weights
from pmo_grad.weighting.pareto_mtl import ParetoMTLWeighting, subregion_violations
from pmo_grad.weighting.preferences import check_ideal, check_preferences
from pmo_grad.weighting.projected_gradient import ProjectedGradientWeights
from pmo_grad.weighting.scalarization import PBIWeighting, TchebycheffWeighting
from pmo_grad.weighting.schedule import Fixed, Periodic, ScheduleState, WeightSchedule
from pmo_grad.weighting.settled import IgnoreSettled, settled_objectives
from pmo_grad.weighting.simplex import project_to_simplex
from pmo_grad.weighting.simplex_lp import SimplexLPResult, solve_simplex_lp

__all__ = [
    "ContextWeighting",
    "EPOWeighting",
    "Fixed",
    "HypervolumeWeighting",
    "IgnoreSettled",
    "MinNorm",
    "MinNormResult",
    "PBIWeighting",
    "ParetoMTLWeighting",
    "Periodic",
    "ProjectedGradientWeights",
    "ScheduleState",
    "SimplexLPResult",
    "TchebycheffWeighting",
    "WeightSchedule",
    "WeightingContext",
    "check_ideal",
    "check_preferences",
    "gramian",
    "hypervolume_weights",
    "min_norm_weights",
    "nondominated_layers",
    "preference_divergence",
    "project_to_simplex",
    "settled_objectives",
    "solve_simplex_lp",
    "subregion_violations",
]
