"""Gradient-based multi-objective algorithms as pymoo ``Algorithm`` objects."""

from pmo_grad.algorithms.base import GradientAlgorithm, NonFiniteObjectiveError
from pmo_grad.algorithms.checkpoint import Checkpoint
from pmo_grad.algorithms.hypervolume import HypervolumeAscent
from pmo_grad.algorithms.linear import LinearScalarization
from pmo_grad.algorithms.mgda import MGDA
from pmo_grad.algorithms.preference import EPO, PBI, ParetoMTL, PreferenceAlgorithm, Tchebycheff
from pmo_grad.algorithms.psmgd import PSMGD
from pmo_grad.algorithms.step_rules import AdaptiveStep, ArmijoStep, ConstantStep, DecayingStep, RpropStep
from pmo_grad.algorithms.stochastic import SMGD, STIMULUS, MoCo
from pmo_grad.algorithms.torch_step import TorchOptimizer
from pmo_grad.algorithms.termination import (
    SampleBudgetTermination,
    StationarityTermination,
    default_gradient_termination,
)

__all__ = [
    "AdaptiveStep",
    "ArmijoStep",
    "Checkpoint",
    "ConstantStep",
    "DecayingStep",
    "EPO",
    "GradientAlgorithm",
    "HypervolumeAscent",
    "LinearScalarization",
    "MGDA",
    "MoCo",
    "NonFiniteObjectiveError",
    "PBI",
    "PSMGD",
    "ParetoMTL",
    "PreferenceAlgorithm",
    "RpropStep",
    "SMGD",
    "STIMULUS",
    "SampleBudgetTermination",
    "StationarityTermination",
    "TorchOptimizer",
    "Tchebycheff",
    "default_gradient_termination",
]
