"""Ridge regression of one shared linear model on m target columns, one objective per target.

With standardized features a_j ∈ R^p, standardized targets y_{j,s} and x = (w, b),

    f_s(x) = (1/n) Σ_j ½ (a_jᵀw + b − y_{j,s})² + (l2/2)‖w‖²,      s = 1, …, m.

Different targets ask the same model for different predictions, so the objectives conflict.
Every f_s is the same strongly convex quadratic up to its linear term,

    f_s(x) = ½ xᵀHx − g_sᵀx + c_s,   H = ÃᵀÃ/n + l2·diag(1, …, 1, 0),   g_s = Ãᵀy_s/n,

where Ã is the design matrix [A, 𝟙] (or A without intercept). The minimizer of a weighted sum
Σ_s λ_s f_s with λ on the simplex is therefore x(λ) = Σ_s λ_s x*_s with x*_s = H⁻¹g_s, as long
as it lies in the box. The Pareto set is the convex hull of the m individual minimizers,
and because the problem is convex every Pareto point is such a weighted-sum minimizer.

The finite-sum form is f_{s,j}(x) = ½ (a_jᵀw + b − y_{j,s})² + (l2/2)‖w‖². Because the
targets are standardized, an objective value is half a mean squared error in units of that
target's variance.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import lsq_linear

from pmo_grad.problems.data_checks import check_real, finite_matrix, standardize
from pmo_grad.problems.finite_sum import FiniteSumProblem

logger = logging.getLogger(__name__)

# H counts as singular when its smallest eigenvalue is below this fraction of its largest.
_SINGULAR_RATIO = 1e-12


def _select_columns(requested: Sequence[str | int], names: Sequence[str], argument: str) -> list[int]:
    """Return the column indices of ``requested`` names or indices, at least 2 and no repeats."""
    if isinstance(requested, (str, bytes)) or not isinstance(requested, Sequence):
        raise ValueError(f"{argument} must be a sequence of names or indices from {list(names)}, got {requested!r}")
    columns = []
    for item in requested:
        if isinstance(item, str) and item in names:
            columns.append(list(names).index(item))
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool) and 0 <= item < len(names):
            columns.append(int(item))
        else:
            raise ValueError(f"{argument} must be names or indices from {list(names)}, got {item!r}")
    if len(columns) < 2 or len(set(columns)) != len(columns):
        raise ValueError(f"{argument} must name at least 2 distinct columns of {list(names)}, got {list(requested)!r}")
    return columns


class MultiTargetLeastSquares(FiniteSumProblem):
    """Ridge regression with one shared model and one objective per target column.

    Objective s, for x = (w, b) with w ∈ R^p and intercept b::

        f_s(x) = (1/n) Σ_j ½ (a_jᵀw + b − y_{j,s})² + (l2/2)‖w‖²
        ∇f_s(x) = Hx − g_s

    with a_j the standardized features, y_{j,s} the standardized targets, and H, g_s as in
    the module docstring. The intercept is not regularized. Because all objectives share H,
    the minimizer of any weighted sum is a convex combination of the individual minimizers
    (see :meth:`pareto_set_point`), and :meth:`pareto_front` returns exact front points.

    Parameters
    ----------
    features:
        Raw features, shape (n, p), finite.
    targets:
        Raw targets, shape (n, m) with m >= 2, finite. Column s defines objective s.
    l2:
        Ridge coefficient on w, >= 0. With l2 = 0 the closed forms need ÃᵀÃ to be
        invertible (linearly independent feature columns); a positive l2 always suffices.
    fit_intercept:
        Whether x contains the intercept b as its last variable (d = p + 1) or not (d = p).
        Since features and targets are centered, the optimal intercept is 0.
    bound:
        Half-width of the box: every variable lies in [−bound, bound].
    chunk_size:
        Largest number of samples evaluated at once.

    Attributes
    ----------
    features, targets:
        Standardized arrays (value − mean) / scale, shapes (n, p) and (n, m).
    feature_mean, feature_scale, target_mean, target_scale:
        Column means and population standard deviations of the raw arrays. A constant
        column has scale 1.
    hessian:
        H, shape (d, d), shared by all objectives.
    linear_terms:
        g_s as rows, shape (m, d).
    feature_names, target_names:
        Column names when the problem comes from a factory, otherwise None.
    """

    def __init__(
        self,
        features: Any,
        targets: Any,
        l2: float = 1e-3,
        fit_intercept: bool = True,
        bound: float = 10.0,
        chunk_size: int = 1024,
    ) -> None:
        raw_features = finite_matrix("features", features, min_columns=1)
        raw_targets = finite_matrix("targets", targets, min_columns=2)
        n_samples, n_features = raw_features.shape
        if raw_targets.shape[0] != n_samples:
            raise ValueError(
                f"targets must have one row per sample: features have {n_samples} rows, "
                f"targets {raw_targets.shape[0]}"
            )
        self.l2 = check_real("l2", l2, positive=False)
        bound = check_real("bound", bound, positive=True)
        self.fit_intercept = bool(fit_intercept)
        super().__init__(
            n_samples=n_samples,
            chunk_size=chunk_size,
            n_var=n_features + int(self.fit_intercept),
            n_obj=raw_targets.shape[1],
            xl=-bound,
            xu=bound,
            vtype=float,
        )
        self.bound = bound
        self.features, self.feature_mean, self.feature_scale = standardize(raw_features)
        self.targets, self.target_mean, self.target_scale = standardize(raw_targets)
        self.feature_names: list[str] | None = None
        self.target_names: list[str] | None = None

        design = self._design(np.arange(n_samples))
        penalty = np.full(self.n_var, self.l2)
        if self.fit_intercept:
            penalty[-1] = 0.0
        self.hessian = design.T @ design / n_samples + np.diag(penalty)
        self.linear_terms = self.targets.T @ design / n_samples
        self._hessian_factor: tuple[np.ndarray, bool] | None = None

    # ------------------------------------------------------------------ factories

    @classmethod
    def linnerud(
        cls,
        targets: Sequence[str | int] = ("Weight", "Waist", "Pulse"),
        l2: float = 1e-3,
        fit_intercept: bool = True,
        bound: float = 10.0,
        chunk_size: int = 1024,
    ) -> MultiTargetLeastSquares:
        """Build the problem from scikit-learn's Linnerud data (20 samples).

        Features: the exercise counts Chins, Situps and Jumps. Targets: the physiological
        measurements Weight, Waist and Pulse, all three by default, or the names or column
        indices (0, 1, 2) given in ``targets``, at least two.
        """
        from sklearn.datasets import load_linnerud

        data = load_linnerud()
        target_names = [str(name) for name in data.target_names]
        columns = _select_columns(targets, target_names, "targets")
        problem = cls(
            data.data, data.target[:, columns], l2=l2, fit_intercept=fit_intercept, bound=bound, chunk_size=chunk_size
        )
        problem.feature_names = [str(name) for name in data.feature_names]
        problem.target_names = [target_names[c] for c in columns]
        return problem

    @classmethod
    def diabetes_two_targets(
        cls,
        l2: float = 1e-3,
        fit_intercept: bool = True,
        bound: float = 10.0,
        chunk_size: int = 1024,
    ) -> MultiTargetLeastSquares:
        """Build a two-target problem from scikit-learn's diabetes data (442 samples).

        The raw data (``load_diabetes(scaled=False)``) has 10 features and one target.
        Target 0 is that target, a measure of disease progression one year after baseline.
        Target 1 is the body mass index column 'bmi', which is removed from the features.
        The remaining 9 features are age, sex, bp, s1, s2, s3, s4, s5 and s6. Both targets
        depend on these features with different coefficients, so the objectives conflict,
        though mildly. With the defaults, f_0 is 0.276 at its minimizer and 0.295 at that of
        f_1. f_1 is 0.332 at its minimizer and 0.351 at that of f_0.
        """
        from sklearn.datasets import load_diabetes

        data = load_diabetes(scaled=False)
        names = [str(name) for name in data.feature_names]
        bmi = names.index("bmi")
        feature_columns = [i for i in range(len(names)) if i != bmi]
        targets = np.column_stack([data.target, data.data[:, bmi]])
        problem = cls(
            data.data[:, feature_columns],
            targets,
            l2=l2,
            fit_intercept=fit_intercept,
            bound=bound,
            chunk_size=chunk_size,
        )
        problem.feature_names = [names[i] for i in feature_columns]
        problem.target_names = ["progression", "bmi"]
        return problem

    # ------------------------------------------------------------------ closed forms

    def _design(self, indices: np.ndarray) -> np.ndarray:
        """Return the rows [a_j, 1] (or a_j without intercept) of the given samples, shape (B, d)."""
        rows = self.features[indices]
        if self.fit_intercept:
            return np.column_stack([rows, np.ones(len(rows))])
        return rows

    def _factor(self) -> tuple[np.ndarray, bool]:
        """Return the Cholesky factor of H, or raise ValueError when H is (numerically) singular."""
        if self._hessian_factor is None:
            eigenvalues = np.linalg.eigvalsh(self.hessian)
            if eigenvalues[0] <= _SINGULAR_RATIO * eigenvalues[-1]:
                raise ValueError(
                    f"the objectives are not strongly convex (smallest Hessian eigenvalue {eigenvalues[0]:.3g}, "
                    f"largest {eigenvalues[-1]:.3g}) because the feature columns are linearly dependent and "
                    f"l2 = {self.l2}. Pass l2 > 0 so that the minimizers are unique."
                )
            self._hessian_factor = cho_factor(self.hessian)
        return self._hessian_factor

    def _check_weights(self, weights: Any) -> np.ndarray:
        array = np.asarray(weights, dtype=float)
        if array.shape != (self.n_obj,):
            raise ValueError(f"weights must have shape (n_obj,) = ({self.n_obj},), got {array.shape}")
        if not np.all(np.isfinite(array)) or np.any(array < 0) or array.sum() <= 0:
            raise ValueError(
                f"weights must be finite, >= 0 and not all zero, got {array.tolist()}. "
                "Pass one non-negative weight per objective, for example np.full(n_obj, 1 / n_obj)."
            )
        return array / array.sum()

    def objective_values(self, X: np.ndarray) -> np.ndarray:
        """Return f_s(x_k) = ½ xᵀHx − g_sᵀx + c_s from the quadratic form, shape (K, m).

        Equal to the full-data ``evaluate`` up to rounding, at O(d²) cost per point instead of O(n·d).
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        self._check_points(X)
        constants = 0.5 * np.mean(self.targets**2, axis=0)
        quadratic = 0.5 * np.einsum("kd,de,ke->k", X, self.hessian, X)
        return quadratic[:, None] - X @ self.linear_terms.T + constants

    def pareto_set_point(self, weights: Any) -> np.ndarray:
        """Return the minimizer over the box of Σ_s λ_s f_s, shape (d,).

        ``weights`` λ (shape (m,), >= 0, not all zero) is normalized to sum 1, which does not
        move the minimizer. The unconstrained minimizer is H⁻¹ Σ_s λ_s g_s. When it leaves
        the box, the box-constrained minimizer is found by bounded-variable least squares
        (scipy's ``lsq_linear`` with ``method="bvls"``), which is exact up to rounding.
        Raises ValueError when H is singular (l2 = 0 with dependent features).
        """
        weights = self._check_weights(weights)
        factor = self._factor()
        rhs = weights @ self.linear_terms
        point = cho_solve(factor, rhs)
        if np.all(np.abs(point) <= self.bound):
            return point

        # ½xᵀHx − rhsᵀx = ½‖Rx − v‖² + const, with H = RᵀR (R upper triangular) and Rᵀv = rhs.
        upper = np.triu(factor[0]) if not factor[1] else np.tril(factor[0]).T
        target = np.linalg.solve(upper.T, rhs)
        result = lsq_linear(upper, target, bounds=(-self.bound, self.bound), method="bvls", tol=1e-14)
        logger.debug("weighted-sum minimizer for weights %s lies on the box boundary", weights.tolist())
        return result.x

    def objective_minimizers(self) -> np.ndarray:
        """Return the minimizer over the box of each objective alone, one row per objective, shape (m, d)."""
        return np.array([self.pareto_set_point(np.eye(self.n_obj)[s]) for s in range(self.n_obj)])

    def _pareto_weights(self, n_pareto_points: int) -> np.ndarray:
        """Return simplex weights: λ = (1 − t, t) with t evenly spaced for m = 2, a Das-Dennis lattice otherwise."""
        is_integer = isinstance(n_pareto_points, numbers.Integral) and not isinstance(n_pareto_points, bool)
        if not is_integer or n_pareto_points < 2:
            raise ValueError(f"n_pareto_points must be an integer >= 2, got {n_pareto_points!r}")
        if self.n_obj == 2:
            t = np.linspace(0.0, 1.0, n_pareto_points)
            return np.column_stack([1.0 - t, t])

        from pymoo.util.ref_dirs import get_reference_directions

        # Smallest Das-Dennis lattice with at least n_pareto_points points.
        partitions = 1
        while math.comb(partitions + self.n_obj - 1, self.n_obj - 1) < n_pareto_points:
            partitions += 1
        return get_reference_directions("das-dennis", self.n_obj, n_partitions=partitions)

    def _calc_pareto_set(self, n_pareto_points: int = 100) -> np.ndarray:
        """Return the weighted-sum minimizers of :meth:`_pareto_weights`, one row per point.

        For m = 2 there are exactly ``n_pareto_points`` rows, from the minimizer of f_0 to
        that of f_1. For m >= 3 the rows follow the smallest Das-Dennis simplex lattice with
        at least ``n_pareto_points`` points, so there may be more rows than requested.
        """
        return np.array([self.pareto_set_point(weights) for weights in self._pareto_weights(n_pareto_points)])

    def _calc_pareto_front(self, n_pareto_points: int = 100) -> np.ndarray:
        """Return the objective values of :meth:`_calc_pareto_set`, exact up to rounding.

        Every weighted-sum minimizer of this strongly convex problem is Pareto optimal, and
        every Pareto optimal point minimizes some weighted sum, so these points lie on the
        front and cover it as λ covers the simplex.
        """
        return self.objective_values(self._calc_pareto_set(n_pareto_points))

    # ------------------------------------------------------------------ finite-sum hooks

    def _check_points(self, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"points must have shape (K, n_var) = (K, {self.n_var}), got {X.shape}")

    def _residuals(self, X: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the design rows (B × d) and residuals r_kjs = ã_jᵀx_k − y_{j,s}, shape (K, B, m)."""
        self._check_points(X)
        design = self._design(indices)
        predictions = X @ design.T
        return design, predictions[:, :, None] - self.targets[indices][None, :, :]

    def _penalty_gradient(self, X: np.ndarray) -> np.ndarray:
        """Return l2·(w, 0) for every point, shape (K, d)."""
        gradient = self.l2 * X
        if self.fit_intercept:
            gradient[:, -1] = 0.0
        return gradient

    def _sample_values(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        _, residuals = self._residuals(X, indices)
        weights = X[:, :-1] if self.fit_intercept else X
        penalty = len(indices) * 0.5 * self.l2 * np.sum(weights**2, axis=1)
        return 0.5 * np.sum(residuals**2, axis=1) + penalty[:, None]

    def _sample_jacobian(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        design, residuals = self._residuals(X, indices)
        jacobian = np.einsum("kbs,bd->ksd", residuals, design)
        return jacobian + len(indices) * self._penalty_gradient(X)[:, None, :]

    def _sample_weighted_gradient(self, X: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if weights.shape != (len(X), self.n_obj):
            raise ValueError(f"weights must have shape (K, n_obj) = ({len(X)}, {self.n_obj}), got {weights.shape}")
        design, residuals = self._residuals(X, indices)
        weighted_residuals = np.einsum("kbs,ks->kb", residuals, weights)
        penalty = len(indices) * weights.sum(axis=1)[:, None] * self._penalty_gradient(X)
        return weighted_residuals @ design + penalty
