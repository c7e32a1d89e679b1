import numpy as np
import pytest
from scipy.optimize import linprog

from pmo_grad.weighting import solve_simplex_lp


def random_programs(seed: int, K: int, m: int):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(K, m))
    A = rng.normal(size=(K, m + 1, m))
    b = 0.3 * rng.normal(size=(K, m + 1))
    b[rng.uniform(size=b.shape) < 0.3] = -np.inf
    return c, A, b


def reference_optimum(c, A, b):
    """Return the optimal value from scipy's HiGHS, or None when infeasible."""
    active = np.isfinite(b)
    result = linprog(-c, A_ub=-A[active], b_ub=-b[active], A_eq=np.ones((1, len(c))), b_eq=[1.0],
                     bounds=[(0, None)] * len(c), method="highs")
    return None if result.status == 2 else -result.fun


@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_lp_matches_highs(m):
    c, A, b = random_programs(m, 60, m)
    result = solve_simplex_lp(c, A, b)
    n_feasible = 0
    for k in range(len(c)):
        expected = reference_optimum(c[k], A[k], b[k])
        assert result.feasible[k] == (expected is not None)
        if expected is None:
            assert np.all(np.isnan(result.weights[k]))
            continue
        n_feasible += 1
        alpha = result.weights[k]
        assert np.all(alpha >= 0)
        assert alpha.sum() == pytest.approx(1.0)
        active = np.isfinite(b[k])
        assert np.all(A[k][active] @ alpha >= b[k][active] - 1e-8)
        assert c[k] @ alpha == pytest.approx(expected, abs=1e-9)
    assert 10 < n_feasible < 60


def test_lp_without_constraints_picks_best_corner():
    c = np.array([[0.3, -1.0, 2.0], [5.0, 1.0, 0.0]])
    result = solve_simplex_lp(c, np.zeros((2, 0, 3)), np.zeros((2, 0)))
    np.testing.assert_array_equal(result.weights, [[0, 0, 1], [1, 0, 0]])


def test_lp_reports_infeasible_points():
    # α1 ≥ 2 cannot hold on the simplex.
    result = solve_simplex_lp(np.ones((1, 2)), np.array([[[1.0, 0.0]]]), np.array([[2.0]]))
    assert not result.feasible[0]


@pytest.mark.parametrize(("c", "A", "b", "message"), [
    (np.ones(3), np.zeros((1, 0, 3)), np.zeros((1, 0)), "c must have shape"),
    (np.ones((1, 3)), np.zeros((1, 2, 2)), np.zeros((1, 2)), "A must have shape"),
    (np.ones((1, 3)), np.zeros((1, 2, 3)), np.zeros((1, 3)), "b must have shape"),
    (np.ones((1, 2)), np.zeros((1, 1, 2)), np.array([[np.inf]]), "NaN and \\+inf"),
    (np.array([[np.nan, 1.0]]), np.zeros((1, 1, 2)), np.zeros((1, 1)), "must be finite"),
])
def test_lp_rejects_bad_input(c, A, b, message):
    with pytest.raises(ValueError, match=message):
        solve_simplex_lp(c, A, b)
