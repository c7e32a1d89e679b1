"""Binary logistic regression with one objective per group of samples.

One model x = (w, b) is shared by all groups, and objective s is its regularized mean
logistic loss on the samples of group s:

    f_s(x) = (1/n_s) Σ_{j: g_j = s} ℓ(x; a_j, y_j) + (l2/2)‖w‖²,
    ℓ(x; a, y) = log(1 + exp(−ỹ (aᵀw + b))),      ỹ = 2y − 1 ∈ {−1, +1}.

Groups whose best models differ (for example patients split by a measurement) give
conflicting objectives, and the Pareto set contains the trade-offs between them.

The finite-sum form runs over all n samples, so that a minibatch drawn uniformly from all
samples is an unbiased estimate of every objective at once:

    f_{s,j}(x) = (n / n_s) · 1[g_j = s] · ℓ(x; a_j, y_j) + (l2/2)‖w‖²,
    f_s(x) = (1/n) Σ_j f_{s,j}(x).

The losses are in nats (natural logarithm) per sample.
"""

from __future__ import annotations

import logging
import numbers
from typing import Any

import numpy as np
from scipy.special import expit

from pmo_grad.problems.data_checks import check_real, finite_matrix, standardize
from pmo_grad.problems.finite_sum import FiniteSumProblem

logger = logging.getLogger(__name__)

# Grouping feature of the breast-cancer factory (see GroupLogisticRegression.breast_cancer_groups).
BREAST_CANCER_GROUP_FEATURE = "mean texture"


def _binary_labels(labels: Any, n_samples: int) -> np.ndarray:
    """Convert ``labels`` to an int array of 0 and 1, raising ValueError for any other value or shape."""
    try:
        array = np.asarray(labels, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"labels must be numeric 0/1 values, got {type(labels).__name__}") from exc
    if array.shape != (n_samples,):
        raise ValueError(f"labels must have shape ({n_samples},), one per row of features, got {array.shape}")
    invalid = ~np.isin(array, (0.0, 1.0))
    if np.any(invalid):
        raise ValueError(
            f"labels must be 0 or 1, got {float(array[invalid][0])!r} at index {np.flatnonzero(invalid)[0]}. "
            "Encode the classes as 0 and 1, for example (labels == positive_class).astype(int)."
        )
    return array.astype(np.int64)


def _group_indices(groups: Any, n_samples: int) -> tuple[np.ndarray, int]:
    """Validate ``groups`` and return it as an int64 array, with the number of groups m.

    Groups must be numbered 0, …, m − 1 with m >= 2 and no empty group.
    """
    array = np.asarray(groups)
    if array.shape != (n_samples,):
        raise ValueError(f"groups must have shape ({n_samples},), one per row of features, got {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"groups must be integers 0, …, m − 1, got dtype {array.dtype}. "
            "Convert group labels with np.unique(labels, return_inverse=True)[1]."
        )
    if array.min() < 0:
        raise ValueError(f"groups must be integers >= 0, got {array.min()} at index {int(np.argmin(array))}")
    n_groups = int(array.max()) + 1
    if n_groups < 2:
        raise ValueError(
            "groups must contain at least 2 groups, because each group is one objective of a "
            "multi-objective problem; got only group 0"
        )
    counts = np.bincount(array, minlength=n_groups)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"group(s) {empty.tolist()} have no samples, but groups must be numbered 0, …, {n_groups - 1} "
            "without gaps. Renumber them with np.unique(groups, return_inverse=True)[1]."
        )
    return array.astype(np.int64), n_groups


def _quantile_groups(values: np.ndarray, n_groups: int) -> np.ndarray:
    """Return group numbers 0, …, n_groups − 1 that cut the samples sorted by ``values`` into blocks.

    The samples are sorted by value (stable, so ties keep the sample order) and split into
    ``n_groups`` consecutive blocks whose sizes differ by at most one. Group 0 contains the
    smallest values.
    """
    if isinstance(n_groups, bool) or not isinstance(n_groups, numbers.Integral) or not 2 <= n_groups <= len(values):
        raise ValueError(
            f"n_groups must be an integer from 2 to {len(values)} (the number of samples), got {n_groups!r}"
        )
    order = np.argsort(values, kind="stable")
    groups = np.empty(len(values), dtype=np.int64)
    for group, block in enumerate(np.array_split(order, n_groups)):
        groups[block] = group
    return groups


class GroupLogisticRegression(FiniteSumProblem):
    """Binary logistic regression whose m objectives are the mean losses of m sample groups.

    Objective s, for x = (w, b) with w ∈ R^p and intercept b::

        f_s(x) = (1/n_s) Σ_{j: g_j = s} log(1 + exp(−ỹ_j (a_jᵀw + b))) + (l2/2)‖w‖²

    where a_j are the standardized features, ỹ_j = 2 y_j − 1 and n_s is the size of group s.
    The loss is in nats per sample, and the intercept is not regularized. The gradient is

        ∇_w f_s = −(1/n_s) Σ_{j: g_j = s} σ(−z_j) ỹ_j a_j + l2·w,
        ∂f_s/∂b = −(1/n_s) Σ_{j: g_j = s} σ(−z_j) ỹ_j,          z_j = ỹ_j (a_jᵀw + b),

    with σ the logistic sigmoid. The finite-sum form and its unbiased minibatches are
    described in the module docstring. The Pareto front is not known in closed form.

    Parameters
    ----------
    features:
        Raw features, shape (n, p), finite.
    labels:
        Class labels 0 or 1, shape (n,). The model predicts P(y = 1 | a) = σ(aᵀw + b).
    groups:
        Group number of each sample, integers 0, …, m − 1 with m >= 2 and no empty group.
    l2:
        Ridge coefficient on w, >= 0. A positive value keeps w finite at a group optimum when
        the group is linearly separable. The intercept is not regularized, so a group whose
        samples all share one label has its optimum at b → ±∞, and only the box limits b.
    fit_intercept:
        Whether x contains the intercept b as its last variable (d = p + 1) or not (d = p).
    bound:
        Half-width of the box: every variable lies in [−bound, bound].
    chunk_size:
        Largest number of samples evaluated at once.

    Attributes
    ----------
    features:
        Standardized features (a − feature_mean) / feature_scale, shape (n, p). A model
        (w, b) on these applies to raw features as w_raw = w / feature_scale and
        b_raw = b − Σ_i w_i · feature_mean_i / feature_scale_i.
    feature_mean, feature_scale:
        Column means and population standard deviations of the raw features, shape (p,).
        A constant column has scale 1.
    group_sizes:
        Number of samples n_s in each group, shape (m,).
    feature_names:
        Names of the p features when the problem comes from a factory, otherwise None.
    """

    def __init__(
        self,
        features: Any,
        labels: Any,
        groups: Any,
        l2: float = 1e-3,
        fit_intercept: bool = True,
        bound: float = 10.0,
        chunk_size: int = 1024,
    ) -> None:
        raw = finite_matrix("features", features, min_columns=1)
        n_samples, n_features = raw.shape
        labels = _binary_labels(labels, n_samples)
        groups, n_groups = _group_indices(groups, n_samples)
        self.l2 = check_real("l2", l2, positive=False)
        bound = check_real("bound", bound, positive=True)
        self.fit_intercept = bool(fit_intercept)
        super().__init__(
            n_samples=n_samples,
            chunk_size=chunk_size,
            n_var=n_features + int(self.fit_intercept),
            n_obj=n_groups,
            xl=-bound,
            xu=bound,
            vtype=float,
        )
        self.bound = bound
        self.features, self.feature_mean, self.feature_scale = standardize(raw)
        self.labels = labels
        self.signs = 2.0 * labels - 1.0
        self.groups = groups
        self.group_sizes = np.bincount(groups, minlength=n_groups)
        # n / n_s for each sample, so that the mean over all n samples is the mean over group s.
        self.sample_scale = n_samples / self.group_sizes[groups]
        self.feature_names: list[str] | None = None
        logger.debug(
            "GroupLogisticRegression: %d samples, %d features, group sizes %s",
            n_samples, n_features, self.group_sizes.tolist(),
        )

    # ------------------------------------------------------------------ factories

    @classmethod
    def breast_cancer_groups(
        cls,
        n_groups: int = 2,
        feature: str = BREAST_CANCER_GROUP_FEATURE,
        l2: float = 1e-3,
        fit_intercept: bool = True,
        bound: float = 10.0,
        chunk_size: int = 1024,
    ) -> GroupLogisticRegression:
        """Build the problem from scikit-learn's breast cancer data, grouped by one feature.

        The data (569 samples, 30 features) ships inside scikit-learn. Label 1 is benign and
        label 0 malignant. The samples are sorted by ``feature`` and cut into ``n_groups``
        blocks of equal size (±1, stable sort). Group 0 has the smallest values. All 30
        features stay in the model, the grouping feature included.

        The default, "mean texture" (the standard deviation of gray-scale values in the
        image), leaves both classes in every group (84 % and 42 % benign for two groups).
        The two groups prefer different models. With the defaults, group 0's loss is 0.039
        nats at its own optimum and 0.125 at group 1's. Group 1's loss is 0.050 at its own
        optimum and 0.202 at group 0's, so each loss triples or quadruples.
        """
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        names = [str(name) for name in data.feature_names]
        if feature not in names:
            raise ValueError(f"feature must be one of the breast cancer feature names {names}, got {feature!r}")
        groups = _quantile_groups(data.data[:, names.index(feature)], n_groups)
        problem = cls(
            data.data, data.target, groups, l2=l2, fit_intercept=fit_intercept, bound=bound, chunk_size=chunk_size
        )
        problem.feature_names = names
        return problem

    # ------------------------------------------------------------------ finite-sum hooks

    def _weights_and_bias(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"points must have shape (K, n_var) = (K, {self.n_var}), got {X.shape}")
        if self.fit_intercept:
            return X[:, :-1], X[:, -1]
        return X, np.zeros(len(X))

    def _margins(self, X: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the weights w (K × p) and the margins z_kj = ỹ_j (a_jᵀw_k + b_k), shape (K, B)."""
        w, b = self._weights_and_bias(X)
        margins = (w @ self.features[indices].T + b[:, None]) * self.signs[indices]
        return w, margins

    def _loss_slopes(self, margins: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Return (n / n_g) ∂ℓ/∂(aᵀw + b) = −(n / n_g) σ(−z) ỹ per point and sample, shape (K, B)."""
        return -expit(-margins) * (self.signs[indices] * self.sample_scale[indices])

    def _sample_values(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        w, margins = self._margins(X, indices)
        # log(1 + exp(−z)) without overflow for large |z|.
        losses = np.logaddexp(0.0, -margins) * self.sample_scale[indices]
        membership = self.groups[indices][:, None] == np.arange(self.n_obj)
        penalty = len(indices) * 0.5 * self.l2 * np.sum(w**2, axis=1)
        return losses @ membership + penalty[:, None]

    def _sample_jacobian(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        w, margins = self._margins(X, indices)
        slopes = self._loss_slopes(margins, indices)
        features = self.features[indices]
        sample_groups = self.groups[indices]
        n_features = features.shape[1]

        jacobian = np.zeros((len(X), self.n_obj, self.n_var))
        for group in np.unique(sample_groups):
            in_group = sample_groups == group
            jacobian[:, group, :n_features] = slopes[:, in_group] @ features[in_group]
            if self.fit_intercept:
                jacobian[:, group, -1] = slopes[:, in_group].sum(axis=1)
        jacobian[:, :, :n_features] += len(indices) * self.l2 * w[:, None, :]
        return jacobian

    def _sample_weighted_gradient(self, X: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if weights.shape != (len(X), self.n_obj):
            raise ValueError(f"weights must have shape (K, n_obj) = ({len(X)}, {self.n_obj}), got {weights.shape}")
        w, margins = self._margins(X, indices)
        # Sample j enters only objective g_j, so its slope is scaled by that objective's weight.
        slopes = self._loss_slopes(margins, indices) * weights[:, self.groups[indices]]
        gradient = np.empty((len(X), self.n_var))
        n_features = w.shape[1]
        gradient[:, :n_features] = slopes @ self.features[indices]
        gradient[:, :n_features] += len(indices) * self.l2 * weights.sum(axis=1)[:, None] * w
        if self.fit_intercept:
            gradient[:, -1] = slopes.sum(axis=1)
        return gradient
