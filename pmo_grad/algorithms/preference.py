"""Preference-guided gradient methods: one preference vector per trajectory.

Each trajectory k gets a preference vector w_k ∈ Δ_m, a row of ``ref_dirs``. Tchebycheff,
PBI and EPO steer it to the Pareto point on the ray z + t·w_k, where z is the ideal point
(0 unless given). Pareto MTL steers it into the cone of directions closest to w_k. Evenly
spread preferences then give points spread along the front, whatever the start points, and
concave parts of the front are reached as well, which linear scalarization cannot do.

The weights are solved every ``q`` iterations and reused in between (the PSMGD schedule,
with smoothing ``alpha``). PBI and the smoothed Tchebycheff function read only the objective
values, so their refreshes form no Jacobian and every iteration costs one weighted gradient
per point. EPO, Pareto MTL and the exact Tchebycheff function solve on the Gramian and form
the Jacobian at each refresh.
"""

from __future__ import annotations

import functools

import numpy as np
from pymoo.termination.max_gen import MaximumGenerationTermination
from pymoo.util.ref_dirs import get_reference_directions

from pmo_grad.algorithms.base import GradientAlgorithm, _check_pop_size
from pmo_grad.algorithms.step_rules import AdaptiveStep
from pmo_grad.weighting.context import WeightingContext
from pmo_grad.weighting.epo import EPOWeighting
from pmo_grad.weighting.pareto_mtl import ParetoMTLWeighting
from pmo_grad.weighting.preferences import check_ideal, check_preferences
from pmo_grad.weighting.scalarization import PBIWeighting, TchebycheffWeighting
from pmo_grad.weighting.schedule import Periodic

__all__ = ["EPO", "PBI", "ParetoMTL", "PreferenceAlgorithm", "Tchebycheff", "default_reference_directions"]


DEFAULT_N_GEN = 1000


def _farthest_point_subset(directions: np.ndarray, n_points: int) -> np.ndarray:
    """Return ``n_points`` rows chosen greedily: the corners of the simplex first, then always the row farthest from those chosen."""
    n_obj = directions.shape[1]
    corners = [int(np.argmax(directions[:, s])) for s in range(n_obj)]
    chosen = list(dict.fromkeys(corners))[:n_points]
    distance = np.min(np.linalg.norm(directions[:, None, :] - directions[chosen][None, :, :], axis=2), axis=1)
    while len(chosen) < n_points:
        best = int(np.argmax(distance))
        chosen.append(best)
        distance = np.minimum(distance, np.linalg.norm(directions - directions[best], axis=1))
    return directions[np.sort(chosen)]


@functools.lru_cache(maxsize=32)
def _cached_directions(n_obj: int, n_points: int) -> np.ndarray:
    if n_points == 1:
        return np.full((1, n_obj), 1.0 / n_obj)
    partitions = 1
    while True:
        directions = get_reference_directions("das-dennis", n_obj, n_partitions=partitions)
        if len(directions) >= n_points:
            break
        partitions += 1
    if len(directions) == n_points:
        return directions
    return _farthest_point_subset(directions, n_points)


def default_reference_directions(n_obj: int, n_points: int) -> np.ndarray:
    """Return ``n_points`` preference vectors spread over the simplex Δ_{n_obj}, shape (n_points, n_obj).

    The vectors come from pymoo's Das–Dennis directions with the fewest partitions that give
    at least n_points of them. When the count matches, all of them are used. That is always
    the case for two objectives, where they run evenly from (0, 1) to (1, 0). Otherwise
    n_points are chosen greedily: the corners first, then always the direction farthest from
    those already chosen. A single point gets the centre of the simplex. The result is
    deterministic and cached per (n_obj, n_points).
    """
    return _cached_directions(int(n_obj), int(n_points)).copy()


class PreferenceAlgorithm(GradientAlgorithm):
    """The shell of the preference-guided methods: one preference vector per trajectory.

    Parameters
    ----------
    weighting:
        A context weighting that reads each point's preference vector.
    ref_dirs:
        Preference vectors (n × m), one per trajectory, each non-negative with a positive
        sum (rows are divided by their sums). Their number sets the population size.
        ``None`` gives :func:`default_reference_directions` for ``pop_size`` points.
    q, alpha:
        Weight period and smoothing of the PSMGD schedule (:class:`pmo_grad.weighting.Periodic`).
        NOTE: with q > 1 the reused weights lag behind the point and trajectories drift off their
        rays (EPO on DTLZ2: HV 0.68 with q = 1, 0.40 with q = 5), so q = 1 is the default.
    pop_size:
        Number of trajectories when ``ref_dirs`` is None (100 by default); when both are
        given they must agree.
    step:
        Step rule; by default ``AdaptiveStep(0.1, max_lr=1.0, normalize=True)``: steps of
        0.1 to 1 variable units along the normalized direction, shortened for points that
        oscillate around their ray. Normalized steps cross the plateaus of problems such as
        Fonseca–Fleming, where the gradients nearly vanish far from the front.
    **kwargs:
        Those of :class:`GradientAlgorithm` (``sampling``, ``estimator``, ``check_gradient``) and
        of pymoo's ``Algorithm``.

    Without a termination the run stops after 1000 generations. The Pareto-stationarity test
    of MGDA's default termination does not apply: a Pareto-stationary point off its ray still
    has to move.
    """

    def __init__(
        self,
        weighting,
        ref_dirs: np.ndarray | None = None,
        q: int = 1,
        alpha: float = 0.0,
        pop_size: int | None = None,
        step=None,
        **kwargs,
    ) -> None:
        checked = None if ref_dirs is None else check_preferences(ref_dirs)
        if pop_size is not None:
            pop_size = _check_pop_size(pop_size)
        if checked is not None and pop_size is not None and pop_size != len(checked):
            raise ValueError(
                f"pop_size={pop_size} but {len(checked)} preference vectors were given; the population has one "
                "trajectory per preference vector, so drop pop_size or pass as many vectors"
            )
        if checked is not None:
            n_points = len(checked)
        elif pop_size is not None:
            n_points = pop_size
        else:
            n_points = 100
        super().__init__(
            schedule=Periodic(weighting, q=q, alpha=alpha),
            pop_size=n_points,
            step=step if step is not None else AdaptiveStep(0.1, max_lr=1.0, normalize=True),
            **kwargs,
        )
        self._given_ref_dirs = checked
        self.ref_dirs: np.ndarray | None = checked

    def _setup(self, problem, **kwargs) -> None:
        n_obj = problem.n_obj
        if self._given_ref_dirs is not None:
            self.ref_dirs = check_preferences(self._given_ref_dirs, n_obj)
        else:
            self.ref_dirs = default_reference_directions(n_obj, self.pop_size)
        check_ideal(getattr(self.schedule.weighting, "ideal", None), n_obj)
        super()._setup(problem, **kwargs)

    def _initialize_advance(self, infills=None, **kwargs) -> None:
        if len(infills) != len(self.ref_dirs):
            raise ValueError(
                f"{len(infills)} start points were given for {len(self.ref_dirs)} preference vectors; "
                "pass one start point per preference vector"
            )
        F = infills.get("F")
        if getattr(self.schedule.weighting, "ideal", None) is None and np.any(F < 0):
            k = int(np.flatnonzero(np.any(F < 0, axis=1))[0])
            raise ValueError(
                f"{type(self).__name__} measures every point from the ideal point z, which is 0 unless given, but "
                f"start point {k} has objectives {np.round(F[k], 4).tolist()} below 0; pass ideal= a point at or "
                "below every objective value (for example the problem's known minima)"
            )
        super()._initialize_advance(infills, **kwargs)

    def _weighting_context(self, F: np.ndarray) -> WeightingContext:
        return WeightingContext(objectives=F, preferences=self.ref_dirs)

    def _default_termination(self):
        return MaximumGenerationTermination(DEFAULT_N_GEN)

    @property
    def q(self) -> int:
        """Weight period in iterations."""
        return self.schedule.q

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(pop_size={self.pop_size}, weighting={self.schedule.weighting!r}, "
                f"q={self.schedule.q}, step={self.step_rule!r})")


class Tchebycheff(PreferenceAlgorithm):
    """Gradient descent on the Tchebycheff scalarization max_s (f_s − z_s) / w_s of each trajectory.

    See :class:`pmo_grad.weighting.TchebycheffWeighting` for the weights, the optional
    smoothing μ log Σ exp(·/μ) and the floor on zero preference entries. The exact function
    (``smoothing=0``) forms the Jacobian at each refresh. The smoothed one needs only a
    weighted gradient per point and iteration.
    """

    def __init__(
        self,
        ref_dirs: np.ndarray | None = None,
        *,
        ideal: np.ndarray | None = None,
        smoothing: float = 0.0,
        preference_floor: float = 1e-4,
        active_tol: float = 1e-3,
        q: int = 1,
        alpha: float = 0.0,
        **kwargs,
    ) -> None:
        weighting = TchebycheffWeighting(
            ideal=ideal, smoothing=smoothing, preference_floor=preference_floor, active_tol=active_tol
        )
        super().__init__(weighting, ref_dirs=ref_dirs, q=q, alpha=alpha, **kwargs)


class PBI(PreferenceAlgorithm):
    """Gradient descent on the PBI scalarization d1 + θ d2 of each trajectory (distance along and from its ray).

    See :class:`pmo_grad.weighting.PBIWeighting`. Each iteration costs one weighted gradient
    per point.
    """

    def __init__(
        self,
        ref_dirs: np.ndarray | None = None,
        *,
        ideal: np.ndarray | None = None,
        theta: float = 5.0,
        smoothing: float = 0.03,
        q: int = 1,
        alpha: float = 0.0,
        **kwargs,
    ) -> None:
        weighting = PBIWeighting(ideal=ideal, theta=theta, smoothing=smoothing)
        super().__init__(weighting, ref_dirs=ref_dirs, q=q, alpha=alpha, **kwargs)


class EPO(PreferenceAlgorithm):
    """Exact Pareto optimal search: balance steps toward each trajectory's ray, then descent along it.

    See :class:`pmo_grad.weighting.EPOWeighting` for the two linear programs. Each refresh
    forms the Jacobian and solves one small linear program per point.
    """

    def __init__(
        self,
        ref_dirs: np.ndarray | None = None,
        *,
        ideal: np.ndarray | None = None,
        tol: float = 1e-6,
        q: int = 1,
        alpha: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(EPOWeighting(ideal=ideal, tol=tol), ref_dirs=ref_dirs, q=q, alpha=alpha, **kwargs)


class ParetoMTL(PreferenceAlgorithm):
    """Pareto MTL: reach the cone of each trajectory's preference, then MGDA steps that stay in it.

    See :class:`pmo_grad.weighting.ParetoMTLWeighting`. The cones are those of all
    preference vectors of the run. Each refresh forms the Jacobian and solves one min-norm
    problem per point.
    """

    def __init__(
        self,
        ref_dirs: np.ndarray | None = None,
        *,
        ideal: np.ndarray | None = None,
        active_tol: float = 0.1,
        q: int = 1,
        alpha: float = 0.0,
        **kwargs,
    ) -> None:
        weighting = ParetoMTLWeighting(ideal=ideal, active_tol=active_tol)
        super().__init__(weighting, ref_dirs=ref_dirs, q=q, alpha=alpha, **kwargs)
