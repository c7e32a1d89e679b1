"""Exact hypervolume of the whole true Pareto front of test problems with a known front.

For minimization, the hypervolume of a front P with respect to a reference point r is the
Lebesgue measure of {y : y <= r and p <= y for some p ∈ P}. No finite set of feasible objective
vectors has a larger hypervolume, so the value is an upper bound to compare results against.

Two-objective fronts are given as pieces f2 = φ_k(f1), each strictly decreasing on its interval
[a_k, b_k], with the pieces ordered by f1 and each lower in f2 than all earlier ones. Every
y1 >= a_1 then has the dominance boundary Φ(y1) = φ_k(min(y1, b_k)) for the last piece k with
a_k <= y1, and

    HV(r) = ∫_{a_1}^{r1} max(0, r2 − Φ(y1)) dy1.

This handles reference points that cut through the front: the integral simply drops the part of
the front outside the box [ideal, r]. When r is at or beyond the nadir point and the area under
the front has a closed form, that form is used. Otherwise the integral is evaluated piece by
piece with ``scipy.integrate.quad``.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pymoo.core.problem import Problem
from pymoo.problems.many.dtlz import DTLZ2
from pymoo.problems.multi.zdt import ZDT1, ZDT2, ZDT3
from scipy.integrate import quad
from scipy.optimize import brentq

from pmo_grad.problems.fonseca_fleming import FonsecaFleming
from pmo_grad.problems.quadratic import ConvexQuadraticPair

logger = logging.getLogger(__name__)

# Target errors of each quad integral. The tests compare the results with closed forms to 1e-10.
QUAD_ABS_TOLERANCE = 1e-11
QUAD_REL_TOLERANCE = 1e-11
_QUAD_SUBINTERVAL_LIMIT = 200

# Grid used to bracket the local minima of the ZDT3 front curve before refining them with brentq.
# The curve oscillates five times on [0, 1], so each oscillation spans about 20,000 grid points.
_ZDT3_BRACKET_GRID_SIZE = 100001


@dataclass(frozen=True)
class FrontPiece:
    """A piece f2 = curve(f1) of a two-objective Pareto front, strictly decreasing on [f1_start, f1_end]."""

    f1_start: float
    f1_end: float
    curve: Callable[[float], float]


def _quad_integral(integrand: Callable[[float], float], lower: float, upper: float) -> float:
    """Integrate ``integrand`` over [lower, upper] with quad, logging a warning if it misses the target."""
    value, error_estimate = quad(
        integrand,
        lower,
        upper,
        epsabs=QUAD_ABS_TOLERANCE,
        epsrel=QUAD_REL_TOLERANCE,
        limit=_QUAD_SUBINTERVAL_LIMIT,
    )
    if error_estimate > 10 * QUAD_ABS_TOLERANCE:
        logger.warning(
            "quad integral over [%.12g, %.12g] has error estimate %.3g, above the target %.3g, "
            "so the hypervolume is accurate only to about that error",
            lower,
            upper,
            error_estimate,
            QUAD_ABS_TOLERANCE,
        )
    return value


def hypervolume_of_pieces(pieces: list[FrontPiece], ref_point: np.ndarray) -> float:
    """Return ∫_{a_1}^{r1} max(0, r2 − Φ(y1)) dy1 for a two-objective front made of ``pieces``.

    ``pieces`` must be ordered by f1, each strictly decreasing, and each must start no higher in f2
    than where the previous one ends, as described in the module docstring. Between two pieces, and after the
    last one, Φ stays at the f2 value where the previous piece ends.
    """
    r1, r2 = float(ref_point[0]), float(ref_point[1])
    total = 0.0

    for index, piece in enumerate(pieces):
        curve = piece.curve

        # The curve part: integrate r2 − φ over the f1 range inside the box where φ < r2.
        lower = piece.f1_start
        upper = min(piece.f1_end, r1)
        if upper > lower and curve(upper) < r2:
            if curve(lower) > r2:
                lower = brentq(lambda y: curve(y) - r2, lower, upper, xtol=1e-15)
            total += _quad_integral(lambda y: r2 - curve(y), lower, upper)

        # The flat part: from the end of this piece to the start of the next one, or to r1.
        if index + 1 < len(pieces):
            flat_upper = min(pieces[index + 1].f1_start, r1)
        else:
            flat_upper = r1
        flat_height = r2 - curve(piece.f1_end)
        flat_width = flat_upper - piece.f1_end
        if flat_height > 0.0 and flat_width > 0.0:
            total += flat_height * flat_width

    return total


def _is_at_or_beyond(ref_point: np.ndarray, nadir: tuple[float, ...]) -> bool:
    """Return True when every coordinate of ``ref_point`` is >= the matching one of ``nadir``."""
    return bool(np.all(ref_point >= np.asarray(nadir, dtype=float)))


# ZDT1: f2 = 1 − √f1 on [0, 1], and the area under it is 1 − 2/3.
def _zdt1_hypervolume(ref_point: np.ndarray) -> float:
    if _is_at_or_beyond(ref_point, (1.0, 1.0)):
        return float(ref_point[0] * ref_point[1] - 1.0 / 3.0)
    piece = FrontPiece(0.0, 1.0, lambda y: 1.0 - math.sqrt(y))
    return hypervolume_of_pieces([piece], ref_point)


# ZDT2: f2 = 1 − f1² on [0, 1], and the area under it is 1 − 1/3.
def _zdt2_hypervolume(ref_point: np.ndarray) -> float:
    if _is_at_or_beyond(ref_point, (1.0, 1.0)):
        return float(ref_point[0] * ref_point[1] - 2.0 / 3.0)
    piece = FrontPiece(0.0, 1.0, lambda y: 1.0 - y * y)
    return hypervolume_of_pieces([piece], ref_point)


def zdt3_curve(f1: float) -> float:
    """Return f2 = 1 − √f1 − f1·sin(10π f1), the ZDT3 curve that contains its Pareto front."""
    return 1.0 - math.sqrt(f1) - f1 * math.sin(10.0 * math.pi * f1)


def _zdt3_curve_slope(f1: np.ndarray | float) -> np.ndarray | float:
    """Return d f2 / d f1 = −1/(2√f1) − sin(10π f1) − 10π f1 cos(10π f1) for f1 > 0."""
    angle = 10.0 * np.pi * f1
    return -0.5 / np.sqrt(f1) - np.sin(angle) - angle * np.cos(angle)


@functools.lru_cache(maxsize=1)
def zdt3_front_intervals() -> tuple[tuple[float, float], ...]:
    """Return the f1 intervals of the non-dominated pieces of the ZDT3 curve on [0, 1].

    A point of the curve is non-dominated exactly when its f2 is below the f2 of every point
    with smaller f1. Each piece therefore ends at a local minimum of the curve that is lower
    than all earlier ones, and starts where the curve last falls to the previous such minimum
    (at f1 = 0 for the first piece). The minima are roots of the slope, bracketed on a grid and
    refined with brentq, so the interval ends are accurate to about 1e-15.
    """
    grid = np.linspace(0.0, 1.0, _ZDT3_BRACKET_GRID_SIZE)[1:]
    slope = _zdt3_curve_slope(grid)
    # A local minimum is where the slope changes sign from negative to positive.
    rising = np.flatnonzero((slope[:-1] < 0.0) & (slope[1:] >= 0.0))
    minima = [
        brentq(_zdt3_curve_slope, grid[i], grid[i + 1], xtol=1e-15) for i in rising
    ]
    if zdt3_curve(1.0) < min(zdt3_curve(m) for m in minima):
        minima.append(1.0)

    intervals: list[tuple[float, float]] = []
    running_min = math.inf
    for minimum in minima:
        level = zdt3_curve(minimum)
        if level >= running_min:
            continue
        if not intervals:
            start = 0.0
        else:
            # The last grid point before the minimum where the curve is still at or above the
            # previous minimum brackets the start of this piece.
            previous_end = intervals[-1][1]
            window = grid[(grid > previous_end) & (grid < minimum)]
            above = window[np.array([zdt3_curve(y) for y in window]) >= running_min]
            start = brentq(
                lambda y: zdt3_curve(y) - running_min,
                float(above[-1]),
                minimum,
                xtol=1e-15,
            )
        intervals.append((float(start), float(minimum)))
        running_min = level

    logger.debug("ZDT3 front intervals: %s", intervals)
    return tuple(intervals)


def _zdt3_hypervolume(ref_point: np.ndarray) -> float:
    pieces = [FrontPiece(start, end, zdt3_curve) for start, end in zdt3_front_intervals()]
    return hypervolume_of_pieces(pieces, ref_point)


def _fonseca_fleming_curve(f1: float) -> float:
    """Return f2 on the Fonseca–Fleming front: 1 − exp(−(2 − √(−log(1 − f1)))²)."""
    distance_first = math.sqrt(-math.log1p(-f1))
    return -math.expm1(-((2.0 - distance_first) ** 2))


def _fonseca_fleming_hypervolume(ref_point: np.ndarray) -> float:
    # With s ∈ [−1, 1], f1 = 1 − exp(−(1 − s)²) and f2 = 1 − exp(−(1 + s)²). The area under the
    # front is ∫ f2 df1 = (1 − e⁻⁴) − e⁻²·∫_{−1}^{1} 2(1 − s) e^{−2s²} ds
    #                   = 1 − e⁻⁴ − e⁻² √(2π) erf(√2).
    f1_max = -math.expm1(-4.0)
    if _is_at_or_beyond(ref_point, (f1_max, f1_max)):
        area_under = f1_max - math.exp(-2.0) * math.sqrt(2.0 * math.pi) * math.erf(math.sqrt(2.0))
        return float(ref_point[0] * ref_point[1] - area_under)
    piece = FrontPiece(0.0, f1_max, _fonseca_fleming_curve)
    return hypervolume_of_pieces([piece], ref_point)


def _convex_quadratic_pair_hypervolume(ref_point: np.ndarray) -> float:
    # The front is f2 = (1 − √f1)² on [0, 1], and the area under it is 1 − 4/3 + 1/2 = 1/6.
    if _is_at_or_beyond(ref_point, (1.0, 1.0)):
        return float(ref_point[0] * ref_point[1] - 1.0 / 6.0)
    piece = FrontPiece(0.0, 1.0, lambda y: (1.0 - math.sqrt(y)) ** 2)
    return hypervolume_of_pieces([piece], ref_point)


def _dtlz2_hypervolume(ref_point: np.ndarray) -> float:
    # The front is the part of the unit sphere with f >= 0. A point y >= 0 is dominated by it
    # exactly when ‖y‖ >= 1, so for r >= 1 the hypervolume is the box volume minus the volume of
    # the positive orthant of the unit ball, π^{m/2} / Γ(m/2 + 1) / 2^m.
    n_obj = ref_point.shape[0]
    if np.all(ref_point >= 1.0):
        orthant_ball_volume = math.pi ** (n_obj / 2) / math.gamma(n_obj / 2 + 1) / 2**n_obj
        return float(np.prod(ref_point) - orthant_ball_volume)
    if np.any(ref_point <= 0.0):
        # No point of the box [0, r] is dominated, because every front point is >= 0.
        return 0.0
    if n_obj == 2:
        piece = FrontPiece(0.0, 1.0, lambda y: math.sqrt(max(0.0, 1.0 - y * y)))
        return hypervolume_of_pieces([piece], ref_point)
    raise NotImplementedError(
        f"the exact hypervolume of DTLZ2 with {n_obj} objectives is implemented only for reference "
        f"points with every coordinate >= 1 (or any coordinate <= 0), got ref_point={ref_point.tolist()}. "
        "Use a reference point at or beyond the nadir point (1, ..., 1), or estimate the value "
        "with pymoo's HV on a dense sample of problem.pareto_front()."
    )


# Supported problem classes, matched by exact type, and the function for each.
_HYPERVOLUME_BY_CLASS: dict[type, Callable[[np.ndarray], float]] = {
    ZDT1: _zdt1_hypervolume,
    ZDT2: _zdt2_hypervolume,
    ZDT3: _zdt3_hypervolume,
    DTLZ2: _dtlz2_hypervolume,
    FonsecaFleming: _fonseca_fleming_hypervolume,
    ConvexQuadraticPair: _convex_quadratic_pair_hypervolume,
}

SUPPORTED_PROBLEMS: tuple[str, ...] = tuple(cls.__name__ for cls in _HYPERVOLUME_BY_CLASS)


def _unwrap_problem(problem: Any) -> Any:
    """Return the problem inside pymoo ``Meta`` wrappers such as ``AutomaticDifferentiation``."""
    while True:
        inner = getattr(problem, "__object__", None)
        if inner is None or inner is problem:
            return problem
        problem = inner


def _validate_ref_point(ref_point: ArrayLike, n_obj: int, problem_name: str) -> np.ndarray:
    """Return ``ref_point`` as a float array of shape (n_obj,), or raise ValueError."""
    try:
        point = np.asarray(ref_point, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"ref_point must be a sequence of {n_obj} finite numbers, got {ref_point!r}. "
            f"Pass one coordinate per objective of {problem_name}."
        ) from error
    if point.shape != (n_obj,):
        raise ValueError(
            f"ref_point must have shape ({n_obj},) because {problem_name} has {n_obj} objectives, "
            f"got shape {point.shape} from {ref_point!r}. Pass one coordinate per objective."
        )
    if not np.all(np.isfinite(point)):
        raise ValueError(
            f"ref_point must be finite, got {point.tolist()}. Replace NaN or infinite coordinates "
            "with finite values at or beyond the nadir point of the front."
        )
    return point


def true_hypervolume(problem: Problem, ref_point: ArrayLike) -> float:
    """Return the exact hypervolume of ``problem``'s whole Pareto front with respect to ``ref_point``.

    Minimization is assumed. Supported problems, matched by exact class after removing pymoo
    ``Meta`` wrappers (so ``AutomaticDifferentiation(ZDT1())`` counts as ZDT1, but a subclass such
    as pymoo's ``C2DTLZ2`` is rejected because its front differs):

    * ZDT1: f2 = 1 − √f1, f1 ∈ [0, 1]. For r >= (1, 1), HV = r1·r2 − 1/3.
    * ZDT2: f2 = 1 − f1², f1 ∈ [0, 1]. For r >= (1, 1), HV = r1·r2 − 2/3.
    * ZDT3: f2 = 1 − √f1 − f1·sin(10π f1) restricted to its non-dominated pieces, integrated
      with quad on each piece.
    * DTLZ2 with any number m of objectives: for r >= 1 in every coordinate,
      HV = ∏ r_i − π^{m/2} / Γ(m/2 + 1) / 2^m. For m = 2 any reference point is supported.
    * FonsecaFleming: for r >= (1 − e⁻⁴, 1 − e⁻⁴),
      HV = r1·r2 − (1 − e⁻⁴ − e⁻² √(2π) erf(√2)).
    * ConvexQuadraticPair: f2 = (1 − √f1)², f1 ∈ [0, 1]. For r >= (1, 1), HV = r1·r2 − 1/6.

    For two-objective fronts, a reference point that is not beyond the nadir point clips the
    front to the box below it, and a point not beyond the ideal point gives 0.

    Raises:
        TypeError: ``problem`` is a class instead of an instance.
        NotImplementedError: the problem class is not supported, or DTLZ2 with m >= 3 objectives
            gets a reference point with a coordinate in (0, 1).
        ValueError: ``ref_point`` does not have one finite coordinate per objective.
    """
    if isinstance(problem, type):
        raise TypeError(
            f"problem must be a problem instance, got the class {problem.__name__}. "
            f"Pass an instance, for example {problem.__name__}()."
        )

    inner = _unwrap_problem(problem)
    hypervolume_function = _HYPERVOLUME_BY_CLASS.get(type(inner))
    if hypervolume_function is None:
        raise NotImplementedError(
            f"no exact hypervolume is known for problem class {type(inner).__name__}. "
            f"Supported classes: {', '.join(SUPPORTED_PROBLEMS)}. For other problems, compute "
            "pymoo's HV on a dense sample of problem.pareto_front() instead."
        )

    point = _validate_ref_point(ref_point, int(inner.n_obj), type(inner).__name__)
    value = hypervolume_function(point)
    logger.debug("true hypervolume of %s at %s: %.12g", type(inner).__name__, point.tolist(), value)
    return value
