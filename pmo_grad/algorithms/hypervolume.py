"""Hypervolume gradient ascent: the whole population climbs the hypervolume of its front."""

from __future__ import annotations

import numpy as np
from pymoo.termination.max_gen import MaximumGenerationTermination

from pmo_grad.algorithms.base import GradientAlgorithm
from pmo_grad.algorithms.preference import DEFAULT_N_GEN
from pmo_grad.algorithms.step_rules import RpropStep
from pmo_grad.weighting.hypervolume import HypervolumeWeighting
from pmo_grad.weighting.schedule import Periodic

__all__ = ["HypervolumeAscent"]


class HypervolumeAscent(GradientAlgorithm):
    r"""Move every point along the gradient of the hypervolume of its non-dominated layer.

    Point k of layer L takes the step :math:`x_k \leftarrow P(x_k - \eta_k d_k)` with
    :math:`d_k = \sum_s \lambda_{ks} \nabla f_s(x_k)` and
    :math:`\lambda_k \propto -\partial \mathrm{HV}(L) / \partial F_k`, the derivatives of the
    layer's hypervolume with respect to the point's objective values (exact for two and three
    objectives, see :class:`pmo_grad.weighting.HypervolumeWeighting`). Each step raises the
    hypervolume to first order, so the front climbs toward a hypervolume-optimal set of its
    size, with the ends and the spacing that the reference point favours. Dominated points
    climb the hypervolume of their own layer, which moves them toward the front, and points
    beyond the reference point take MGDA steps until they enter the reference box.

    The weights need only the objective values, so every iteration costs one weighted
    gradient per point. A refresh computes the hypervolume gradient of the population:
    O(n²) for two objectives and O(n² log n) for three.

    The weights have no scale of their own, and the balance between neighbours is stiff where
    the front is steep (ZDT1 near f1 = 0), so the default step is :class:`RpropStep` (0.01
    to 0.1 variable units per coordinate), which shortens the steps of coordinates that
    oscillate and keeps the others moving.

    Parameters
    ----------
    ref_point:
        Reference point r of the hypervolume, one entry per objective.
    q, alpha:
        Weight period and smoothing of the PSMGD schedule.
    step:
        Step rule, ``RpropStep(0.01)`` by default.
    **kwargs:
        Those of :class:`GradientAlgorithm` (``pop_size``, ``sampling``, ``check_gradient``)
        and of pymoo's ``Algorithm``.

    Without a termination the run stops after 1000 generations: points on the front are
    Pareto-stationary but still move along it.
    """

    def __init__(self, ref_point, *, q: int = 1, alpha: float = 0.0, step=None, **kwargs) -> None:
        weighting = HypervolumeWeighting(ref_point)
        super().__init__(
            schedule=Periodic(weighting, q=q, alpha=alpha),
            step=step if step is not None else RpropStep(0.01),
            **kwargs,
        )

    @property
    def ref_point(self) -> np.ndarray:
        """Reference point of the hypervolume."""
        return self.schedule.weighting.ref_point

    def _setup(self, problem, **kwargs) -> None:
        if self.ref_point.size != problem.n_obj:
            raise ValueError(
                f"ref_point has {self.ref_point.size} entries but {type(problem).__name__} has {problem.n_obj} "
                "objectives; give one entry per objective"
            )
        super()._setup(problem, **kwargs)

    def _default_termination(self):
        return MaximumGenerationTermination(DEFAULT_N_GEN)

    def __repr__(self) -> str:
        return (f"HypervolumeAscent(ref_point={self.ref_point.tolist()}, pop_size={self.pop_size}, "
                f"q={self.schedule.q}, step={self.step_rule!r})")
