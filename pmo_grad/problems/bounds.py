"""Box bounds: which coordinates of a point cannot move in any descent direction."""

from __future__ import annotations

import numpy as np


def blocked_coordinates(X: np.ndarray, xl: np.ndarray, xu: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Return a (K × d) mask of coordinates that sit on a bound every gradient pushes them through.

    ``gradients`` has shape (K, m, d) or (K, d). A coordinate x_j = xl_j with every ∂f_s/∂x_j ≥ 0
    (descent would lower it) or x_j = xu_j with every ∂f_s/∂x_j ≤ 0 cannot move in any descent
    combination of the gradients, so its column is left out of the weighting and the direction.
    Without this, the min-norm weights balance gradient components that the projection then
    cuts off, and the projected step need not decrease every objective.
    """
    G = gradients if gradients.ndim == 3 else gradients[:, None, :]
    # Partial derivatives within rounding of zero (cos(π/2) ≈ 6e-17, say) count as zero.
    tiny = 1e-12 * np.abs(G).max(axis=(1, 2), keepdims=True)
    at_lower = (X <= xl) & np.all(G >= -tiny, axis=1)
    at_upper = (X >= xu) & np.all(G <= tiny, axis=1)
    return at_lower | at_upper
