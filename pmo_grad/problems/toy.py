"""The two-variable toy problem of CAGrad (Liu et al., NeurIPS 2021), as rescaled in Nash-MTL.

Definition, taken from the reference implementations in the repositories
https://github.com/Cranial-XIX/CAGrad (``toy.py``) and https://github.com/AvivNavon/nash-mtl
(``experiments/toy/problem.py``), rewritten with tanh(−z) = −tanh(z). For x = (x1, x2) ∈ [−10, 10]²
and the floor ε = 5·10⁻⁶:

    u1 = tanh(x2) − (x1 + 7)/2,              g1 = log(max(|u1|, ε)) + 6
    u2 = 7/2 − x1/2 − tanh(x2),              g2 = log(max(|u2|, ε)) + 6
    q1 = ((x1 − 7)² + (x2 + 8)²/10)/10 − 20
    q2 = ((x1 + 7)² + (x2 + 8)²/10)/10 − 20
    c1 = max(tanh(x2/2), 0),                 c2 = max(−tanh(x2/2), 0)

    f1 = scale_first · (c1·g1 + c2·q1),      f2 = c1·g2 + c2·q2.

The gates c1 and c2 switch between the logarithmic landscape (x2 > 0) and the quadratic
valley (x2 < 0). Nash-MTL multiplies f1 by 0.1 (its ``--scale`` default) so that the two
objectives differ in scale, and scale_first = 1 gives CAGrad's version.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pymoo.gradient.toolbox as anp
from pymoo.core.problem import Problem

# Lower bound applied to |u| before the logarithm, as in both reference implementations.
LOG_FLOOR = 5e-6


def _validate_scale_first(scale_first: Any) -> float:
    """Return ``scale_first`` as a float, or raise ValueError when it is not finite and > 0."""
    if isinstance(scale_first, bool) or not isinstance(scale_first, numbers.Real):
        raise ValueError(
            f"scale_first must be a finite real number > 0, got {scale_first!r} of type "
            f"{type(scale_first).__name__}. Pass 0.1 for Nash-MTL's version or 1.0 for CAGrad's."
        )
    value = float(scale_first)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(
            f"scale_first must be a finite real number > 0, got {scale_first!r}. "
            "Pass 0.1 for Nash-MTL's version or 1.0 for CAGrad's."
        )
    return value


class CAGradToy(Problem):
    """CAGrad's two-objective toy problem on [−10, 10]², with the exact gradient where it exists.

    F follows the module docstring and is written with ``pymoo.gradient.toolbox``, so pymoo's
    ``AutomaticDifferentiation`` can differentiate it too. ``out["dF"]`` (N × 2 × 2) is the
    closed-form derivative, built from

    * ∂g_k/∂u_k = 1/u_k where |u_k| >= ε, and 0 where the floor ε is active
    * ∂u1/∂x = (−1/2, 1 − tanh²(x2)) and ∂u2/∂x = (−1/2, −(1 − tanh²(x2)))
    * ∂q1/∂x = ((x1 − 7)/5, (x2 + 8)/50) and ∂q2/∂x = ((x1 + 7)/5, (x2 + 8)/50)
    * ∂c1/∂x2 = (1 − tanh²(x2/2))/2 where tanh(x2/2) >= 0, else 0
    * ∂c2/∂x2 = −(1 − tanh²(x2/2))/2 where tanh(x2/2) <= 0, else 0

    F is not differentiable where |u_k| = ε or x2 = 0. At those points a gate or floor counts as
    active when its argument equals the bound. That is the rule of PyTorch's ``clamp`` backward
    (``clamp_backward`` in ``torch/csrc/autograd/FunctionsManual.cpp`` passes the gradient where
    the input is >= the lower bound), so it matches what the reference implementations compute.

    NOTE: at x2 = 0 that rule makes ∂f/∂x2 the sum of the two one-sided derivatives, which in
    general lies outside the Clarke subdifferential. It is kept because Nash-MTL starts a run
    at (0, 0). Both gates vanish there, so ∂f/∂x1 = 0, and only this ∂f/∂x2 moves the run off
    the line x2 = 0.

    Pareto front: every point with x2 >= 0 is dominated by x = (0, −8.355), because there
    f1/scale_first and f2 are both >= log(ε) + 6 ≈ −6.2, while at (0, −8.355) both are ≈ −15.09.
    For scale_first = 1, the minimizer of w·f1 + (1 − w)·f2 is
    x1 = 7(2w − 1) with x2 between −8.435 (at w ∈ {0, 1}) and −8.355 (at w = 1/2), found
    numerically. Both papers draw the front as the image of the segment x1 ∈ [−7, 7],
    x2 = −8.3552, which is close to the Pareto set but not equal to it. Rescaling f1 does not
    change the Pareto set. No ``_calc_pareto_front`` is provided.
    """

    # Start points of Nash-MTL's toy experiment (``experiments/toy/trainer.py`` in
    # https://github.com/AvivNavon/nash-mtl), the set used with scale_first = 0.1.
    START_POINTS = np.array(
        [[-8.5, 7.5], [0.0, 0.0], [9.0, 9.0], [-7.5, -0.5], [9.0, -1.0]], dtype=float
    )
    START_POINTS.setflags(write=False)

    # Start points of CAGrad's toy experiment (``toy.py`` in https://github.com/Cranial-XIX/CAGrad).
    CAGRAD_START_POINTS = np.array([[-8.5, 7.5], [-8.5, -5.0], [9.0, 9.0]], dtype=float)
    CAGRAD_START_POINTS.setflags(write=False)

    def __init__(self, scale_first: float = 0.1, **kwargs: Any) -> None:
        self.scale_first = _validate_scale_first(scale_first)
        super().__init__(n_var=2, n_obj=2, xl=-10.0, xu=10.0, vtype=float, **kwargs)

    def _evaluate(self, x: np.ndarray, out: dict, *args: Any, **kwargs: Any) -> None:
        x1 = x[:, 0]
        x2 = x[:, 1]

        tanh_x2 = anp.tanh(x2)
        tanh_half = anp.tanh(0.5 * x2)
        u1 = tanh_x2 - 0.5 * (x1 + 7.0)
        u2 = 3.5 - 0.5 * x1 - tanh_x2
        log_part_first = anp.log(anp.maximum(anp.abs(u1), LOG_FLOOR)) + 6.0
        log_part_second = anp.log(anp.maximum(anp.abs(u2), LOG_FLOOR)) + 6.0

        valley_depth = 0.01 * (x2 + 8.0) ** 2 - 20.0
        quad_first = 0.1 * (x1 - 7.0) ** 2 + valley_depth
        quad_second = 0.1 * (x1 + 7.0) ** 2 + valley_depth

        gate_upper = anp.maximum(tanh_half, 0.0)
        gate_lower = anp.maximum(-tanh_half, 0.0)

        f1 = self.scale_first * (gate_upper * log_part_first + gate_lower * quad_first)
        f2 = gate_upper * log_part_second + gate_lower * quad_second
        out["F"] = anp.column_stack([f1, f2])

        if "dF" in out:
            out["dF"] = self._jacobian(
                x1, x2, u1, u2, log_part_first, log_part_second, quad_first, quad_second
            )

    def _jacobian(
        self,
        x1: np.ndarray,
        x2: np.ndarray,
        u1: np.ndarray,
        u2: np.ndarray,
        log_part_first: np.ndarray,
        log_part_second: np.ndarray,
        quad_first: np.ndarray,
        quad_second: np.ndarray,
    ) -> np.ndarray:
        """Return the N × 2 × 2 Jacobian of F from the intermediate values of ``_evaluate``."""
        tanh_half = np.tanh(0.5 * x2)
        gate_upper = np.maximum(tanh_half, 0.0)
        gate_lower = np.maximum(-tanh_half, 0.0)
        gate_slope = 0.5 * (1.0 - tanh_half**2)
        d_gate_upper = np.where(tanh_half >= 0.0, gate_slope, 0.0)
        d_gate_lower = np.where(tanh_half <= 0.0, -gate_slope, 0.0)

        sech2_x2 = 1.0 - np.tanh(x2) ** 2
        # d log|u| / du = 1/u away from the floor, 0 where the floor is active.
        with np.errstate(divide="ignore"):
            d_log_first = np.where(np.abs(u1) >= LOG_FLOOR, 1.0 / u1, 0.0)
            d_log_second = np.where(np.abs(u2) >= LOG_FLOOR, 1.0 / u2, 0.0)

        d_quad_first_dx1 = 0.2 * (x1 - 7.0)
        d_quad_second_dx1 = 0.2 * (x1 + 7.0)
        d_quad_dx2 = 0.02 * (x2 + 8.0)

        df1_dx1 = gate_upper * d_log_first * (-0.5) + gate_lower * d_quad_first_dx1
        df1_dx2 = (
            gate_upper * d_log_first * sech2_x2
            + d_gate_upper * log_part_first
            + gate_lower * d_quad_dx2
            + d_gate_lower * quad_first
        )
        df2_dx1 = gate_upper * d_log_second * (-0.5) + gate_lower * d_quad_second_dx1
        df2_dx2 = (
            gate_upper * d_log_second * (-sech2_x2)
            + d_gate_upper * log_part_second
            + gate_lower * d_quad_dx2
            + d_gate_lower * quad_second
        )

        jacobian = np.empty((x1.shape[0], 2, 2))
        jacobian[:, 0, 0] = self.scale_first * df1_dx1
        jacobian[:, 0, 1] = self.scale_first * df1_dx2
        jacobian[:, 1, 0] = df2_dx1
        jacobian[:, 1, 1] = df2_dx2
        return jacobian
