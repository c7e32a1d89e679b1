r"""Tests of the min-norm (MGDA) weighting against closed forms and scipy's NNLS.

The reference solver reduces the min-norm problem to non-negative least squares. Over
:math:`u \ge 0`, :math:`\|A u\|^2 + (1^\top u - 1)^2` with :math:`A = J^\top` is
minimized by a multiple of the min-norm weights :math:`\lambda^*`, so
:math:`\lambda^* = u / \sum u`.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy.optimize import nnls

from pmo_grad.weighting.gramian import gramian
from pmo_grad.weighting.min_norm import (
    MinNorm,
    MinNormResult,
    _solve_active_set,
    _solve_pair,
    min_norm_weights,
)

TIGHT_TOL = 1e-12


def reference_weights(jacobian: np.ndarray) -> np.ndarray:
    """Solve the min-norm problem for one ``(m, d)`` Jacobian with scipy's NNLS."""
    n_objectives, n_variables = jacobian.shape
    scale = np.linalg.norm(jacobian, axis=1).max()
    design = np.vstack([jacobian.T / scale, np.ones((1, n_objectives))])
    target = np.zeros(n_variables + 1)
    target[-1] = 1.0
    solution, _ = nnls(design, target, maxiter=50 * n_objectives)
    return solution / solution.sum()


def squared_norm(jacobian: np.ndarray, weights: np.ndarray) -> float:
    direction = weights @ jacobian
    return float(direction @ direction)


def random_jacobian(n_objectives: int, n_variables: int, shift: float, seed: int) -> np.ndarray:
    """Gaussian gradients plus a shared component of size ``shift``.

    With ``shift = 0`` the convex hull of the gradients often contains 0 when d is
    small, and with ``shift > 0`` the min-norm point is usually away from 0.
    """
    rng = np.random.default_rng(seed)
    common = shift * rng.normal(size=n_variables)
    return rng.normal(size=(n_objectives, n_variables)) + common


def solve_one(jacobian: np.ndarray, **kwargs: float) -> MinNormResult:
    return min_norm_weights(gramian(jacobian[np.newaxis]), **kwargs)


def assert_on_simplex(weights: np.ndarray) -> None:
    assert np.all(np.isfinite(weights))
    assert np.all(weights >= 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def assert_optimal(jacobian: np.ndarray, weights: np.ndarray, atol_relative: float) -> None:
    """Check the KKT conditions with inner products computed from the Jacobian itself.

    With d = sum_s lambda_s g_s, optimality means <d, g_s> >= ||d||^2 for all s, with
    equality where lambda_s > 0 (checked where lambda_s > 1e-6). The tolerance is
    relative to max_s ||g_s||^2.
    """
    scale = float((jacobian**2).sum(axis=1).max())
    direction = weights @ jacobian
    products = jacobian @ direction
    value = float(direction @ direction)
    atol = atol_relative * scale

    assert np.all(products >= value - atol), (products - value) / scale
    active = weights > 1e-6
    np.testing.assert_allclose(products[active], value, rtol=0, atol=atol)
    # Non-conflicting direction: -d does not increase any objective to first order.
    assert np.all(products >= -atol)


RANDOM_CASES = [
    (n_objectives, n_variables, shift, seed)
    for n_objectives in (3, 4, 5, 8)
    for n_variables in (2, 5, 50)
    for shift in (0.0, 2.0)
    for seed in (0, 1)
]


# ---------------------------------------------------------------- gramian


def test_gramian_matches_products() -> None:
    rng = np.random.default_rng(0)
    jacobians = rng.normal(size=(4, 3, 7))

    result = gramian(jacobians)

    assert result.shape == (4, 3, 3)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, result.transpose(0, 2, 1))
    for k in range(4):
        np.testing.assert_allclose(result[k], jacobians[k] @ jacobians[k].T, rtol=1e-14)


def test_gramian_accepts_integers_and_no_variables() -> None:
    integers = gramian(np.array([[[1, 2], [3, 4]]]))
    empty = gramian(np.zeros((2, 3, 0)))

    np.testing.assert_array_equal(integers[0], [[5.0, 11.0], [11.0, 25.0]])
    np.testing.assert_array_equal(empty, np.zeros((2, 3, 3)))


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4, 5), (5,)])
def test_gramian_rejects_wrong_ndim(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"\(K, m, d\)") as error:
        gramian(np.zeros(shape))
    assert str(shape) in str(error.value)


def test_gramian_rejects_zero_objectives() -> None:
    with pytest.raises(ValueError, match="at least one objective"):
        gramian(np.zeros((2, 0, 3)))


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_gramian_names_non_finite_entry(bad_value: float) -> None:
    jacobians = np.ones((5, 3, 4))
    jacobians[3, 1, 2] = bad_value
    jacobians[4, 0, 0] = bad_value

    with pytest.raises(ValueError, match=r"point 3, objective 1 contains") as error:
        gramian(jacobians)
    assert str(bad_value) in str(error.value)


def test_gramian_rejects_overflow() -> None:
    jacobians = np.ones((2, 2, 3))
    jacobians[1, 0] = 1e200

    with pytest.raises(ValueError, match=r"Gramian of point 1 overflows"):
        gramian(jacobians)


def test_gramian_rejects_complex() -> None:
    with pytest.raises(TypeError, match="complex"):
        gramian(np.ones((1, 2, 2), dtype=complex))


# ---------------------------------------------------------------- two objectives


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_variables", [1, 2, 5, 50])
def test_pair_matches_active_set_and_nnls(seed: int, n_variables: int) -> None:
    jacobians = np.stack(
        [
            random_jacobian(2, n_variables, shift, seed + 100 * index)
            for index, shift in enumerate((0.0, 1.0, 3.0))
        ]
    )
    gramians = gramian(jacobians)

    closed_form = _solve_pair(gramians)
    active_set = _solve_active_set(gramians, TIGHT_TOL, 200)

    assert np.all(closed_form.converged)
    assert np.all(closed_form.n_iter == 0)
    assert np.all(active_set.converged)
    for k, jacobian in enumerate(jacobians):
        expected = reference_weights(jacobian)
        scale = np.diagonal(gramians[k]).max()
        # The pair has distinct random gradients, so the weights are unique.
        np.testing.assert_allclose(closed_form.weights[k], active_set.weights[k], atol=1e-9)
        np.testing.assert_allclose(closed_form.weights[k], expected, atol=1e-7)
        value = squared_norm(jacobian, closed_form.weights[k])
        assert value <= squared_norm(jacobian, expected) + 1e-13 * scale


def test_pair_closed_form_values() -> None:
    # g1 = (1, 0), g2 = (0, 1): the midpoint. g1 = (2, 0), g2 = (1, 1): the vertex g2.
    # g1 = (1, 1), g2 = (-1, 1): the point (0, 1).
    jacobians = np.array(
        [
            [[1.0, 0.0], [0.0, 1.0]],
            [[2.0, 0.0], [1.0, 1.0]],
            [[1.0, 1.0], [-1.0, 1.0]],
        ]
    )

    result = min_norm_weights(gramian(jacobians))

    np.testing.assert_allclose(result.weights, [[0.5, 0.5], [0.0, 1.0], [0.5, 0.5]], atol=1e-15)
    np.testing.assert_allclose(result.gap, 0.0, atol=1e-15)


def test_pair_identical_gradients_get_equal_weights() -> None:
    jacobians = np.array([[[1.0, 2.0], [1.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]])

    result = min_norm_weights(gramian(jacobians))

    np.testing.assert_array_equal(result.weights, [[0.5, 0.5], [0.5, 0.5]])
    assert np.all(result.converged)


def test_pair_closed_form_is_symmetric_in_objectives() -> None:
    rng = np.random.default_rng(3)
    jacobians = rng.normal(size=(50, 2, 4)) + rng.normal(size=(50, 1, 4))

    weights = min_norm_weights(gramian(jacobians)).weights
    swapped = min_norm_weights(gramian(jacobians[:, ::-1])).weights

    np.testing.assert_allclose(swapped, weights[:, ::-1], atol=1e-12)


# ---------------------------------------------------------------- m >= 3 against NNLS


@pytest.mark.parametrize(("n_objectives", "n_variables", "shift", "seed"), RANDOM_CASES)
def test_random_case_matches_nnls(
    n_objectives: int, n_variables: int, shift: float, seed: int
) -> None:
    jacobian = random_jacobian(n_objectives, n_variables, shift, seed)
    gramians = gramian(jacobian[np.newaxis])
    scale = float(np.diagonal(gramians[0]).max())

    result = min_norm_weights(gramians, tol=TIGHT_TOL)
    expected = reference_weights(jacobian)

    assert result.converged[0]
    assert result.gap[0] <= TIGHT_TOL * scale
    # The optimum is at most 2 * gap below the value at the returned weights.
    value = squared_norm(jacobian, result.weights[0])
    expected_value = squared_norm(jacobian, expected)
    assert abs(value - expected_value) <= 2 * TIGHT_TOL * scale + 1e-13 * scale
    # The min-norm point d is unique even where the weights are not, and
    # ||d - d*||^2 <= ||d||^2 - ||d*||^2.
    direction = result.weights[0] @ jacobian
    expected_direction = expected @ jacobian
    np.testing.assert_allclose(direction, expected_direction, rtol=0, atol=1e-6 * np.sqrt(scale))

    smallest_eigenvalue = np.linalg.eigvalsh(gramians[0])[0]
    if smallest_eigenvalue > 1e-4 * scale:
        # A positive definite Gramian makes the objective strictly convex in the weights.
        np.testing.assert_allclose(result.weights[0], expected, rtol=0, atol=1e-7)


@pytest.mark.parametrize(("n_objectives", "n_variables", "shift", "seed"), RANDOM_CASES)
def test_random_case_properties(
    n_objectives: int, n_variables: int, shift: float, seed: int
) -> None:
    jacobian = random_jacobian(n_objectives, n_variables, shift, seed)
    scale = float((jacobian**2).sum(axis=1).max())

    result = solve_one(jacobian)
    weights = result.weights[0]

    assert result.weights.shape == (1, n_objectives)
    assert result.converged[0]
    assert_on_simplex(weights)
    assert_optimal(jacobian, weights, atol_relative=1e-9)

    permutation = np.random.default_rng(seed + 7).permutation(n_objectives)
    permuted = solve_one(jacobian[permutation]).weights[0]
    assert squared_norm(jacobian[permutation], permuted) == pytest.approx(
        squared_norm(jacobian, weights), rel=0, abs=1e-9 * scale
    )
    # With gap <= 1e-10 * scale, each direction is within sqrt(2e-10 * scale) of d*.
    np.testing.assert_allclose(
        permuted @ jacobian[permutation], weights @ jacobian, rtol=0, atol=1e-4 * np.sqrt(scale)
    )


def test_batch_matches_single_points() -> None:
    shifts = [0.0, 1.0, 3.0] * 4
    jacobians = np.stack([random_jacobian(5, 3, shift, seed) for seed, shift in enumerate(shifts)])

    batch = min_norm_weights(gramian(jacobians))

    for k, jacobian in enumerate(jacobians):
        single = solve_one(jacobian)
        np.testing.assert_array_equal(batch.weights[k], single.weights[0])
        assert batch.n_iter[k] == single.n_iter[0]


@pytest.mark.parametrize("factor", [1e-6, 1e6])
def test_weights_are_scale_invariant(factor: float) -> None:
    jacobians = np.stack([random_jacobian(6, 4, 1.0, seed) for seed in range(5)])
    gramians = gramian(jacobians)

    weights = min_norm_weights(gramians).weights
    scaled = min_norm_weights(gramians * factor).weights

    np.testing.assert_allclose(scaled, weights, rtol=0, atol=1e-12)


def test_near_collinear_gradients_converge() -> None:
    # Gradients on a line up to a perturbation of 1e-9, so triples of them are affinely
    # dependent up to float64 rounding of the Gramian. The solver must still converge.
    rng = np.random.default_rng(11)
    jacobians = []
    for _ in range(30):
        line = rng.normal(size=5)
        offsets = rng.uniform(0.5, 2.0, size=(9, 1))
        jacobians.append(offsets * line + 1e-9 * rng.normal(size=(9, 5)) + 3.0 * rng.normal(size=5))
    jacobians = np.stack(jacobians)
    gramians = gramian(jacobians)

    result = min_norm_weights(gramians)

    assert np.all(result.converged)
    assert_on_simplex(result.weights)
    for k, jacobian in enumerate(jacobians):
        scale = float(np.diagonal(gramians[k]).max())
        expected = squared_norm(jacobian, reference_weights(jacobian))
        assert squared_norm(jacobian, result.weights[k]) <= expected + 3e-10 * scale


def test_gradient_norms_spread_over_1e7_at_tight_tol() -> None:
    # Gradient norms from 0.1 to 6e5 with tol=1e-14. With numpy 2.4 on x86-64, rounding
    # breaks the descent guarantee of a major step here and the solver takes its
    # Frank-Wolfe fallback step.
    jacobian = np.array(
        [
            [-0.10832720382908358, -0.08999126943178612],
            [54357.585115183356, 23083.585938588098],
            [367989.60357630893, -425948.59956872836],
            [0.04971502532612049, -0.06058900687291675],
        ]
    )
    scale = float((jacobian**2).sum(axis=1).max())

    result = solve_one(jacobian, tol=1e-14)
    expected = reference_weights(jacobian)

    assert result.converged[0]
    assert_on_simplex(result.weights)
    assert_optimal(jacobian, result.weights[0], atol_relative=1e-13)
    value = squared_norm(jacobian, result.weights[0])
    assert value <= squared_norm(jacobian, expected) + 1e-14 * scale


# ---------------------------------------------------------------- singular and special cases

E1, E2, E3 = np.eye(3)
SCALE_WEIGHT = 1.0 / (1e8 + 1.0)

# name: (jacobian, expected direction d, expected weights or None where not unique)
SPECIAL_CASES = {
    "duplicate gradients": (
        np.array([E1[:2], E1[:2], E2[:2]]),
        np.array([0.5, 0.5]),
        None,
    ),
    "collinear same sign": (
        np.array([[1.0, 2.0], [3.0, 6.0]]),
        np.array([1.0, 2.0]),
        np.array([1.0, 0.0]),
    ),
    "collinear opposite sign": (
        np.array([[1.0, 2.0], [-3.0, -6.0]]),
        np.array([0.0, 0.0]),
        np.array([0.75, 0.25]),
    ),
    "collinear three": (
        np.array([[3.0, 6.0], [1.0, 2.0], [2.0, 4.0]]),
        np.array([1.0, 2.0]),
        np.array([0.0, 1.0, 0.0]),
    ),
    "identical three": (
        np.array([[1.0, -2.0, 0.5]] * 3),
        np.array([1.0, -2.0, 0.5]),
        None,
    ),
    "zero gradient": (
        np.array([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]]),
        np.array([0.0, 0.0]),
        None,
    ),
    "all zero": (
        np.zeros((4, 3)),
        np.zeros(3),
        np.full(4, 0.25),
    ),
    "one objective": (
        np.array([[1.0, 2.0, 3.0]]),
        np.array([1.0, 2.0, 3.0]),
        np.array([1.0]),
    ),
    "scale 1e4": (
        np.array([1e4 * E1[:2], E2[:2]]),
        np.array([1e4 * SCALE_WEIGHT, 1e8 * SCALE_WEIGHT]),
        np.array([SCALE_WEIGHT, 1.0 - SCALE_WEIGHT]),
    ),
    "scale 1e4 three objectives": (
        np.array([1e4 * E1, E2, E3]),
        np.array([1e4, 1e8, 1e8]) / (1.0 + 2e8),
        np.array([1.0, 1e8, 1e8]) / (1.0 + 2e8),
    ),
    "orthonormal": (
        np.eye(4),
        np.full(4, 0.25),
        np.full(4, 0.25),
    ),
    "origin inside hull": (
        np.array([[1.0, 0.0], [-1.0, 1.0], [-1.0, -1.0]]),
        np.zeros(2),
        np.array([0.5, 0.25, 0.25]),
    ),
}


def special_solvers(n_objectives: int) -> list[str]:
    return ["public", "active set"] if n_objectives >= 2 else ["public"]


@pytest.mark.parametrize(
    ("name", "solver"),
    [
        (name, solver)
        for name, case in SPECIAL_CASES.items()
        for solver in special_solvers(case[0].shape[0])
    ],
)
def test_special_case(name: str, solver: str) -> None:
    jacobian, expected_direction, expected_weights = SPECIAL_CASES[name]
    gramians = gramian(jacobian[np.newaxis])
    scale = max(float(np.diagonal(gramians[0]).max()), 1.0)

    if solver == "public":
        result = min_norm_weights(gramians)
    else:
        result = _solve_active_set(gramians, 1e-10, 200)
    weights = result.weights[0]

    assert result.converged[0]
    assert_on_simplex(weights)
    assert_optimal(jacobian, weights, atol_relative=1e-10)
    np.testing.assert_allclose(
        weights @ jacobian, expected_direction, rtol=1e-9, atol=1e-12 * np.sqrt(scale)
    )
    if expected_weights is not None:
        np.testing.assert_allclose(weights, expected_weights, rtol=1e-7, atol=1e-14)


def test_more_objectives_than_variables() -> None:
    rng = np.random.default_rng(5)
    for shift in (0.0, 5.0):
        jacobian = rng.normal(size=(6, 2)) + shift * rng.normal(size=2)

        weights = solve_one(jacobian).weights[0]
        expected = reference_weights(jacobian)

        assert_on_simplex(weights)
        assert_optimal(jacobian, weights, atol_relative=1e-10)
        np.testing.assert_allclose(weights @ jacobian, expected @ jacobian, atol=1e-7)
        # In R^2 the min-norm point lies on a face with at most 3 vertices.
        assert np.count_nonzero(weights) <= 3


def test_empty_batch() -> None:
    result = min_norm_weights(np.zeros((0, 3, 3)))

    assert result.weights.shape == (0, 3)
    assert result.converged.shape == (0,)


# ---------------------------------------------------------------- iteration cap and MinNorm


def test_iteration_cap_reports_not_converged() -> None:
    # From the vertex e1, the solver needs one step to reach (1/2, 1/2, 0) and another
    # to reach the optimum (1/3, 1/3, 1/3).
    gramians = gramian(np.eye(3)[np.newaxis])

    capped = min_norm_weights(gramians, max_iter=1)
    enough = min_norm_weights(gramians, max_iter=2)

    assert not capped.converged[0]
    assert capped.n_iter[0] == 1
    assert_on_simplex(capped.weights)
    assert capped.gap[0] > 1e-3
    assert enough.converged[0]
    np.testing.assert_allclose(enough.weights[0], np.full(3, 1.0 / 3.0), atol=1e-15)


def test_min_norm_logs_warning_when_capped(caplog: pytest.LogCaptureFixture) -> None:
    gramians = gramian(np.stack([np.eye(3), np.ones((3, 3))]))
    weighting = MinNorm(max_iter=1)

    with caplog.at_level(logging.WARNING, logger="pmo_grad.weighting.min_norm"):
        weights = weighting(gramians)

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "1 of 2 points" in warnings[0].getMessage()
    assert "max_iter=1" in warnings[0].getMessage()
    assert_on_simplex(weights)
    assert weighting.last_result is not None
    np.testing.assert_array_equal(weighting.last_result.converged, [False, True])


def test_min_norm_returns_weights_without_warning(caplog: pytest.LogCaptureFixture) -> None:
    jacobians = np.stack([random_jacobian(4, 3, 1.0, seed) for seed in range(3)])
    weighting = MinNorm()

    with caplog.at_level(logging.WARNING, logger="pmo_grad.weighting.min_norm"):
        weights = weighting(gramian(jacobians))

    assert not caplog.records
    assert weights.shape == (3, 4)
    assert weighting.last_result is not None
    np.testing.assert_array_equal(weights, weighting.last_result.weights)
    assert repr(weighting) == "MinNorm(tol=1e-10, max_iter=200)"


# ---------------------------------------------------------------- invalid input


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_gramian_names_point_and_objective(bad_value: float) -> None:
    gramians = np.stack([np.eye(3)] * 4)
    gramians[2, 1, 0] = bad_value

    with pytest.raises(ValueError, match=r"point 2, objective 1 contains") as error:
        min_norm_weights(gramians)
    assert str(bad_value) in str(error.value)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 4), (2, 2, 2, 2)])
def test_rejects_wrong_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"\(K, m, m\)") as error:
        min_norm_weights(np.zeros(shape))
    assert str(shape) in str(error.value)


def test_rejects_zero_objectives() -> None:
    with pytest.raises(ValueError, match="at least one objective"):
        min_norm_weights(np.zeros((2, 0, 0)))


def test_rejects_asymmetric_gramian() -> None:
    gramians = np.stack([np.eye(2), [[1.0, 0.5], [0.0, 1.0]]])

    with pytest.raises(ValueError, match=r"point 1 is not symmetric"):
        min_norm_weights(gramians)


def test_rejects_indefinite_gramian() -> None:
    gramians = np.stack([np.eye(3), np.eye(3), np.diag([1.0, -0.5, 1.0])])

    with pytest.raises(ValueError, match=r"point 2 is not positive semidefinite"):
        min_norm_weights(gramians)


def test_accepts_float32_gramian() -> None:
    jacobians = random_jacobian(4, 2, 1.0, 0)[np.newaxis].astype(np.float32)
    gramians32 = jacobians @ jacobians.transpose(0, 2, 1)

    weights = min_norm_weights(gramians32).weights

    assert_on_simplex(weights)


@pytest.mark.parametrize("tol", [0.0, -1e-3, float("nan"), float("inf")])
def test_rejects_invalid_tol(tol: float) -> None:
    with pytest.raises(ValueError, match=r"tol must be finite and > 0"):
        min_norm_weights(np.eye(3)[np.newaxis], tol=tol)
    with pytest.raises(ValueError, match=r"tol must be finite and > 0"):
        MinNorm(tol=tol)


@pytest.mark.parametrize("max_iter", [0, -3])
def test_rejects_invalid_max_iter(max_iter: int) -> None:
    with pytest.raises(ValueError, match=r"max_iter must be >= 1"):
        min_norm_weights(np.eye(3)[np.newaxis], max_iter=max_iter)
    with pytest.raises(ValueError, match=r"max_iter must be >= 1"):
        MinNorm(max_iter=max_iter)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("tol", "1e-10"), ("tol", True), ("max_iter", 2.5), ("max_iter", True)],
)
def test_rejects_wrong_argument_type(keyword: str, value: object) -> None:
    with pytest.raises(TypeError, match=keyword):
        min_norm_weights(np.eye(3)[np.newaxis], **{keyword: value})


def test_rejects_complex_gramian() -> None:
    with pytest.raises(TypeError, match="complex"):
        min_norm_weights(np.eye(2, dtype=complex)[np.newaxis])
