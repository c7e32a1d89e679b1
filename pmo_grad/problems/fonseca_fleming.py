"""Fonseca–Fleming problem: two Gaussian-shaped objectives with a mostly concave Pareto front.

With a = 1/√n and x ∈ [−4, 4]^n,

    f1(x) = 1 − exp(−Σ_i (x_i − a)²),    f2(x) = 1 − exp(−Σ_i (x_i + a)²).

The Pareto set is the segment x = t·𝟙 with t ∈ [−a, a]. Writing s = √n·t ∈ [−1, 1], the Pareto
front is (1 − exp(−(1 − s)²), 1 − exp(−(1 + s)²)), which does not depend on n. It runs from
(0, 1 − e⁻⁴) to (1 − e⁻⁴, 0).

The front is not convex. Its curvature has the sign of 2(1 − s²) − 1, so it is concave (bulging
away from the origin) for |s| < 1/√2, that is for f1 between about 0.082 and 0.946, and convex
on the short stretches near the two ends (near f1 = 0, f2 ≈ (1 − e⁻⁴) − 4e⁻⁴·√f1). Minimizers
of weighted sums w·f1 + (1 − w)·f2 on the front have |s| >= 0.957 (found numerically), so they
lie only near the two ends.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pymoo.gradient.toolbox as anp
from pymoo.core.problem import Problem

# Number of grid points used to measure the arc length of the front before resampling it.
_ARC_LENGTH_GRID_SIZE = 20001


def _validate_n_var(n_var: Any) -> int:
    """Return ``n_var`` as an int, or raise ValueError when it is not an integer >= 1."""
    if isinstance(n_var, bool) or not isinstance(n_var, numbers.Integral):
        raise ValueError(
            f"n_var must be an integer >= 1, got {n_var!r} of type {type(n_var).__name__}. "
            "Pass the number of decision variables as an int, for example n_var=3."
        )
    if n_var < 1:
        raise ValueError(f"n_var must be an integer >= 1, got {n_var}. Pass n_var=1 or more.")
    return int(n_var)


def _validate_n_pareto_points(n_pareto_points: Any) -> int:
    """Return ``n_pareto_points`` as an int, or raise ValueError when it is not an integer >= 2."""
    if isinstance(n_pareto_points, bool) or not isinstance(n_pareto_points, numbers.Integral):
        raise ValueError(
            f"n_pareto_points must be an integer >= 2, got {n_pareto_points!r}. "
            "Pass the number of front points as an int, for example n_pareto_points=100."
        )
    if n_pareto_points < 2:
        raise ValueError(
            f"n_pareto_points must be an integer >= 2, got {n_pareto_points}, because a front "
            "sample needs both end points. Pass n_pareto_points=2 or more."
        )
    return int(n_pareto_points)


def _front_from_parameter(s: np.ndarray) -> np.ndarray:
    """Map s ∈ [−1, 1] to the front point (1 − exp(−(1 − s)²), 1 − exp(−(1 + s)²))."""
    f1 = -np.expm1(-((1.0 - s) ** 2))
    f2 = -np.expm1(-((1.0 + s) ** 2))
    return np.column_stack([f1, f2])


def _equal_arc_length_parameters(n_points: int) -> np.ndarray:
    """Return values of s, from 1 down to −1, whose front points are equally spaced in arc length.

    The arc length is measured on a fine grid in s and inverted by linear interpolation, so the
    spacing is equal up to the interpolation error of that grid. Decreasing s makes f1 increase.
    """
    s_grid = np.linspace(1.0, -1.0, _ARC_LENGTH_GRID_SIZE)
    front = _front_from_parameter(s_grid)
    segment_lengths = np.linalg.norm(np.diff(front, axis=0), axis=1)
    arc_length = np.concatenate([[0.0], np.cumsum(segment_lengths)])
    targets = np.linspace(0.0, arc_length[-1], n_points)
    return np.interp(targets, arc_length, s_grid)


class FonsecaFleming(Problem):
    """Fonseca–Fleming problem with n_var variables, two objectives and analytic gradients.

    Objectives, with a = 1/√n and x ∈ [−4, 4]^n::

        f1(x) = 1 − exp(−‖x − a·𝟙‖²),   ∇f1(x) = 2 (x − a·𝟙) exp(−‖x − a·𝟙‖²)
        f2(x) = 1 − exp(−‖x + a·𝟙‖²),   ∇f2(x) = 2 (x + a·𝟙) exp(−‖x + a·𝟙‖²)

    ``_evaluate`` sets ``out["F"]`` (N × 2) and, when ``"dF"`` is requested, ``out["dF"]``
    (N × 2 × n_var). F is written with ``pymoo.gradient.toolbox``, so pymoo's
    ``AutomaticDifferentiation`` can differentiate it as well.

    Pareto set: x = t·𝟙 for t ∈ [−a, a]. Pareto front: from (0, 1 − e⁻⁴) to (1 − e⁻⁴, 0), the
    same for every n, concave except near its two ends (see the module docstring).
    """

    def __init__(self, n_var: int = 3, **kwargs: Any) -> None:
        n_var = _validate_n_var(n_var)
        super().__init__(n_var=n_var, n_obj=2, xl=-4.0, xu=4.0, vtype=float, **kwargs)
        self.shift = 1.0 / np.sqrt(n_var)

    def _evaluate(self, x: np.ndarray, out: dict, *args: Any, **kwargs: Any) -> None:
        diff_first = x - self.shift
        diff_second = x + self.shift
        gauss_first = anp.exp(-anp.sum(diff_first**2, axis=1))
        gauss_second = anp.exp(-anp.sum(diff_second**2, axis=1))
        out["F"] = anp.column_stack([1.0 - gauss_first, 1.0 - gauss_second])

        if "dF" in out:
            grad_first = 2.0 * diff_first * gauss_first[:, None]
            grad_second = 2.0 * diff_second * gauss_second[:, None]
            out["dF"] = np.stack([grad_first, grad_second], axis=1)

    def _calc_pareto_front(self, n_pareto_points: int = 100) -> np.ndarray:
        """Return ``n_pareto_points`` front points, equally spaced in arc length, f1 increasing."""
        n_pareto_points = _validate_n_pareto_points(n_pareto_points)
        return _front_from_parameter(_equal_arc_length_parameters(n_pareto_points))

    def _calc_pareto_set(self, n_pareto_points: int = 100) -> np.ndarray:
        """Return the Pareto set points x = t·𝟙 whose images are ``_calc_pareto_front``, row by row."""
        n_pareto_points = _validate_n_pareto_points(n_pareto_points)
        t = _equal_arc_length_parameters(n_pareto_points) / np.sqrt(self.n_var)
        return np.repeat(t[:, None], self.n_var, axis=1)
