"""pmo_grad: gradient-based multi-objective optimization (PSMGD, MGDA and relatives) for pymoo."""

from pmo_grad.algorithms import (
    MGDA,
    PSMGD,
    SMGD,
    STIMULUS,
    ArmijoStep,
    Checkpoint,
    ConstantStep,
    DecayingStep,
    GradientAlgorithm,
    LinearScalarization,
    MoCo,
    SampleBudgetTermination,
    TorchOptimizer,
)
from pmo_grad.estimators import FullData, Minibatch, Recursive, Tracking

__version__ = "0.1.0"

__all__ = [
    "MGDA",
    "PSMGD",
    "SMGD",
    "STIMULUS",
    "FullData",
    "Minibatch",
    "MoCo",
    "Recursive",
    "SampleBudgetTermination",
    "Tracking",
    "ArmijoStep",
    "Checkpoint",
    "ConstantStep",
    "DecayingStep",
    "GradientAlgorithm",
    "LinearScalarization",
    "TorchOptimizer",
    "__version__",
]
