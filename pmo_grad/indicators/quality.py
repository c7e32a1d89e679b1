"""pymoo's hypervolume and IGD, guarded against non-finite and empty fronts.

pymoo's IGD returns 0.0 (a perfect score) for a front that is empty or contains NaN, and its
hypervolume silently drops or mis-scores such rows. Here a front with any non-finite row
does not score: the indicator is NaN and callers report it as a failure.
"""

from __future__ import annotations

import logging

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.indicators.igd import IGD

logger = logging.getLogger(__name__)


def _front(F: np.ndarray | None, n_obj: int | None = None) -> np.ndarray | None:
    """Return F as a 2-D array, or None when it is missing, empty or not finite."""
    if F is None:
        return None
    F = np.atleast_2d(np.asarray(F, dtype=float))
    if F.size == 0:
        return None
    if n_obj is not None and F.shape[1] != n_obj:
        raise ValueError(f"front has {F.shape[1]} objectives, expected {n_obj}")
    if not np.all(np.isfinite(F)):
        logger.warning("front with %d non-finite row(s) does not score", int((~np.isfinite(F)).any(axis=1).sum()))
        return None
    return F


def hypervolume(F: np.ndarray | None, ref_point: np.ndarray) -> float:
    """Return the hypervolume of F dominated up to ``ref_point`` (minimization), NaN if F does not score."""
    ref_point = np.asarray(ref_point, dtype=float)
    front = _front(F, ref_point.size)
    if front is None:
        return float("nan")
    return float(HV(ref_point=ref_point)(front))


def igd(F: np.ndarray | None, pareto_front: np.ndarray) -> float:
    """Return the inverted generational distance of F to ``pareto_front``, NaN if F does not score."""
    pareto_front = np.asarray(pareto_front, dtype=float)
    front = _front(F, pareto_front.shape[1])
    if front is None:
        return float("nan")
    return float(IGD(pareto_front)(front))
