"""pmo_grad: gradient-based multi-objective optimization (PSMGD, MGDA and relatives) for pymoo."""

from pmo_grad.algorithms import (
    EPO,
    MGDA,
    PBI,
    PSMGD,
    SMGD,
    STIMULUS,
    AdaptiveStep,
    ArmijoStep,
    ConstantStep,
    DecayingStep,
    GradientAlgorithm,
    HypervolumeAscent,
    LinearScalarization,
    MoCo,
    ParetoMTL,
    RpropStep,
    SampleBudgetTermination,
    Tchebycheff,
)
from pmo_grad.estimators import FullData, Minibatch, Recursive, Tracking

__version__ = "0.1.0"

__all__ = [
    "EPO",
    "MGDA",
    "PBI",
    "PSMGD",
    "SMGD",
    "STIMULUS",
    "FullData",
    "Minibatch",
    "MoCo",
    "ParetoMTL",
    "Recursive",
    "RpropStep",
    "SampleBudgetTermination",
    "Tchebycheff",
    "Tracking",
    "AdaptiveStep",
    "ArmijoStep",
    "ConstantStep",
    "DecayingStep",
    "GradientAlgorithm",
    "HypervolumeAscent",
    "LinearScalarization",
    "__version__",
]
