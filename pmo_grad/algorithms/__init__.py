"""Gradient-based multi-objective algorithms as pymoo ``Algorithm`` objects."""

from pmo_grad.algorithms.base import GradientAlgorithm, NonFiniteObjectiveError
from pmo_grad.algorithms.checkpoint import Checkpoint
from pmo_grad.algorithms.linear import LinearScalarization
from pmo_grad.algorithms.mgda import MGDA
from pmo_grad.algorithms.psmgd import PSMGD
from pmo_grad.algorithms.step_rules import ArmijoStep, ConstantStep, DecayingStep
from pmo_grad.algorithms.stochastic import SMGD, STIMULUS, MoCo
from pmo_grad.algorithms.torch_step import TorchOptimizer
from pmo_grad.algorithms.termination import (
    SampleBudgetTermination,
    StationarityTermination,
    default_gradient_termination,
)

__all__ = [
    "ArmijoStep",
    "Checkpoint",
    "ConstantStep",
    "DecayingStep",
    "GradientAlgorithm",
    "LinearScalarization",
    "MGDA",
    "MoCo",
    "NonFiniteObjectiveError",
    "PSMGD",
    "SMGD",
    "STIMULUS",
    "SampleBudgetTermination",
    "StationarityTermination",
    "TorchOptimizer",
    "default_gradient_termination",
]
