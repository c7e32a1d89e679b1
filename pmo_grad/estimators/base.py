"""The estimator protocol: which data a gradient step uses, and what it cost.

An estimator serves two requests for points X (K × d) at iteration t:

* ``jacobian``: an estimate of the per-objective gradients J (K × m × d);
* ``weighted_gradient``: an estimate of ∇(Σ_s λ_ks f_s) (K × d) for given weights λ (K × m).

It follows the ``init`` / ``update`` pattern: ``init`` returns its state, and each request
returns the estimate, the next state and a :class:`Cost`. All randomness comes from the
generator the algorithm passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pymoo.core.problem import Problem


@dataclass(frozen=True)
class Cost:
    """Work done by one request, summed over the K points.

    Attributes
    ----------
    n_grad:
        Points at which a (full-data or sample) Jacobian was formed.
    n_weighted_grad:
        Points at which a weighted gradient was formed without a Jacobian.
    n_sample_grads:
        Per-sample gradient evaluations of one scalar function: a per-sample Jacobian counts
        m, a per-sample weighted gradient counts 1, each per point. Zero for problems that are
        not finite sums.
    """

    n_grad: int = 0
    n_weighted_grad: int = 0
    n_sample_grads: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(
            self.n_grad + other.n_grad,
            self.n_weighted_grad + other.n_weighted_grad,
            self.n_sample_grads + other.n_sample_grads,
        )


class Estimator(Protocol):
    """Protocol of all estimators (see the module docstring)."""

    def init(self, problem: Problem, n_points: int, period: int) -> Any: ...

    def jacobian(
        self, state: Any, X: np.ndarray, t: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, Any, Cost]: ...

    def weighted_gradient(
        self, state: Any, X: np.ndarray, weights: np.ndarray, t: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None, Any, Cost]: ...


def check_batch_size(batch_size: int | None, name: str = "batch_size", unit: str = "samples per step") -> int | None:
    """Return ``batch_size`` as an int ≥ 1 (None passes through), else raise ValueError."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{name} must be an integer >= 1 ({unit}), got {batch_size!r}")
    return int(batch_size)


class NonFiniteEstimateError(FloatingPointError):
    """A gradient estimate with NaN or infinite entries."""


def require_finite(values: np.ndarray, quantity: str) -> np.ndarray:
    """Return ``values`` if all entries are finite, else raise naming the first bad point."""
    bad = ~np.all(np.isfinite(values.reshape(len(values), -1)), axis=1)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise NonFiniteEstimateError(
            f"the {quantity} is not finite at point {k}. Check the problem's per-sample losses there "
            "(overflow in exp or log, a division by zero), or shrink its bounds."
        )
    return values
