"""Gradient access to pymoo problems, and test problems that pymoo lacks."""

from pmo_grad.problems.fonseca_fleming import FonsecaFleming
from pmo_grad.problems.gradient import InvalidJacobianError, NonFiniteGradientError, ProblemGradient
from pmo_grad.problems.quadratic import ConvexQuadraticPair
from pmo_grad.problems.support import UnsupportedProblemError, check_supported
from pmo_grad.problems.toy import CAGradToy

__all__ = [
    "CAGradToy",
    "ConvexQuadraticPair",
    "FonsecaFleming",
    "InvalidJacobianError",
    "NonFiniteGradientError",
    "ProblemGradient",
    "UnsupportedProblemError",
    "check_supported",
]
