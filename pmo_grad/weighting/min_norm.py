r"""Min-norm (MGDA) weighting of objective gradients, batched over points.

At point ``k`` with objective gradients :math:`g_1, \dots, g_m` and Gramian
:math:`G_k = J_k J_k^\top`, the weights solve

.. math::

    \lambda^*_k \in \operatorname*{argmin}_{\lambda \in \Delta_m}
    \lambda^\top G_k \lambda
    = \Big\| \sum_s \lambda_s g_s \Big\|^2,
    \qquad
    \Delta_m = \{\lambda \in \mathbb{R}^m : \lambda \ge 0,\ \textstyle\sum_s \lambda_s = 1\}.

:math:`\lambda` is optimal if and only if :math:`(G\lambda)_s \ge \lambda^\top G \lambda`
for every ``s``, with equality wherever :math:`\lambda_s > 0`. Equivalently, the
Frank–Wolfe duality gap :math:`\lambda^\top G \lambda - \min_s (G\lambda)_s` is zero.
"""

from __future__ import annotations

import functools
import logging
import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["MinNorm", "MinNormResult", "min_norm_weights"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MinNormResult:
    r"""Solution of the min-norm problem at ``K`` points with ``m`` objectives.

    Attributes:
        weights: Float64 array ``(K, m)``. Every row lies in the simplex
            :math:`\Delta_m`: entries are finite, non-negative and sum to 1.
        converged: Bool array ``(K,)``. True where ``gap <= tol * max_s (G_k)_ss``,
            and always True for ``m <= 2`` and for zero Gramians.
        n_iter: Int array ``(K,)`` with the number of active-set iterations (one
            KKT solve each). It is 0 for the closed forms used when ``m <= 2``.
        gap: Float64 array ``(K,)`` with the Frank–Wolfe duality gap
            :math:`\lambda^\top G_k \lambda - \min_s (G_k \lambda)_s` at the returned
            weights, clipped at 0 against rounding. By convexity the objective
            exceeds its minimum over the simplex by at most ``2 * gap``.
    """

    weights: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    gap: np.ndarray


def min_norm_weights(
    gramian: np.ndarray, *, tol: float = 1e-10, max_iter: int = 200
) -> MinNormResult:
    r"""Solve :math:`\min_{\lambda \in \Delta_m} \lambda^\top G_k \lambda` for ``K`` Gramians.

    The minimum is :math:`\|\sum_s \lambda_s g_s\|^2`, the squared norm of the MGDA
    common direction. The method depends on ``m``:

    * ``m == 1``: the weight is 1.
    * ``m == 2``: the closed form
      :math:`\lambda_1 = \operatorname{clip}\big((G_{22} - G_{12}) / (G_{11} + G_{22} - 2 G_{12}), 0, 1\big)`,
      :math:`\lambda_2 = 1 - \lambda_1`, vectorized over ``K``. When the two gradients
      are equal (zero denominator), the weights are (0.5, 0.5).
    * ``m >= 3``: Wolfe's minimum-norm-point algorithm run on the Gramian, an
      active-set method that is exact after finitely many steps in exact arithmetic.
      See :func:`_solve_active_set_point`.

    A zero Gramian gets uniform weights. Tolerances are relative to
    :math:`\max_s (G_k)_{ss}`, so scaling all gradients by one factor changes the
    weights only by rounding.

    Args:
        gramian: Real array ``(K, m, m)`` of symmetric positive semidefinite matrices,
            for example from :func:`pmo_grad.weighting.gramian.gramian`.
        tol: A point has converged when its duality gap is at most
            ``tol * max_s (G_k)_ss``. Must be finite and > 0.
            NOTE: gaps below about ``1e-15`` of that scale are at float64 rounding
            level, so smaller values can leave points non-converged.
        max_iter: Maximum number of active-set iterations per point, >= 1. Points that
            reach it, or where rounding stops progress earlier, return their best
            weights so far with ``converged=False``.

    Returns:
        The weights, convergence flags, iteration counts and duality gaps.

    Raises:
        TypeError: If ``gramian`` is complex or not numeric, or ``tol`` or ``max_iter``
            has the wrong type.
        ValueError: If the shape is not ``(K, m, m)`` with ``m >= 1``, if an entry is
            NaN or infinite (the message names the point and objective), if
            ``tol <= 0`` or if ``max_iter < 1``. Also if a matrix is not symmetric or
            not positive semidefinite, up to :math:`\sqrt{\varepsilon}` times its
            largest entry, where :math:`\varepsilon` is the machine epsilon of the
            input dtype.
    """
    gramians = _validate_gramians(gramian)
    tol = _validate_tol(tol)
    max_iter = _validate_max_iter(max_iter)

    n_points, n_objectives, _ = gramians.shape
    if n_objectives == 1:
        return _build_result(
            gramians,
            np.ones((n_points, 1)),
            np.ones(n_points, dtype=bool),
            np.zeros(n_points, dtype=int),
        )
    if n_objectives == 2:
        return _solve_pair(gramians)
    return _solve_active_set(gramians, tol, max_iter)


class MinNorm:
    r"""Weighting by the minimum-norm element of the convex hull of the gradients (MGDA).

    Called on Gramians :math:`G_k = J_k J_k^\top` of shape ``(K, m, m)``, it returns the
    weights

    .. math::

        \lambda^* \in \operatorname*{argmin}_{\lambda \in \Delta_m}
        \Big\| \sum_s \lambda_s \nabla f_s \Big\|^2

    for each point, as an array ``(K, m)``. The common descent direction of MGDA is
    :math:`d = \sum_s \lambda^*_s \nabla f_s`. It satisfies
    :math:`\langle d, \nabla f_s \rangle \ge \|d\|^2` for every objective, so
    :math:`-d` decreases all objectives at once unless :math:`d = 0`, and the point
    is Pareto-stationary if and only if :math:`d = 0`.

    The full :class:`MinNormResult` of the latest call is stored in ``last_result``.
    A call that has non-converged points logs one warning with their count and the
    largest relative duality gap.

    Args:
        tol: Relative duality-gap tolerance, passed to :func:`min_norm_weights`.
        max_iter: Maximum number of active-set iterations per point, passed to
            :func:`min_norm_weights`.
    """

    def __init__(self, tol: float = 1e-10, max_iter: int = 200) -> None:
        self.tol = _validate_tol(tol)
        self.max_iter = _validate_max_iter(max_iter)
        self.last_result: MinNormResult | None = None

    def __call__(self, gramian: np.ndarray) -> np.ndarray:
        """Compute the min-norm weights ``(K, m)`` for Gramians of shape ``(K, m, m)``."""
        result = min_norm_weights(gramian, tol=self.tol, max_iter=self.max_iter)
        self.last_result = result

        not_converged = ~result.converged
        n_failed = int(np.count_nonzero(not_converged))
        if n_failed > 0:
            diagonals = np.diagonal(np.asarray(gramian, dtype=np.float64), axis1=1, axis2=2)
            scales = diagonals.max(axis=1)[not_converged]
            relative_gaps = result.gap[not_converged] / np.where(scales > 0, scales, 1.0)
            logger.warning(
                "min-norm solver did not reach the relative duality gap tol=%.3g at "
                "%d of %d points with max_iter=%d. The largest gap divided by max "
                "diag(G) is %.3g. Those weights are feasible but may be suboptimal, so "
                "increase max_iter, or tol if the gaps are near float64 rounding.",
                self.tol,
                n_failed,
                result.converged.size,
                self.max_iter,
                float(relative_gaps.max()),
            )
        return result.weights

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tol={self.tol!r}, max_iter={self.max_iter!r})"


def _validate_tol(tol: float) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number, got {tol!r} of type {type(tol).__name__}")
    value = float(tol)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(
            f"tol must be finite and > 0, got {tol!r}. It is relative to the largest "
            "squared gradient norm, and the default is 1e-10."
        )
    return value


def _validate_max_iter(max_iter: int) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral):
        raise TypeError(
            f"max_iter must be an integer, got {max_iter!r} of type {type(max_iter).__name__}"
        )
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}. The default is 200.")
    return int(max_iter)


def _validate_gramians(gramian: np.ndarray) -> np.ndarray:
    """Validate Gramians and return them as an exactly symmetric float64 copy."""
    array = np.asarray(gramian)
    if array.dtype.kind == "c":
        raise TypeError(
            f"gramian must be real, got complex dtype {array.dtype}. "
            "Compute it with gramian(jacobians) from real Jacobians."
        )
    if array.dtype.kind not in "iuf":
        raise TypeError(f"gramian must be a real numeric array, got dtype {array.dtype}")
    if array.ndim != 3 or array.shape[1] != array.shape[2]:
        raise ValueError(
            "expected gramian of shape (K, m, m) (points, objectives, objectives), "
            f"got shape {array.shape}. Compute it with gramian(jacobians) from "
            "jacobians of shape (K, m, d)."
        )
    if array.shape[1] == 0:
        raise ValueError(
            f"gramian must have at least one objective (m >= 1), got shape {array.shape}"
        )

    # Symmetry and semidefiniteness are checked up to sqrt(eps) of the input dtype, so
    # that Gramians computed in float32 pass too.
    input_dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    relative_tolerance = math.sqrt(float(np.finfo(input_dtype).eps))
    gramians = array.astype(np.float64)

    non_finite = ~np.isfinite(gramians)
    if non_finite.any():
        k, s, t = (int(index) for index in np.argwhere(non_finite)[0])
        raise ValueError(
            f"Gramian of point {k}, objective {s} contains {gramians[k, s, t]} "
            f"(entry ({s}, {t})). Check the gradient of objective {s} at point {k}, "
            "or remove the point."
        )
    if gramians.shape[0] == 0:
        return gramians

    scales = np.abs(gramians).max(axis=(1, 2))
    safe_scales = np.where(scales > 0, scales, 1.0)
    asymmetry = np.abs(gramians - gramians.transpose(0, 2, 1)).max(axis=(1, 2))
    asymmetric = asymmetry > relative_tolerance * scales
    if asymmetric.any():
        k = int(np.argmax(asymmetric))
        raise ValueError(
            f"Gramian of point {k} is not symmetric: max |G - G^T| = {asymmetry[k]:.3g} "
            f"against max |G| = {scales[k]:.3g}. Pass G = J J^T, for example from "
            "gramian(jacobians)."
        )

    symmetric = 0.5 * gramians + 0.5 * gramians.transpose(0, 2, 1)
    smallest_eigenvalues = np.linalg.eigvalsh(symmetric / safe_scales[:, None, None])[:, 0]
    indefinite = smallest_eigenvalues < -relative_tolerance
    if indefinite.any():
        k = int(np.argmax(indefinite))
        raise ValueError(
            f"Gramian of point {k} is not positive semidefinite: its smallest eigenvalue "
            f"is {smallest_eigenvalues[k] * scales[k]:.3g} against max |G| = "
            f"{scales[k]:.3g}. Pass G = J J^T, for example from gramian(jacobians)."
        )
    return symmetric


def _build_result(
    gramians: np.ndarray, weights: np.ndarray, converged: np.ndarray, n_iter: np.ndarray
) -> MinNormResult:
    """Clip rounding-level negative weights, renormalize them and compute the duality gaps."""
    weights = np.clip(weights, 0.0, None)
    weights = weights / weights.sum(axis=1, keepdims=True)

    products = np.einsum("kst,kt->ks", gramians, weights)
    values = np.einsum("ks,ks->k", weights, products)
    gap = np.maximum(values - products.min(axis=1), 0.0)
    return MinNormResult(
        weights=weights,
        converged=np.asarray(converged, dtype=bool),
        n_iter=np.asarray(n_iter, dtype=int),
        gap=gap,
    )


def _solve_pair(gramians: np.ndarray) -> MinNormResult:
    r"""Solve the two-objective problem in closed form, vectorized over points.

    With :math:`p = G_{22} - G_{12} = \langle g_2, g_2 - g_1 \rangle` and
    :math:`q = G_{11} - G_{12}`, the minimizer is :math:`\lambda_1 = p / (p + q)`
    clipped to [0, 1]. Branching on the signs of ``p`` and ``q`` gives the same value
    without dividing by a near-zero :math:`p + q = \|g_1 - g_2\|^2`. Equal gradients
    (``p <= 0`` and ``q <= 0``) get (0.5, 0.5), which keeps the result symmetric under
    swapping the objectives.
    """
    diagonal = np.diagonal(gramians, axis1=1, axis2=2)
    scales = diagonal.max(axis=1)
    # Normalizing first keeps the differences below from overflowing.
    safe_scales = np.where(scales > 0, scales, 1.0)
    g11 = gramians[:, 0, 0] / safe_scales
    g22 = gramians[:, 1, 1] / safe_scales
    g12 = gramians[:, 0, 1] / safe_scales
    p = g22 - g12
    q = g11 - g12

    interior = (p > 0) & (q > 0)
    lambda_1 = np.full(gramians.shape[0], 0.5)
    lambda_1[(p <= 0) & (q > 0)] = 0.0
    lambda_1[(p > 0) & (q <= 0)] = 1.0
    lambda_1[interior] = p[interior] / (p[interior] + q[interior])

    weights = np.stack([lambda_1, 1.0 - lambda_1], axis=1)
    n_points = gramians.shape[0]
    return _build_result(
        gramians, weights, np.ones(n_points, dtype=bool), np.zeros(n_points, dtype=int)
    )


def _solve_active_set(gramians: np.ndarray, tol: float, max_iter: int) -> MinNormResult:
    """Run :func:`_solve_active_set_point` on each point, for any ``m >= 1``.

    ``gramians`` must already be validated. Each matrix is divided by its largest
    diagonal entry, so ``tol`` is relative to it. Zero Gramians get uniform weights.
    """
    n_points, n_objectives, _ = gramians.shape
    weights = np.full((n_points, n_objectives), 1.0 / n_objectives)
    converged = np.ones(n_points, dtype=bool)
    n_iter = np.zeros(n_points, dtype=int)

    scales = np.diagonal(gramians, axis1=1, axis2=2).max(axis=1) if n_points else np.empty(0)
    for k in range(n_points):
        if scales[k] <= 0.0:
            continue
        weights[k], converged[k], n_iter[k] = _solve_active_set_point(
            gramians[k] / scales[k], tol, max_iter
        )
    return _build_result(gramians, weights, converged, n_iter)


def _solve_active_set_point(
    gramian: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, bool, int]:
    r"""Minimize :math:`\lambda^\top G \lambda` over the simplex for one Gramian.

    This is Wolfe's minimum-norm-point algorithm written in terms of :math:`G` only.
    With :math:`d = \sum_s \lambda_s g_s`, the inner products are
    :math:`\langle d, g_s \rangle = (G\lambda)_s` and :math:`\|d\|^2 = \lambda^\top G \lambda`.
    The iterate is supported on an active set ``S``, starting from the vertex with the
    smallest :math:`G_{ss}`.

    * Major step: when :math:`\lambda` minimizes the objective on the affine hull of
      ``S`` and the gap :math:`\|d\|^2 - \min_s (G\lambda)_s` exceeds ``tol``, add
      :math:`j = \operatorname{argmin}_s (G\lambda)_s` to ``S``. Because
      :math:`\langle d, g_j \rangle < \|d\|^2`, :math:`g_j` lies outside the affine hull
      of ``S``, so the gradients in ``S`` stay affinely independent.
    * Every iteration moves :math:`\lambda` towards the minimizer :math:`\alpha` of the
      objective on the affine hull of ``S`` (see :func:`_affine_direction`). If
      :math:`\alpha > 0` it sets :math:`\lambda = \alpha`. Otherwise it stops where the
      first weight reaches zero (ratio test) and removes that index from ``S``.

    In exact arithmetic the objective never increases and strictly decreases at each
    major step, so no active set repeats and the method is exact after finitely many
    steps. Rounding can make the gradients in ``S`` affinely dependent. Then the
    objective is flat along some directions of the affine hull, and the iteration
    follows its linear decrease along them up to the next zero weight instead. If even
    that gives no descent after a major step, a Frank–Wolfe step towards vertex ``j``
    with exact line search is taken.

    Args:
        gramian: Validated ``(m, m)`` Gramian scaled so that its largest diagonal
            entry is 1.
        tol: Absolute duality-gap tolerance on the scaled Gramian.
        max_iter: Maximum number of iterations.

    Returns:
        The weights, whether the gap reached ``tol``, and the number of iterations.
        A point that stops early returns the weights with the smallest objective seen.
    """
    n_objectives = gramian.shape[0]
    start = int(np.argmin(np.diagonal(gramian)))
    support = [start]
    weights = np.zeros(n_objectives)
    weights[start] = 1.0
    best_weights = weights.copy()
    best_value = math.inf
    n_iter = 0
    at_affine_minimum = True

    while True:
        products = gramian @ weights
        value = float(weights @ products)
        entering = int(np.argmin(products))
        if value - products[entering] <= tol:
            return weights, True, n_iter
        if value < best_value:
            best_weights, best_value = weights.copy(), value
        if n_iter >= max_iter:
            return best_weights, False, n_iter

        if at_affine_minimum:
            if entering in support:
                # In exact arithmetic (G lambda)_s equals ||d||^2 on S here, so the gap
                # comes from rounding in the affine minimizer and cannot be reduced.
                logger.debug("active set stalled: index %d is already in %s", entering, support)
                return best_weights, False, n_iter
            support.append(entering)
        n_iter += 1

        direction, reaches_affine_minimum = _affine_direction(
            gramian[np.ix_(support, support)], products[support]
        )
        delta = np.zeros(n_objectives)
        delta[support] = direction
        slope = float(products @ delta)
        max_step, blocking = _ratio_test(weights, delta)

        if slope >= 0.0 or max_step <= 0.0:
            if not at_affine_minimum:
                # No descent is left on the affine hull of S, up to rounding.
                at_affine_minimum = True
                continue
            # Rounding broke the guarantee that the new index gives descent, so take a
            # Frank-Wolfe step towards the entering vertex, whose slope is -gap < 0.
            delta = -weights
            delta[entering] += 1.0
            slope = float(products @ delta)
            max_step, blocking = _ratio_test(weights, delta)
            reaches_affine_minimum = False

        if reaches_affine_minimum:
            step = 1.0
        else:
            curvature = float(delta @ gramian @ delta)
            step = -slope / curvature if curvature > 0.0 else math.inf
        blocked = step >= max_step
        weights = weights + min(step, max_step) * delta
        if blocked:
            weights[blocking] = 0.0

        support = [index for index in support if weights[index] > 0.0]
        weights[weights < 0.0] = 0.0
        weights /= weights.sum()
        at_affine_minimum = (reaches_affine_minimum and not blocked) or len(support) == 1


# Below these values, relative to max_s G_ss = 1, an eigenvalue of the reduced Hessian or
# a slope along its eigenvector is treated as rounding noise. Their rounding errors are
# estimated at m times the float64 epsilon (2.2e-16), about 4e-15 for m = 20.
_FLAT_CURVATURE = 1e-12
_FLAT_SLOPE = 1e-13


def _affine_direction(gramian: np.ndarray, products: np.ndarray) -> tuple[np.ndarray, bool]:
    r"""Compute a descent direction on the affine hull of the active set.

    Writes :math:`\lambda_S + Q t`, with ``Q`` an orthonormal basis of
    :math:`\{x : \sum_i x_i = 0\}`, so the objective becomes
    :math:`\text{const} + 2 t^\top Q^\top G \lambda_S + t^\top H t` with
    :math:`H = Q^\top G Q`. Let :math:`H = \sum_i w_i v_i v_i^\top` and
    :math:`b = Q^\top G \lambda_S` (``products`` is :math:`G\lambda_S`).

    * If some eigenvalue :math:`w_i` is flat (below ``_FLAT_CURVATURE``) while the slope
      :math:`v_i^\top b` along it is not, the objective decreases linearly along
      :math:`-\sum_{\text{flat}} (v_i^\top b)\, v_i` and has no minimizer on the affine
      hull. That ray is returned with False.
    * Otherwise the Newton step :math:`t = -\sum_{\text{not flat}} (v_i^\top b / w_i)\, v_i`
      reaches the minimizer of the objective on the affine hull. It is returned with True.

    Both directions are in the coordinates of ``S`` and sum to 0.
    """
    size = products.shape[0]
    if size == 1:
        return np.zeros(1), True

    basis = _sum_zero_basis(size)
    hessian = basis.T @ gramian @ basis
    eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (hessian + hessian.T))
    slopes = eigenvectors.T @ (basis.T @ products)

    flat = eigenvalues <= _FLAT_CURVATURE
    if np.any(np.abs(slopes[flat]) > _FLAT_SLOPE):
        reduced = -(eigenvectors[:, flat] @ slopes[flat])
        return basis @ reduced, False
    curved = ~flat
    reduced = -(eigenvectors[:, curved] @ (slopes[curved] / eigenvalues[curved]))
    return basis @ reduced, True


@functools.lru_cache(maxsize=64)
def _sum_zero_basis(size: int) -> np.ndarray:
    """Return an orthonormal basis ``(size, size - 1)`` of the vectors whose entries sum to 0."""
    spanning = np.vstack([-np.ones((1, size - 1)), np.eye(size - 1)])
    basis = np.linalg.qr(spanning)[0]
    basis.setflags(write=False)
    return basis


def _ratio_test(weights: np.ndarray, delta: np.ndarray) -> tuple[float, int]:
    """Return the largest step keeping ``weights + step * delta >= 0`` and the index that hits 0.

    The step is infinite, and the index -1, when no entry of ``delta`` is negative.
    """
    decreasing = np.flatnonzero(delta < 0.0)
    if decreasing.size == 0:
        return math.inf, -1
    ratios = weights[decreasing] / -delta[decreasing]
    position = int(np.argmin(ratios))
    return float(ratios[position]), int(decreasing[position])
