"""Gradient access to pymoo problems, test problems that pymoo lacks, and torch networks as problems.

The torch parts (``MultiTaskProblem``, ``MultiTaskNet``, ``MixedPrecision`` and the data sets)
are imported on first use, so pmo_grad works without torch installed.
"""

from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.problems.fonseca_fleming import FonsecaFleming
from pmo_grad.problems.gradient import InvalidJacobianError, NonFiniteGradientError, ProblemGradient
from pmo_grad.problems.least_squares import MultiTargetLeastSquares
from pmo_grad.problems.logistic import GroupLogisticRegression
from pmo_grad.problems.noisy import NoisyGradients
from pmo_grad.problems.quadratic import ConvexQuadraticPair
from pmo_grad.problems.support import UnsupportedProblemError, check_supported
from pmo_grad.problems.toy import CAGradToy

_TORCH_NAMES = {
    "MultiTaskProblem": "pmo_grad.problems.neural",
    "NonFiniteLossError": "pmo_grad.problems.neural",
    "MultiTaskNet": "pmo_grad.problems.networks",
    "mlp_multitask": "pmo_grad.problems.networks",
    "MixedPrecision": "pmo_grad.problems.precision",
    "MultiDigits": "pmo_grad.problems.datasets",
    "OneVsRestDigits": "pmo_grad.problems.datasets",
    "DiabetesTasks": "pmo_grad.problems.datasets",
    "multi_digits_problem": "pmo_grad.problems.datasets",
    "LoopEngine": "pmo_grad.problems.jacobian_engines",
    "BatchedEngine": "pmo_grad.problems.jacobian_engines",
    "RepresentationEngine": "pmo_grad.problems.jacobian_engines",
    "Communicator": "pmo_grad.problems.distributed",
    "RankFailedError": "pmo_grad.problems.distributed",
    "init_from_environment": "pmo_grad.problems.distributed",
}


def __getattr__(name: str):
    module = _TORCH_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'pmo_grad.problems' has no attribute {name!r}")
    try:
        import importlib

        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        if error.name == "torch":
            raise ImportError(
                f"pmo_grad.problems.{name} needs PyTorch; install it with `pip install torch` "
                "(or the CUDA build for your machine from pytorch.org)"
            ) from error
        raise


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
    *_TORCH_NAMES,
]
