"""A pair of convex quadratics whose Pareto front is convex and known in closed form.

With a = 1/√n and x ∈ [−2, 2]^n,

    f1(x) = ‖x − a·𝟙‖² / 4,    f2(x) = ‖x + a·𝟙‖² / 4.

Both minimizers ±a·𝟙 have norm 1 and the Hessians are equal, so the Pareto set is the segment
between them, x = t·𝟙 with t ∈ [−a, a]. With s = √n·t ∈ [−1, 1] the front point is
((1 − s)²/4, (1 + s)²/4), so √f1 + √f2 = 1 with f1 ∈ [0, 1]: a convex front from (0, 1) to (1, 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymoo.gradient.toolbox as anp
from pymoo.core.problem import Problem

from pmo_grad.problems.fonseca_fleming import _validate_n_pareto_points, _validate_n_var

# Half-width of the box. The Pareto set needs |x_i| <= 1/√n <= 1, and a box twice that wide
# keeps random start points away from the set while every coordinate stays of order one.
_BOX_HALF_WIDTH = 2.0


class ConvexQuadraticPair(Problem):
    """Two convex quadratics in n_var variables with analytic gradients and a convex front.

    Objectives, with a = 1/√n and box bounds x ∈ [−2, 2]^n::

        f1(x) = ‖x − a·𝟙‖² / 4,   ∇f1(x) = (x − a·𝟙) / 2
        f2(x) = ‖x + a·𝟙‖² / 4,   ∇f2(x) = (x + a·𝟙) / 2

    ``_evaluate`` sets ``out["F"]`` (N × 2) and, when ``"dF"`` is requested, ``out["dF"]``
    (N × 2 × n_var). F is written with ``pymoo.gradient.toolbox``, so pymoo's
    ``AutomaticDifferentiation`` can differentiate it as well.

    Pareto set: x = t·𝟙 for t ∈ [−a, a], inside the box for every n >= 1.
    Pareto front: √f1 + √f2 = 1 with f1 ∈ [0, 1] (convex), the same for every n.
    """

    def __init__(self, n_var: int = 10, **kwargs: Any) -> None:
        n_var = _validate_n_var(n_var)
        super().__init__(
            n_var=n_var, n_obj=2, xl=-_BOX_HALF_WIDTH, xu=_BOX_HALF_WIDTH, vtype=float, **kwargs
        )
        self.shift = 1.0 / np.sqrt(n_var)

    def _evaluate(self, x: np.ndarray, out: dict, *args: Any, **kwargs: Any) -> None:
        diff_first = x - self.shift
        diff_second = x + self.shift
        f1 = 0.25 * anp.sum(diff_first**2, axis=1)
        f2 = 0.25 * anp.sum(diff_second**2, axis=1)
        out["F"] = anp.column_stack([f1, f2])

        if "dF" in out:
            out["dF"] = np.stack([0.5 * diff_first, 0.5 * diff_second], axis=1)

    def _calc_pareto_front(self, n_pareto_points: int = 100) -> np.ndarray:
        """Return ``n_pareto_points`` front points, f1 increasing, spaced evenly in √f1.

        Even spacing in √f1 is spacing in arc length up to a factor of √2, because the speed of
        u ↦ (u², (1 − u)²) lies between √2 and 2 on [0, 1].
        """
        n_pareto_points = _validate_n_pareto_points(n_pareto_points)
        root_f1 = np.linspace(0.0, 1.0, n_pareto_points)
        return np.column_stack([root_f1**2, (1.0 - root_f1) ** 2])

    def _calc_pareto_set(self, n_pareto_points: int = 100) -> np.ndarray:
        """Return the Pareto set points x = t·𝟙 whose images are ``_calc_pareto_front``, row by row."""
        n_pareto_points = _validate_n_pareto_points(n_pareto_points)
        # √f1 = (1 − s)/2, so √f1 evenly spaced from 0 to 1 is s from 1 down to −1.
        s = np.linspace(1.0, -1.0, n_pareto_points)
        t = s / np.sqrt(self.n_var)
        return np.repeat(t[:, None], self.n_var, axis=1)
