"""Input checks and scaling shared by the data-backed finite-sum problems."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def finite_matrix(name: str, value: Any, min_columns: int) -> np.ndarray:
    """Convert ``value`` to a finite 2-D float array, raising ValueError that names ``name`` otherwise."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric 2-D array (samples × columns), got {type(value).__name__}"
        ) from exc
    if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < min_columns:
        raise ValueError(
            f"{name} must be a 2-D array with at least 2 rows (samples) and {min_columns} column(s), "
            f"got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        rows = np.flatnonzero(~np.all(np.isfinite(array), axis=1))
        raise ValueError(
            f"{name} contains NaN or infinite values in {rows.size} row(s), first at row {rows[0]}. "
            "Remove or impute those samples first."
        )
    return array


def standardize(array: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (standardized array, column means, column scales), scales being population std devs.

    A constant column gets scale 1, so it standardizes to zeros instead of dividing by zero.
    """
    mean = array.mean(axis=0)
    scale = array.std(axis=0)
    scale = np.where(np.ptp(array, axis=0) > 0, scale, 1.0)
    return (array - mean) / scale, mean, scale


def check_real(name: str, value: Any, *, positive: bool) -> float:
    """Convert ``value`` to a float, raising ValueError unless it is finite and > 0 (``positive``) or >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)
