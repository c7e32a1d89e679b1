"""Gramians of batched Jacobians, the input of the min-norm (MGDA) weighting."""

from __future__ import annotations

import numpy as np

__all__ = ["gramian"]


def gramian(jacobians: np.ndarray) -> np.ndarray:
    r"""Compute the Gramian :math:`G_k = J_k J_k^\top` of each Jacobian in a batch.

    Row ``s`` of :math:`J_k \in \mathbb{R}^{m \times d}` is the gradient
    :math:`g_s = \nabla f_s(x_k)` of objective ``s`` at point ``k``, so
    :math:`(G_k)_{st} = \langle g_s, g_t \rangle`. The product is computed in float64
    and symmetrized as :math:`(G + G^\top)/2`, so every returned matrix is exactly
    symmetric.

    Args:
        jacobians: Real array of shape ``(K, m, d)``: ``K`` points, ``m`` objectives,
            ``d`` variables. ``d == 0`` is accepted and gives zero Gramians.

    Returns:
        Float64 array of shape ``(K, m, m)``.

    Raises:
        TypeError: If the array is complex or not numeric.
        ValueError: If the shape is not ``(K, m, d)`` with ``m >= 1``, if an entry is
            NaN or infinite (the message names the first point and objective), or if
            an entry of the Gramian overflows float64.
    """
    array = np.asarray(jacobians)
    if array.dtype.kind == "c":
        raise TypeError(
            f"jacobians must be real, got complex dtype {array.dtype}. "
            "Pass the real part if the imaginary part is zero."
        )
    if array.dtype.kind not in "iuf":
        raise TypeError(f"jacobians must be a real numeric array, got dtype {array.dtype}")
    if array.ndim != 3:
        raise ValueError(
            "expected jacobians of shape (K, m, d) (points, objectives, variables), "
            f"got shape {array.shape}. For a single point, pass jacobian[np.newaxis]."
        )
    if array.shape[1] == 0:
        raise ValueError(
            f"jacobians must have at least one objective (m >= 1), got shape {array.shape}"
        )

    array = array.astype(np.float64, copy=False)
    non_finite = ~np.isfinite(array)
    if non_finite.any():
        k, s, i = (int(index) for index in np.argwhere(non_finite)[0])
        raise ValueError(
            f"Jacobian of point {k}, objective {s} contains {array[k, s, i]} "
            f"(variable {i}). Check that objective and its gradient at that point, "
            "or remove the point before computing the Gramian."
        )

    # Overflow is reported below with the point and objectives, instead of a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        products = array @ array.transpose(0, 2, 1)
    result = 0.5 * products + 0.5 * products.transpose(0, 2, 1)

    overflowed = ~np.isfinite(result)
    if overflowed.any():
        k, s, t = (int(index) for index in np.argwhere(overflowed)[0])
        raise ValueError(
            f"Gramian of point {k} overflows float64 at entry ({s}, {t}). Rescale "
            f"objectives {s} and {t} so that their gradient norms stay well below 1e154."
        )
    return result
