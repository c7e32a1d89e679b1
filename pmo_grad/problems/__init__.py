"""Gradient access to pymoo problems, and test problems that pymoo lacks."""

from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.problems.fonseca_fleming import FonsecaFleming
from pmo_grad.problems.gradient import InvalidJacobianError, NonFiniteGradientError, ProblemGradient
from pmo_grad.problems.least_squares import MultiTargetLeastSquares
from pmo_grad.problems.logistic import GroupLogisticRegression
from pmo_grad.problems.noisy import NoisyGradients
from pmo_grad.problems.quadratic import ConvexQuadraticPair
from pmo_grad.problems.support import UnsupportedProblemError, check_supported
from pmo_grad.problems.toy import CAGradToy

__all__ = [
    "CAGradToy",
    "ConvexQuadraticPair",
    "FiniteSumProblem",
    "FonsecaFleming",
    "GroupLogisticRegression",
    "InvalidJacobianError",
    "MultiTargetLeastSquares",
    "NoisyGradients",
    "NonFiniteGradientError",
    "ProblemGradient",
    "UnsupportedProblemError",
    "check_supported",
]
