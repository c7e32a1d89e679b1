r"""Hypervolume gradients: how the hypervolume of a point set changes with each objective value.

For points :math:`y_1, \dots, y_n \in \mathbb{R}^m` (minimization) and a reference point r,

.. math::

    \mathrm{HV}(Y) = \lambda_m\Big(\bigcup_k [y_k, r]\Big).

Lowering :math:`y_{ks}` by ε adds to the union the slab of width ε on the face of the box
:math:`[y_k, r]` that is orthogonal to axis s, less the part of that face already covered by
the boxes of the points j with :math:`y_{js} < y_{ks}`. So the derivative is minus the
(m − 1)-dimensional measure of the uncovered part of that face:

.. math::

    -\frac{\partial^- \mathrm{HV}}{\partial y_{ks}}
    = \lambda_{m-1}\Big([a, r'] \setminus \bigcup_{j:\, y_{js} < y_{ks}} [b_j, r']\Big)
    = \lambda_{m-1}([a, r']) - \mathrm{HV}_{m-1}\big(\{\max(a, b_j)\}_j;\ r'\big),

with :math:`a = y_{k,-s}`, :math:`b_j = y_{j,-s}` and :math:`r' = r_{-s}` (axis s removed).
:math:`\partial^-` is the derivative for lowering :math:`y_{ks}`, the direction a descent step
takes. It equals the two-sided derivative unless another point has the same value in objective
s. For two objectives the measure is a length with a closed form. For three it is the area of
a two-dimensional staircase, computed for all points at once by sorting. For more objectives
each measure is pymoo's exact hypervolume in m − 1 dimensions, one call per point and
objective.
"""

from __future__ import annotations


import numpy as np
from pymoo.indicators.hv import HV

from pmo_grad.weighting.context import ContextWeighting, WeightingContext

__all__ = ["HypervolumeWeighting", "hypervolume_weights", "nondominated_layers"]


# Margin of the enlarged reference point used for points beyond the reference point, as a
# fraction of the range of their layer in each objective.
_ENLARGE_FRACTION = 0.1


def _check_front_and_reference(F: np.ndarray, ref_point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    F = np.asarray(F, dtype=float)
    if F.ndim != 2 or F.shape[1] < 2:
        raise ValueError(f"F must have shape (n, m) with m >= 2 objectives, got {F.shape}")
    if not np.all(np.isfinite(F)):
        raise ValueError("F contains NaN or infinite values; hypervolume gradients need finite objective values")
    r = np.asarray(ref_point, dtype=float).reshape(-1)
    if r.shape != (F.shape[1],) or not np.all(np.isfinite(r)):
        raise ValueError(
            f"ref_point must be a finite vector with one entry per objective ({F.shape[1]}), got {ref_point!r}"
        )
    return F, r


def _staircase_areas(points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Return the area dominated by each set of 2-D points up to ``ref``; ``points`` has shape (B, n, 2).

    Coordinates beyond ``ref`` are clipped to it, so such points add nothing. Sorted by the first
    coordinate, the union's boundary at x is ref_2 minus the running minimum of the second.
    """
    clipped = np.minimum(points, ref)
    order = np.argsort(clipped[..., 0], axis=1, kind="stable")
    ordered = np.take_along_axis(clipped, order[..., None], axis=1)
    left = ordered[..., 0]
    lowest = np.minimum.accumulate(ordered[..., 1], axis=1)
    right = np.concatenate([left[:, 1:], np.full((len(points), 1), ref[0])], axis=1)
    return np.sum((right - left) * (ref[1] - lowest), axis=1)


def _face_measures(Y: np.ndarray, r: np.ndarray, s: int) -> np.ndarray:
    """Return, for every point, the uncovered measure of its box face orthogonal to axis s."""
    n, m = Y.shape
    rest = [t for t in range(m) if t != s]
    faces = Y[:, rest]
    ref = r[rest]
    earlier = Y[None, :, s] < Y[:, None, s]  # [k, j]: point j lies below point k in objective s
    if m == 2:
        others = np.where(earlier, faces[None, :, 0], np.inf)
        return np.maximum(np.minimum(ref[0], others.min(axis=1)) - faces[:, 0], 0.0)
    box = np.prod(np.maximum(ref - faces, 0.0), axis=1)
    if m == 3:
        corners = np.maximum(faces[:, None, :], faces[None, :, :])
        corners = np.where(earlier[..., None], corners, ref)
        return np.maximum(box - _staircase_areas(corners, ref), 0.0)
    measures = np.zeros(n)
    indicator = HV(ref_point=ref)
    for k in range(n):
        if box[k] <= 0.0:
            continue
        covering = np.maximum(faces[earlier[k]], faces[k])
        covered = float(indicator(covering)) if len(covering) else 0.0
        measures[k] = max(box[k] - covered, 0.0)
    return measures


def hypervolume_weights(F: np.ndarray, ref_point: np.ndarray) -> np.ndarray:
    r"""Return :math:`W_{ks} = -\partial^- \mathrm{HV}(F) / \partial F_{ks}`, shape (n, m), all ≥ 0.

    W is minus the gradient of the hypervolume of the whole set F (minimization, reference
    point ``ref_point``) with respect to each objective value, taken for lowering the value
    (see the module docstring for the formula). It is exact: a closed form for m = 2, a sort
    per objective for m = 3, and pymoo's ``HV`` in m − 1 dimensions for m ≥ 4, which costs
    n · m hypervolume calls. Units: (objective unit)^(m − 1).

    A point beyond the reference point in some objective gets a zero row, and so does a point
    that another point beats in every objective. A point that is dominated but ties its
    dominator in objective s keeps a positive W_ks, because lowering F_ks uncovers new volume.

    Raises:
        ValueError: if F is not a finite (n, m) array with m ≥ 2, or the reference point does
            not have m finite entries.
    """
    F, r = _check_front_and_reference(F, ref_point)
    W = np.zeros_like(F)
    inside = np.all(F <= r, axis=1)
    if not inside.any():
        return W
    Y = F[inside]
    for s in range(F.shape[1]):
        W[inside, s] = _face_measures(Y, r, s)
    return W


def nondominated_layers(F: np.ndarray) -> np.ndarray:
    """Return the non-dominated layer (0 = first front) of every row of F, shape (n,).

    Row j covers row k if F_j ≤ F_k in every objective and either F_j ≠ F_k or j < k. Layer 0
    contains the rows no other row covers, layer 1 those covered only by layer 0, and so on. The
    index rule sends every copy of a repeated objective vector after the first to a later
    layer, so a layer never contains the same vector twice.
    """
    F = np.asarray(F, dtype=float)
    n = len(F)
    index = np.arange(n)
    weakly_better = np.all(F[:, None, :] <= F[None, :, :], axis=2)  # [j, k]: F_j <= F_k everywhere
    equal = np.all(F[:, None, :] == F[None, :, :], axis=2)
    covers = weakly_better & (~equal | (index[:, None] < index[None, :]))
    layers = np.full(n, -1)
    remaining = np.ones(n, dtype=bool)
    layer = 0
    while remaining.any():
        covered = np.any(covers[remaining][:, remaining], axis=0)
        current = np.flatnonzero(remaining)[~covered]
        layers[current] = layer
        remaining[current] = False
        layer += 1
    return layers


class HypervolumeWeighting(ContextWeighting):
    r"""Weights from the hypervolume gradient of each point's non-dominated layer.

    The population is split into non-dominated layers (:func:`nondominated_layers`). For a
    point k in layer L with :math:`W = ` :func:`hypervolume_weights` of that layer,

    .. math::

        \lambda_k = W_k / \textstyle\sum_s W_{ks},

    so the direction :math:`d_k = \sum_s \lambda_{ks} \nabla f_s(x_k)` is a positive multiple
    of :math:`-\nabla_{x_k} \mathrm{HV}(L)`, and the step :math:`x_k - \eta d_k` raises the
    hypervolume of the layer to first order. Points of the first layer climb the hypervolume
    of the front. A dominated point follows the hypervolume of its own layer, which moves it
    toward the front while spreading it among the points of that layer. The weights lie on
    the simplex, so step sizes mean what they mean for the min-norm weighting.

    A point beyond the reference point in some objective has no hypervolume contribution
    (:math:`W_k = 0`). It takes its weights from the hypervolume of its layer with respect to
    the enlarged reference point :meth:`enlarged_reference`, which counts every point of the
    layer, so points outside the box descend and spread among themselves until they enter it.
    The weights need only the objective values, so a refresh forms no Jacobian.

    Parameters
    ----------
    ref_point:
        Reference point r, one finite entry per objective; the hypervolume counts [F, r].
    """

    needs_gramian = False

    def __init__(self, ref_point: np.ndarray) -> None:
        r = np.asarray(ref_point, dtype=float).reshape(-1)
        if r.size < 2 or not np.all(np.isfinite(r)):
            raise ValueError(
                f"ref_point must be a finite vector with one entry per objective (at least 2), got {ref_point!r}"
            )
        self.ref_point = r

    def population_weights(self, F: np.ndarray) -> np.ndarray:
        """Return the normalized weights (n × m) of every row of F (see the class docstring)."""
        F, r = _check_front_and_reference(F, self.ref_point)
        W = np.zeros_like(F)
        layers = nondominated_layers(F)
        for layer in np.unique(layers):
            members = np.flatnonzero(layers == layer)
            values = F[members]
            W[members] = hypervolume_weights(values, r)
            outside = ~np.any(W[members] > 0, axis=1)
            if outside.any():
                W[members[outside]] = hypervolume_weights(values, self.enlarged_reference(values))[outside]
        totals = W.sum(axis=1, keepdims=True)
        return np.divide(W, totals, out=np.full_like(W, 1.0 / W.shape[1]), where=totals > 0)

    def enlarged_reference(self, F: np.ndarray) -> np.ndarray:
        """Return r' = max(r, max F + 10 % of the range of F), with a range of 0 counted as max(|r|, 1)."""
        top = F.max(axis=0)
        spread = top - F.min(axis=0)
        spread = np.where(spread > 0, spread, np.maximum(np.abs(self.ref_point), 1.0))
        return np.maximum(self.ref_point, top + _ENLARGE_FRACTION * spread)

    def __call__(self, gramian: np.ndarray | None, context: WeightingContext) -> np.ndarray:
        if context.objectives.shape[1] != self.ref_point.size:
            raise ValueError(
                f"ref_point has {self.ref_point.size} entries but the problem has "
                f"{context.objectives.shape[1]} objectives; give one entry per objective"
            )
        weights = self.population_weights(context.objectives)
        return weights if context.rows is None else weights[context.rows]

    def __repr__(self) -> str:
        return f"HypervolumeWeighting(ref_point={self.ref_point.tolist()})"
