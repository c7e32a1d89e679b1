"""pmo_grad: gradient-based multi-objective optimization (PSMGD, MGDA and relatives) for pymoo."""

from pmo_grad.algorithms import (
    MGDA,
    PSMGD,
    ArmijoStep,
    ConstantStep,
    DecayingStep,
    GradientAlgorithm,
    LinearScalarization,
)

__version__ = "0.1.0"

__all__ = [
    "MGDA",
    "PSMGD",
    "ArmijoStep",
    "ConstantStep",
    "DecayingStep",
    "GradientAlgorithm",
    "LinearScalarization",
    "__version__",
]
