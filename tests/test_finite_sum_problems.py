"""Tests of the finite-sum problems: GroupLogisticRegression, MultiTargetLeastSquares, NoisyGradients.

Values are checked against formulas written independently here (scikit-learn's log_loss,
mean_squared_error, StandardScaler and Ridge), Jacobians against central differences, and
the finite-sum bookkeeping (subsets, chunks, singletons) against the full-data results.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.gradient.automatic import AutomaticDifferentiation
from pymoo.optimize import minimize
from pymoo.problems import get_problem
from scipy.optimize import minimize as scipy_minimize
from scipy.special import expit
from scipy.stats import chi2
from sklearn.datasets import load_breast_cancer, load_diabetes, load_linnerud
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.preprocessing import StandardScaler

from pmo_grad import MGDA, ConstantStep
from pmo_grad.problems.least_squares import MultiTargetLeastSquares
from pmo_grad.problems.logistic import GroupLogisticRegression
from pmo_grad.problems.noisy import NoisyGradients
from pmo_grad.problems.quadratic import ConvexQuadraticPair

FINITE_DIFFERENCE_STEP = 1e-6


# --------------------------------------------------------------------------------------------
# Problem builders
# --------------------------------------------------------------------------------------------


def make_logistic(chunk_size=1024, fit_intercept=True, l2=0.05):
    """40 samples, 4 features on different scales, 3 interleaved groups."""
    rng = np.random.default_rng(11)
    features = rng.normal(size=(40, 4)) * np.array([1.0, 2.0, 0.5, 3.0]) + 5.0
    labels = (rng.uniform(size=40) < expit(features[:, 0] - features[:, 1] + 5.0)).astype(int)
    groups = np.arange(40) % 3
    return GroupLogisticRegression(
        features, labels, groups, l2=l2, fit_intercept=fit_intercept, chunk_size=chunk_size
    )


def make_least_squares(chunk_size=1024, fit_intercept=True, l2=0.05, bound=10.0):
    """30 samples, 4 features, 2 targets from different linear models plus noise."""
    rng = np.random.default_rng(12)
    features = rng.normal(size=(30, 4)) * np.array([1.0, 3.0, 0.2, 1.5]) - 2.0
    targets = np.column_stack([
        features @ np.array([1.0, -0.5, 2.0, 0.0]) + rng.normal(size=30),
        features @ np.array([-1.0, 0.3, 0.0, 1.0]) + rng.normal(size=30) + 4.0,
    ])
    return MultiTargetLeastSquares(
        features, targets, l2=l2, fit_intercept=fit_intercept, bound=bound, chunk_size=chunk_size
    )


def make_noisy_native(chunk_size=1024):
    """ConvexQuadraticPair sets out["dF"] itself."""
    return NoisyGradients(ConvexQuadraticPair(n_var=5), sigma=0.3, n_samples=50, seed=5, chunk_size=chunk_size)


def make_noisy_autograd(chunk_size=1024):
    """ZDT2 is written with pymoo.gradient.toolbox, so its Jacobian comes from autograd."""
    return NoisyGradients(get_problem("zdt2", n_var=6), sigma=0.3, n_samples=50, seed=6, chunk_size=chunk_size)


PROBLEM_BUILDERS = {
    "logistic": make_logistic,
    "logistic_no_intercept": lambda chunk_size=1024: make_logistic(chunk_size, fit_intercept=False),
    "least_squares": make_least_squares,
    "least_squares_no_intercept": lambda chunk_size=1024: make_least_squares(chunk_size, fit_intercept=False),
    "noisy_native": make_noisy_native,
    "noisy_autograd": make_noisy_autograd,
}


def interior_points(problem, n_points, seed):
    """Return points in the middle half of the box, where every problem here is smooth."""
    rng = np.random.default_rng(seed)
    low = problem.xl + 0.25 * (problem.xu - problem.xl)
    high = problem.xu - 0.25 * (problem.xu - problem.xl)
    if np.all(high - low > 2.0):
        # The logistic and least-squares boxes are wide, so keep the points where the losses are moderate.
        low, high = np.full(problem.n_var, -1.0), np.full(problem.n_var, 1.0)
    return rng.uniform(low, high, size=(n_points, problem.n_var))


def central_difference_jacobian(values, X, step=FINITE_DIFFERENCE_STEP):
    """Return the (K, m, d) Jacobian of ``values`` (a map (K, d) → (K, m)) by central differences."""
    n_points, n_var = X.shape
    columns = []
    for i in range(n_var):
        shift = np.zeros(n_var)
        shift[i] = step
        columns.append((values(X + shift) - values(X - shift)) / (2.0 * step))
    return np.stack(columns, axis=2)


# --------------------------------------------------------------------------------------------
# Finite-sum bookkeeping, for every problem
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
def test_subset_equals_mean_of_singletons(name):
    problem = PROBLEM_BUILDERS[name]()
    X = interior_points(problem, 3, seed=1)
    indices = np.array([5, 0, 11, 5, 2, problem.n_samples - 1])
    weights = np.random.default_rng(2).uniform(0.1, 2.0, size=(3, problem.n_obj))

    values = problem.sample_values(X, indices)
    jacobian = problem.sample_jacobian(X, indices)
    weighted = problem.sample_weighted_gradient(X, weights, indices)

    singleton_values = np.mean([problem.sample_values(X, [j]) for j in indices], axis=0)
    singleton_jacobians = np.mean([problem.sample_jacobian(X, [j]) for j in indices], axis=0)
    singleton_weighted = np.mean([problem.sample_weighted_gradient(X, weights, [j]) for j in indices], axis=0)
    assert values.shape == (3, problem.n_obj)
    assert jacobian.shape == (3, problem.n_obj, problem.n_var)
    assert weighted.shape == (3, problem.n_var)
    np.testing.assert_allclose(values, singleton_values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jacobian, singleton_jacobians, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weighted, singleton_weighted, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
def test_singleton_average_equals_full_data(name):
    problem = PROBLEM_BUILDERS[name]()
    X = interior_points(problem, 2, seed=3)
    all_samples = range(problem.n_samples)

    singleton_values = np.mean([problem.sample_values(X, [j]) for j in all_samples], axis=0)
    singleton_jacobians = np.mean([problem.sample_jacobian(X, [j]) for j in all_samples], axis=0)
    F, dF = problem.evaluate(X, return_values_of=["F", "dF"])

    np.testing.assert_allclose(singleton_values, F, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(singleton_jacobians, dF, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
def test_full_jacobian_matches_central_differences(name):
    problem = PROBLEM_BUILDERS[name]()
    X = interior_points(problem, 3, seed=4)

    _, dF = problem.evaluate(X, return_values_of=["F", "dF"])
    expected = central_difference_jacobian(lambda Y: problem.evaluate(Y), X)

    np.testing.assert_allclose(dF, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
def test_subset_jacobian_matches_central_differences(name):
    problem = PROBLEM_BUILDERS[name]()
    X = interior_points(problem, 2, seed=5)
    indices = np.array([1, 4, 9, 16, 25])

    jacobian = problem.sample_jacobian(X, indices)
    expected = central_difference_jacobian(lambda Y: problem.sample_values(Y, indices), X)

    np.testing.assert_allclose(jacobian, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
@pytest.mark.parametrize("subset", [False, True])
def test_weighted_gradient_equals_weights_times_jacobian(name, subset):
    problem = PROBLEM_BUILDERS[name]()
    X = interior_points(problem, 4, seed=6)
    weights = np.random.default_rng(7).uniform(0.0, 3.0, size=(4, problem.n_obj))
    weights[0] = 0.0
    weights[1, 0] = 1.0
    indices = np.array([3, 8, 8, 20]) if subset else None

    weighted = problem.sample_weighted_gradient(X, weights, indices)
    jacobian = problem.sample_jacobian(X, indices)

    np.testing.assert_allclose(weighted, np.einsum("ks,ksd->kd", weights, jacobian), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
def test_chunks_of_seven_match_one_chunk(name):
    chunked = PROBLEM_BUILDERS[name](chunk_size=7)
    whole = PROBLEM_BUILDERS[name](chunk_size=10_000)
    X = interior_points(whole, 3, seed=8)
    weights = np.random.default_rng(9).uniform(0.0, 1.0, size=(3, whole.n_obj))
    subset = np.arange(0, whole.n_samples, 2)

    for indices in (None, subset):
        np.testing.assert_allclose(
            chunked.sample_values(X, indices), whole.sample_values(X, indices), rtol=1e-12, atol=1e-12
        )
        np.testing.assert_allclose(
            chunked.sample_jacobian(X, indices), whole.sample_jacobian(X, indices), rtol=1e-12, atol=1e-12
        )
        np.testing.assert_allclose(
            chunked.sample_weighted_gradient(X, weights, indices),
            whole.sample_weighted_gradient(X, weights, indices),
            rtol=1e-12,
            atol=1e-12,
        )


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
def test_points_of_wrong_width_are_rejected(name):
    problem = PROBLEM_BUILDERS[name]()

    with pytest.raises(ValueError, match=rf"points must have shape \(K, n_var\) = \(K, {problem.n_var}\)"):
        problem.sample_values(np.zeros((2, problem.n_var + 1)))
    with pytest.raises(ValueError, match="points must have shape"):
        problem.sample_jacobian(np.zeros((2, problem.n_var - 1)), [0, 1])


@pytest.mark.parametrize("name", sorted(PROBLEM_BUILDERS))
def test_weights_of_wrong_shape_are_rejected(name):
    problem = PROBLEM_BUILDERS[name]()
    X = interior_points(problem, 2, seed=10)

    with pytest.raises(ValueError, match=r"weights must have shape \(K, n_obj\)"):
        problem.sample_weighted_gradient(X, np.ones((3, problem.n_obj)))


# --------------------------------------------------------------------------------------------
# GroupLogisticRegression
# --------------------------------------------------------------------------------------------


def logistic_objectives_with_sklearn(problem, raw_features, labels, groups, X):
    """Return f_s(x) from scikit-learn's StandardScaler and log_loss, shape (K, m)."""
    standardized = StandardScaler().fit_transform(raw_features)
    p = standardized.shape[1]
    rows = []
    for x in X:
        w = x[:p]
        b = x[p] if problem.fit_intercept else 0.0
        probability = expit(standardized @ w + b)
        rows.append([
            log_loss(labels[groups == s], probability[groups == s], labels=[0, 1]) + 0.5 * problem.l2 * w @ w
            for s in range(problem.n_obj)
        ])
    return np.array(rows)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_logistic_values_match_sklearn_log_loss(fit_intercept):
    rng = np.random.default_rng(13)
    raw = rng.normal(size=(60, 3)) * np.array([10.0, 0.1, 1.0]) + np.array([100.0, 0.0, -3.0])
    labels = rng.integers(0, 2, size=60)
    groups = np.repeat([0, 1, 1, 2], 15)
    problem = GroupLogisticRegression(raw, labels, groups, l2=0.2, fit_intercept=fit_intercept)
    X = rng.uniform(-1.5, 1.5, size=(4, problem.n_var))

    expected = logistic_objectives_with_sklearn(problem, raw, labels, groups, X)

    np.testing.assert_allclose(problem.evaluate(X), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(problem.group_sizes, [15, 30, 15])


def test_logistic_loss_is_stable_for_large_margins():
    features = np.array([[-1.0], [1.0], [-1.0], [1.0]])
    problem = GroupLogisticRegression(features, [0, 1, 1, 0], [0, 0, 1, 1], l2=0.0, bound=1000.0)
    X = np.array([[900.0, 0.0]])

    F, dF = problem.evaluate(X, return_values_of=["F", "dF"])

    # Group 0 is classified correctly with margin 900: loss log(1 + e^−900) ≈ 0, no overflow.
    # Group 1 is misclassified with margin −900: loss ≈ 900, its slope in w is 1 per sample.
    assert F[0, 0] == pytest.approx(0.0, abs=1e-300)
    assert F[0, 1] == pytest.approx(900.0, rel=1e-12)
    np.testing.assert_allclose(dF[0, 1], [1.0, 0.0], atol=1e-12)
    assert np.all(np.isfinite(dF))


def test_breast_cancer_groups_values_match_sklearn():
    problem = GroupLogisticRegression.breast_cancer_groups()
    data = load_breast_cancer()
    texture = data.data[:, list(data.feature_names).index("mean texture")]
    X = np.random.default_rng(14).uniform(-0.3, 0.3, size=(3, problem.n_var))

    expected = logistic_objectives_with_sklearn(problem, data.data, data.target, problem.groups, X)

    assert problem.n_var == 31
    assert problem.n_obj == 2
    np.testing.assert_array_equal(problem.group_sizes, [285, 284])
    assert problem.labels[problem.groups == 0].mean() == pytest.approx(0.84, abs=0.005)
    assert problem.labels[problem.groups == 1].mean() == pytest.approx(0.42, abs=0.005)
    assert texture[problem.groups == 0].max() <= texture[problem.groups == 1].min()
    np.testing.assert_allclose(problem.evaluate(X), expected, rtol=1e-12)


def test_breast_cancer_groups_prefer_different_models():
    """Each group's loss at the other group's optimum is over 3 times its own, as the factory docstring states."""
    problem = GroupLogisticRegression.breast_cancer_groups()
    optima = []
    for s in range(2):
        in_group = problem.groups == s
        # scikit-learn minimizes C Σ ℓ + ½‖w‖², which has the same minimizer as
        # mean ℓ + (l2/2)‖w‖² for C = 1/(l2 n_s).
        model = LogisticRegression(C=1.0 / (problem.l2 * in_group.sum()), tol=1e-10, max_iter=10_000)
        model.fit(problem.features[in_group], problem.labels[in_group])
        optima.append(np.append(model.coef_[0], model.intercept_[0]))
    optima = np.array(optima)

    F, dF = problem.evaluate(optima, return_values_of=["F", "dF"])

    assert np.abs(optima).max() < problem.bound
    assert np.linalg.norm(dF[0, 0]) < 1e-5
    assert np.linalg.norm(dF[1, 1]) < 1e-5
    assert F[1, 0] > 3.0 * F[0, 0]
    assert F[0, 1] > 3.0 * F[1, 1]
    np.testing.assert_allclose(F, [[0.039, 0.202], [0.125, 0.050]], atol=5e-4)


def test_breast_cancer_groups_keep_both_classes():
    problem = GroupLogisticRegression.breast_cancer_groups(n_groups=3)

    np.testing.assert_array_equal(problem.group_sizes, [190, 190, 189])
    for s in range(3):
        benign_share = problem.labels[problem.groups == s].mean()
        assert 0.2 < benign_share < 0.95


# --------------------------------------------------------------------------------------------
# MultiTargetLeastSquares
# --------------------------------------------------------------------------------------------


def least_squares_objectives_with_sklearn(problem, raw_features, raw_targets, X):
    """Return f_s(x) from StandardScaler and mean_squared_error, shape (K, m)."""
    features = StandardScaler().fit_transform(raw_features)
    targets = StandardScaler().fit_transform(raw_targets)
    p = features.shape[1]
    rows = []
    for x in X:
        w = x[:p]
        b = x[p] if problem.fit_intercept else 0.0
        prediction = features @ w + b
        rows.append([
            0.5 * mean_squared_error(targets[:, s], prediction) + 0.5 * problem.l2 * w @ w
            for s in range(problem.n_obj)
        ])
    return np.array(rows)


def ridge_minimizer(problem, target):
    """Return the minimizer of (1/n) Σ ½ (ãᵀx − target)² + (l2/2)‖w‖² from scikit-learn's Ridge.

    Ridge minimizes ‖target − Aw − b‖² + α‖w‖², the same minimizer for α = n · l2.
    """
    model = Ridge(alpha=problem.n_samples * problem.l2, fit_intercept=problem.fit_intercept, solver="cholesky")
    model.fit(problem.features, target)
    if problem.fit_intercept:
        return np.append(model.coef_, model.intercept_)
    return model.coef_


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linnerud_values_match_sklearn(fit_intercept):
    problem = MultiTargetLeastSquares.linnerud(fit_intercept=fit_intercept, l2=0.1)
    data = load_linnerud()
    X = np.random.default_rng(15).uniform(-2.0, 2.0, size=(5, problem.n_var))

    expected = least_squares_objectives_with_sklearn(problem, data.data, data.target, X)

    assert problem.n_samples == 20
    assert problem.n_obj == 3
    assert problem.target_names == ["Weight", "Waist", "Pulse"]
    np.testing.assert_allclose(problem.evaluate(X), expected, rtol=1e-12)
    np.testing.assert_allclose(problem.objective_values(X), expected, rtol=1e-12)


def test_linnerud_target_choice():
    by_name = MultiTargetLeastSquares.linnerud(targets=["Pulse", "Weight"])
    by_index = MultiTargetLeastSquares.linnerud(targets=[2, 0])
    everything = MultiTargetLeastSquares.linnerud()

    assert by_name.target_names == ["Pulse", "Weight"]
    np.testing.assert_array_equal(by_name.targets, everything.targets[:, [2, 0]])
    np.testing.assert_array_equal(by_index.targets, by_name.targets)


def test_diabetes_two_targets_construction():
    problem = MultiTargetLeastSquares.diabetes_two_targets()
    data = load_diabetes(scaled=False)
    bmi = data.data[:, 2]

    assert problem.n_samples == 442
    assert problem.n_var == 10
    assert "bmi" not in problem.feature_names
    np.testing.assert_allclose(problem.targets[:, 0], (data.target - data.target.mean()) / data.target.std())
    np.testing.assert_allclose(problem.targets[:, 1], (bmi - bmi.mean()) / bmi.std())
    np.testing.assert_allclose(problem.features, StandardScaler().fit_transform(np.delete(data.data, 2, axis=1)))


def test_diabetes_targets_conflict_as_documented():
    problem = MultiTargetLeastSquares.diabetes_two_targets()

    F = problem.evaluate(problem.objective_minimizers())

    np.testing.assert_allclose(F, [[0.276, 0.351], [0.295, 0.332]], atol=5e-4)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_minimizers_match_ridge(fit_intercept):
    problem = make_least_squares(fit_intercept=fit_intercept)

    minimizers = problem.objective_minimizers()
    _, dF = problem.evaluate(minimizers, return_values_of=["F", "dF"])

    for s in range(problem.n_obj):
        np.testing.assert_allclose(minimizers[s], ridge_minimizer(problem, problem.targets[:, s]), atol=1e-10)
        np.testing.assert_allclose(dF[s, s], 0.0, atol=1e-12)


def test_weighted_sum_minimizer_has_zero_gradient():
    problem = MultiTargetLeastSquares.linnerud()
    weights = np.array([0.2, 0.5, 0.3])

    point = problem.pareto_set_point(10.0 * weights)
    gradient = problem.sample_weighted_gradient(point[None], weights[None])[0]
    # Σ λ_s ½(ãᵀx − y_s)² = ½(ãᵀx − Σ λ_s y_s)² + const when Σ λ_s = 1.
    blended = problem.targets @ weights

    np.testing.assert_allclose(gradient, 0.0, atol=1e-12)
    np.testing.assert_allclose(point, ridge_minimizer(problem, blended), atol=1e-10)
    np.testing.assert_allclose(point, weights @ problem.objective_minimizers(), atol=1e-12)


def test_box_constrained_minimizer_satisfies_kkt():
    problem = make_least_squares(bound=0.15)
    weights = np.array([0.6, 0.4])
    unconstrained = np.linalg.solve(problem.hessian, weights @ problem.linear_terms)

    point = problem.pareto_set_point(weights)
    gradient = problem.sample_weighted_gradient(point[None], weights[None])[0]
    at_lower = np.isclose(point, -0.15, rtol=0, atol=1e-12)
    at_upper = np.isclose(point, 0.15, rtol=0, atol=1e-12)
    free = ~(at_lower | at_upper)

    def weighted_sum(x):
        return float(problem.objective_values(x[None])[0] @ weights)

    def weighted_gradient(x):
        return problem.sample_weighted_gradient(x[None], weights[None])[0]

    reference = scipy_minimize(
        weighted_sum,
        np.zeros(problem.n_var),
        jac=weighted_gradient,
        method="L-BFGS-B",
        bounds=[(-0.15, 0.15)] * problem.n_var,
        options={"gtol": 1e-12, "ftol": 1e-15},
    )

    assert np.abs(unconstrained).max() > 0.15
    assert np.all(np.abs(point) <= 0.15 + 1e-15)
    assert np.any(at_lower | at_upper)
    np.testing.assert_allclose(gradient[free], 0.0, atol=1e-10)
    assert np.all(gradient[at_lower] >= -1e-10)
    assert np.all(gradient[at_upper] <= 1e-10)
    assert weighted_sum(point) <= reference.fun + 1e-12


def test_two_objective_front_is_nondominated_and_convex():
    problem = make_least_squares()

    front = problem.pareto_front(n_pareto_points=40)
    pareto_set = problem.pareto_set(n_pareto_points=40)

    assert front.shape == (40, 2)
    np.testing.assert_allclose(np.sort(problem.evaluate(pareto_set), axis=0), np.sort(front, axis=0), rtol=1e-12)
    assert np.all(np.diff(front[:, 0]) > 0)
    assert np.all(np.diff(front[:, 1]) < 0)
    for i, point in enumerate(front):
        others = np.delete(front, i, axis=0)
        dominated = np.all(others <= point, axis=1) & np.any(others < point, axis=1)
        assert not np.any(dominated), f"front point {i} is dominated"
    slopes = np.diff(front[:, 1]) / np.diff(front[:, 0])
    assert np.all(np.diff(slopes) > -1e-9)


def test_random_points_dominate_no_front_point():
    problem = make_least_squares()
    front = problem.pareto_front(n_pareto_points=60)
    minimizers = problem.objective_minimizers()
    rng = np.random.default_rng(16)
    # Candidates near the Pareto set, where a wrong front would be beaten first.
    t = rng.uniform(-0.2, 1.2, size=(3000, 1))
    candidates = (1 - t) * minimizers[0] + t * minimizers[1] + rng.normal(scale=0.05, size=(3000, problem.n_var))

    F = problem.evaluate(candidates)

    dominates = np.all(F[:, None, :] <= front[None, :, :], axis=2) & np.any(F[:, None, :] < front[None, :, :], axis=2)
    assert not np.any(dominates)


def test_three_objective_front_points_are_nondominated():
    problem = MultiTargetLeastSquares.linnerud()

    front = problem.pareto_front(n_pareto_points=30)

    assert front.shape[0] >= 30
    assert front.shape[1] == 3
    for i, point in enumerate(front):
        others = np.delete(front, i, axis=0)
        dominated = np.all(others <= point, axis=1) & np.any(others < point, axis=1)
        assert not np.any(dominated), f"front point {i} is dominated"


def test_singular_hessian_rejected_for_closed_forms():
    rng = np.random.default_rng(17)
    column = rng.normal(size=(10, 1))
    features = np.hstack([column, 2.0 * column])
    problem = MultiTargetLeastSquares(features, rng.normal(size=(10, 2)), l2=0.0)

    with pytest.raises(ValueError, match=r"not strongly convex .* Pass l2 > 0"):
        problem.pareto_set_point([0.5, 0.5])


# --------------------------------------------------------------------------------------------
# NoisyGradients
# --------------------------------------------------------------------------------------------


def test_noisy_full_data_equals_clean_native_problem():
    clean = ConvexQuadraticPair(n_var=5)
    problem = NoisyGradients(clean, sigma=2.0, n_samples=300, seed=1)
    X = interior_points(problem, 6, seed=18)

    F, dF = problem.evaluate(X, return_values_of=["F", "dF"])
    clean_F, clean_dF = clean.evaluate(X, return_values_of=["F", "dF"])

    np.testing.assert_allclose(F, clean_F, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dF, clean_dF, rtol=0, atol=1e-12)
    np.testing.assert_allclose(problem.noise.mean(axis=0), 0.0, atol=1e-14)


def test_noisy_full_data_equals_clean_autograd_problem():
    clean = get_problem("zdt2", n_var=6)
    problem = NoisyGradients(clean, sigma=2.0, n_samples=300, seed=2)
    X = interior_points(problem, 6, seed=19)

    dF = problem.sample_jacobian(X)
    _, clean_dF = AutomaticDifferentiation(get_problem("zdt2", n_var=6)).evaluate(X, return_values_of=["F", "dF"])

    np.testing.assert_allclose(dF, clean_dF, rtol=0, atol=1e-12)


def test_minibatch_noise_std_matches_sigma():
    """Disjoint batches covering all samples make the scaled squared noise exactly chi-square.

    With ξ_j = z_j − z̄ and z_j iid N(0, σ²), the batch means of n/b disjoint batches are iid
    N(0, σ²/b) minus their own mean, so (b/σ²) Σ_batches Σ_entries (batch noise)² follows
    χ² with (n/b − 1)·m·d degrees of freedom. The bounds fail with probability 1e-7.
    """
    sigma, n_samples, batch_size = 0.7, 4000, 20
    clean = ConvexQuadraticPair(n_var=5)
    problem = NoisyGradients(clean, sigma=sigma, n_samples=n_samples, seed=3)
    x = interior_points(problem, 1, seed=20)
    clean_dF = clean.evaluate(x, return_values_of=["dF"])
    batches = np.random.default_rng(21).permutation(n_samples).reshape(-1, batch_size)

    noise = np.array([problem.sample_jacobian(x, batch)[0] - clean_dF[0] for batch in batches])
    statistic = batch_size / sigma**2 * np.sum(noise**2)
    dof = (len(batches) - 1) * problem.n_obj * problem.n_var
    std_estimate = np.sqrt(statistic / dof) * sigma / np.sqrt(batch_size)

    assert chi2.ppf(0.5e-7, dof) < statistic < chi2.isf(0.5e-7, dof)
    assert std_estimate == pytest.approx(sigma / np.sqrt(batch_size), rel=0.15)


def test_noisy_same_seed_same_noise():
    first = NoisyGradients(ConvexQuadraticPair(n_var=4), sigma=1.0, n_samples=100, seed=7)
    second = NoisyGradients(ConvexQuadraticPair(n_var=4), sigma=1.0, n_samples=100, seed=7)
    other = NoisyGradients(ConvexQuadraticPair(n_var=4), sigma=1.0, n_samples=100, seed=8)
    x = interior_points(first, 2, seed=22)
    batch = np.array([3, 14, 15, 92])

    np.testing.assert_array_equal(first.noise, second.noise)
    np.testing.assert_array_equal(first.sample_jacobian(x, batch), second.sample_jacobian(x, batch))
    assert not np.allclose(first.noise, other.noise)


def test_noisy_zero_sigma_is_clean_on_every_batch():
    clean = ConvexQuadraticPair(n_var=3)
    problem = NoisyGradients(clean, sigma=0.0, n_samples=10)
    x = interior_points(problem, 2, seed=23)

    np.testing.assert_array_equal(problem.sample_jacobian(x, [4]), clean.evaluate(x, return_values_of=["dF"]))


def test_noisy_pareto_front_is_the_wrapped_front():
    clean = ConvexQuadraticPair(n_var=3)
    problem = NoisyGradients(clean, sigma=0.5)

    np.testing.assert_array_equal(problem.pareto_front(n_pareto_points=25), clean.pareto_front(n_pareto_points=25))
    np.testing.assert_array_equal(problem.pareto_set(n_pareto_points=25), clean.pareto_set(n_pareto_points=25))
    np.testing.assert_array_equal(problem.xl, clean.xl)
    np.testing.assert_array_equal(problem.xu, clean.xu)


# --------------------------------------------------------------------------------------------
# Invalid input
# --------------------------------------------------------------------------------------------

_FEATURES = np.arange(12.0).reshape(6, 2) ** 1.5
_LABELS = np.array([0, 1, 0, 1, 1, 0])
_GROUPS = np.array([0, 0, 1, 1, 2, 2])
_TARGETS = np.column_stack([np.arange(6.0), np.arange(6.0) ** 2])


def _with_nan(array):
    copy = np.array(array, dtype=float)
    copy[3, 0] = np.nan
    return copy


INVALID_INPUTS = [
    ("logistic features 1-D", lambda: GroupLogisticRegression(np.ones(6), _LABELS, _GROUPS), "features must be a 2-D"),
    ("logistic features NaN", lambda: GroupLogisticRegression(_with_nan(_FEATURES), _LABELS, _GROUPS),
     "features contains NaN or infinite values in 1 row.*row 3"),
    ("logistic label 2", lambda: GroupLogisticRegression(_FEATURES, [0, 1, 2, 1, 1, 0], _GROUPS),
     "labels must be 0 or 1, got 2.0 at index 2"),
    ("logistic label count", lambda: GroupLogisticRegression(_FEATURES, _LABELS[:5], _GROUPS),
     r"labels must have shape \(6,\)"),
    ("logistic group gap", lambda: GroupLogisticRegression(_FEATURES, _LABELS, [0, 0, 2, 2, 3, 3]),
     r"group\(s\) \[1\] have no samples"),
    ("logistic one group", lambda: GroupLogisticRegression(_FEATURES, _LABELS, np.zeros(6, dtype=int)),
     "at least 2 groups"),
    ("logistic float groups", lambda: GroupLogisticRegression(_FEATURES, _LABELS, _GROUPS.astype(float)),
     "groups must be integers"),
    ("logistic negative group", lambda: GroupLogisticRegression(_FEATURES, _LABELS, _GROUPS - 1),
     "groups must be integers >= 0, got -1"),
    ("logistic negative l2", lambda: GroupLogisticRegression(_FEATURES, _LABELS, _GROUPS, l2=-1.0),
     "l2 must be >= 0, got -1.0"),
    ("logistic NaN l2", lambda: GroupLogisticRegression(_FEATURES, _LABELS, _GROUPS, l2=float("nan")),
     "l2 must be a finite real number, got nan"),
    ("logistic zero bound", lambda: GroupLogisticRegression(_FEATURES, _LABELS, _GROUPS, bound=0.0),
     "bound must be > 0, got 0.0"),
    ("logistic chunk size", lambda: GroupLogisticRegression(_FEATURES, _LABELS, _GROUPS, chunk_size=0),
     "chunk_size must be an integer >= 1"),
    ("breast cancer feature", lambda: GroupLogisticRegression.breast_cancer_groups(feature="radius"),
     "feature must be one of the breast cancer feature names.*got 'radius'"),
    ("breast cancer one group", lambda: GroupLogisticRegression.breast_cancer_groups(n_groups=1),
     r"n_groups must be an integer from 2 to 569 \(the number of samples\), got 1"),
    ("least squares one target", lambda: MultiTargetLeastSquares(_FEATURES, _TARGETS[:, :1]),
     r"targets must be a 2-D array with at least 2 rows \(samples\) and 2 column"),
    ("least squares row mismatch", lambda: MultiTargetLeastSquares(_FEATURES, _TARGETS[:5]),
     "features have 6 rows, targets 5"),
    ("least squares NaN target", lambda: MultiTargetLeastSquares(_FEATURES, _with_nan(_TARGETS)),
     "targets contains NaN"),
    ("least squares negative weight", lambda: MultiTargetLeastSquares(_FEATURES, _TARGETS).pareto_set_point([1, -1]),
     r"weights must be finite, >= 0 and not all zero, got \[1.0, -1.0\]"),
    ("least squares zero weights", lambda: MultiTargetLeastSquares(_FEATURES, _TARGETS).pareto_set_point([0, 0]),
     "not all zero"),
    ("least squares weight count", lambda: MultiTargetLeastSquares(_FEATURES, _TARGETS).pareto_set_point([1.0]),
     r"weights must have shape \(n_obj,\) = \(2,\), got \(1,\)"),
    ("least squares front size", lambda: MultiTargetLeastSquares(_FEATURES, _TARGETS).pareto_front(n_pareto_points=1),
     "n_pareto_points must be an integer >= 2, got 1"),
    ("linnerud one target", lambda: MultiTargetLeastSquares.linnerud(targets=["Weight"]),
     "at least 2 distinct columns"),
    ("linnerud unknown target", lambda: MultiTargetLeastSquares.linnerud(targets=["Height", "Waist"]),
     "got 'Height'"),
    ("noisy negative sigma", lambda: NoisyGradients(ConvexQuadraticPair(), sigma=-0.1),
     "sigma must be a finite number >= 0.*got -0.1"),
    ("noisy infinite sigma", lambda: NoisyGradients(ConvexQuadraticPair(), sigma=float("inf")),
     "sigma must be a finite number >= 0.*got inf"),
    ("noisy one sample", lambda: NoisyGradients(ConvexQuadraticPair(), sigma=0.1, n_samples=1),
     "n_samples must be an integer >= 2, got 1"),
    ("noisy constrained", lambda: NoisyGradients(get_problem("bnh"), sigma=0.1),
     r"problem BNH has 2 constraint\(s\)"),
    ("noisy not a problem", lambda: NoisyGradients(np.zeros(3), sigma=0.1),
     "problem must be a pymoo Problem, got ndarray"),
    ("indices out of range", lambda: make_logistic().sample_values(np.zeros((1, 5)), [0, 40]),
     r"sample indices must lie in \[0, 40\)"),
]


@pytest.mark.parametrize(
    "build, message", [case[1:] for case in INVALID_INPUTS], ids=[case[0] for case in INVALID_INPUTS]
)
def test_invalid_input_raises_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# --------------------------------------------------------------------------------------------
# Algorithms on the problems
# --------------------------------------------------------------------------------------------


def test_nsga2_runs_on_breast_cancer_groups():
    problem = GroupLogisticRegression.breast_cancer_groups()

    result = minimize(problem, NSGA2(pop_size=20), ("n_gen", 5), seed=1)

    assert result.algorithm.evaluator.n_eval == 100
    assert result.F.shape[1] == 2
    assert np.all(np.isfinite(result.F))


MGDA_PROBLEMS = {
    "breast_cancer": GroupLogisticRegression.breast_cancer_groups,
    "linnerud": MultiTargetLeastSquares.linnerud,
    "diabetes": MultiTargetLeastSquares.diabetes_two_targets,
    "noisy_quadratic": lambda: NoisyGradients(ConvexQuadraticPair(n_var=5), sigma=1.0, n_samples=200),
}


@pytest.mark.parametrize("name", sorted(MGDA_PROBLEMS))
def test_mgda_decreases_every_objective(name):
    problem = MGDA_PROBLEMS[name]()
    start = np.random.default_rng(24).uniform(-1.0, 1.0, size=(8, problem.n_var))
    start_F = problem.evaluate(start)

    result = minimize(problem, MGDA(pop_size=8, sampling=start, step=ConstantStep(0.1)), ("n_gen", 20), seed=1)
    final_X, final_F = result.algorithm.pop.get("X", "F")

    assert np.all(np.isfinite(final_F))
    np.testing.assert_allclose(final_F, problem.evaluate(final_X), rtol=1e-12)
    # The min-norm direction d satisfies ∇f_sᵀd >= ‖d‖² for every s, so a step below 2/L cannot
    # increase f_s. The gradients' Lipschitz constants L here are at most 4.3 (the largest
    # Hessian eigenvalue, bounded by λ_max(ÃᵀÃ/n_s)/4 + l2 for the logistic groups), so 0.1 < 2/L.
    assert np.all(final_F <= start_F + 1e-12)
    assert np.all(final_F.sum(axis=1) < start_F.sum(axis=1))
