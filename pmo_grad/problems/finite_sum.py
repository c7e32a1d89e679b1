"""Finite-sum problems: objectives that are averages over n samples, evaluated on chosen samples.

A finite-sum problem has m objectives of the form

    f_s(x) = (1/n) Σ_{j=1}^{n} f_{s,j}(x),      s = 1, …, m,

and computes, for points X (K × d) and a set of sample indices A (shared by all K points),

    values:    (1/|A|) Σ_{j∈A} f_{s,j}(x_k)                      shape (K, m)
    Jacobian:  (1/|A|) Σ_{j∈A} ∇f_{s,j}(x_k)                     shape (K, m, d)
    weighted:  (1/|A|) Σ_{j∈A} ∇(Σ_s λ_ks f_{s,j})(x_k)           shape (K, d)

The algorithm, through its estimator, decides which samples each step uses. Plain
``evaluate(X)`` returns the full-data objectives (and ``out["dF"]`` when asked), so pymoo's
indicators, NSGA-II and the deterministic gradient methods work unchanged. Every full-data
pass accumulates over chunks of ``chunk_size`` samples, so memory does not grow with n.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import numpy as np
from pymoo.core.problem import Problem


def _check_chunk_size(chunk_size: int) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1 (samples per chunk), got {chunk_size!r}")
    return int(chunk_size)


class FiniteSumProblem(Problem):
    """Base class of finite-sum problems (see the module docstring).

    Subclasses implement :meth:`_sample_values` and :meth:`_sample_jacobian` for one chunk of
    sample indices; they may override :meth:`_sample_weighted_gradient` when the weighted
    gradient is cheaper than the Jacobian.

    Parameters
    ----------
    n_samples:
        Number of samples n.
    chunk_size:
        Largest number of samples evaluated at once.
    **kwargs:
        Those of pymoo's ``Problem`` (``n_var``, ``n_obj``, ``xl``, ``xu``, …).
    """

    def __init__(self, n_samples: int, chunk_size: int = 1024, **kwargs) -> None:
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
        super().__init__(**kwargs)
        self.n_samples = int(n_samples)
        self.chunk_size = _check_chunk_size(chunk_size)

    # ------------------------------------------------------------------ per-chunk hooks

    @abstractmethod
    def _sample_values(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Return Σ_{j∈indices} f_{s,j}(x_k), shape (K, m): the sum, not the mean."""

    @abstractmethod
    def _sample_jacobian(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Return Σ_{j∈indices} ∇f_{s,j}(x_k), shape (K, m, d): the sum, not the mean."""

    def _sample_weighted_gradient(self, X: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Return Σ_{j∈indices} ∇(Σ_s λ_ks f_{s,j})(x_k), shape (K, d)."""
        return np.einsum("ks,ksd->kd", weights, self._sample_jacobian(X, indices))

    # ------------------------------------------------------------------ public

    def check_indices(self, indices: np.ndarray | None) -> np.ndarray:
        """Return ``indices`` as a 1-D int64 array within [0, n), or all samples for None."""
        if indices is None:
            return np.arange(self.n_samples)
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"sample indices must be a non-empty 1-D integer array, got {idx.dtype} of shape {idx.shape}")
        if idx.min() < 0 or idx.max() >= self.n_samples:
            raise ValueError(
                f"sample indices must lie in [0, {self.n_samples}), got values from {idx.min()} to {idx.max()}"
            )
        return idx.astype(np.int64, copy=False)

    def _validated_points(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"points must have shape (K, n_var) = (K, {self.n_var}), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("points contain NaN or infinite values; pass finite points inside [xl, xu]")
        return X

    def _validated_weights(self, weights: np.ndarray, n_points: int) -> np.ndarray:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (n_points, self.n_obj):
            raise ValueError(f"weights must have shape (K, n_obj) = ({n_points}, {self.n_obj}), got {weights.shape}")
        return weights

    def _chunks(self, indices: np.ndarray):
        for start in range(0, len(indices), self.chunk_size):
            yield indices[start:start + self.chunk_size]

    def sample_values(self, X: np.ndarray, indices: np.ndarray | None = None) -> np.ndarray:
        """Return the objectives averaged over ``indices`` (all samples for None), shape (K, m)."""
        idx = self.check_indices(indices)
        X = self._validated_points(X)
        total = sum(self._sample_values(X, chunk) for chunk in self._chunks(idx))
        return total / len(idx)

    def sample_jacobian(self, X: np.ndarray, indices: np.ndarray | None = None) -> np.ndarray:
        """Return the Jacobians averaged over ``indices`` (all samples for None), shape (K, m, d)."""
        idx = self.check_indices(indices)
        X = self._validated_points(X)
        total = sum(self._sample_jacobian(X, chunk) for chunk in self._chunks(idx))
        return total / len(idx)

    def sample_weighted_gradient(
        self, X: np.ndarray, weights: np.ndarray, indices: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the weighted gradients averaged over ``indices``, shape (K, d)."""
        idx = self.check_indices(indices)
        X = self._validated_points(X)
        weights = self._validated_weights(weights, len(X))
        total = sum(self._sample_weighted_gradient(X, chunk, weights) for chunk in self._chunks(idx))
        return total / len(idx)

    def default_batch_size(self) -> int:
        """Return ⌈√n⌉, the sample-set size of the recursive (SPIDER/SARAH) estimator."""
        return math.ceil(math.sqrt(self.n_samples))

    def _evaluate(self, x, out, *args, **kwargs):
        X = np.atleast_2d(np.asarray(x, dtype=float))
        out["F"] = self.sample_values(X)
        if "dF" in out:
            out["dF"] = self.sample_jacobian(X)
