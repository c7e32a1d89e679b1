import numpy as np
import pytest
from pymoo.indicators.hv import HV
from pymoo.indicators.igd import IGD

from pmo_grad.indicators import hypervolume, igd, pareto_stationarity


def brute_force_stationarity(J: np.ndarray, n_grid: int = 400) -> float:
    """min over a fine grid of the 3-simplex of ‖λᵀJ‖²."""
    best = np.inf
    for i in range(n_grid + 1):
        a = i / n_grid
        b = np.linspace(0.0, 1.0 - a, n_grid + 1 - i)
        lam = np.column_stack([np.full_like(b, a), b, 1.0 - a - b])
        best = min(best, float(np.min(np.sum((lam @ J) ** 2, axis=1))))
    return best


def test_stationarity_of_opposite_gradients_is_zero():
    J = np.array([[1.0, 2.0], [-2.0, -4.0]])
    assert pareto_stationarity(J)[0] == pytest.approx(0.0, abs=1e-14)


def test_stationarity_of_one_objective_is_squared_gradient_norm():
    J = np.array([[[3.0, 4.0]]])
    assert pareto_stationarity(J)[0] == pytest.approx(25.0)


def test_stationarity_of_orthogonal_pair_has_closed_form():
    # min_λ ‖λ a e1 + (1 − λ) b e2‖² = a²b² / (a² + b²)
    a, b = 2.0, 3.0
    J = np.array([[[a, 0.0], [0.0, b]]])
    assert pareto_stationarity(J)[0] == pytest.approx(a**2 * b**2 / (a**2 + b**2), rel=1e-12)


def test_stationarity_matches_brute_force_on_three_objectives():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(5, 3, 4))
    values = pareto_stationarity(J)
    assert values.shape == (5,)
    for k in range(5):
        reference = brute_force_stationarity(J[k])
        assert values[k] <= reference + 1e-12
        assert values[k] == pytest.approx(reference, rel=2e-2, abs=1e-6)


def test_stationarity_rejects_non_finite_jacobian():
    J = np.ones((2, 2, 3))
    J[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match=r"point 1, objective 0"):
        pareto_stationarity(J)


def test_hypervolume_and_igd_match_pymoo_on_finite_fronts():
    F = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    pf = np.column_stack([np.linspace(0, 1, 50), 1 - np.linspace(0, 1, 50)])
    assert hypervolume(F, [1.1, 1.1]) == pytest.approx(HV(ref_point=np.array([1.1, 1.1]))(F))
    assert igd(F, pf) == pytest.approx(IGD(pf)(F))


@pytest.mark.parametrize("F", [np.array([[0.1, np.nan], [0.5, 0.5]]), np.empty((0, 2)), None, np.array([[np.inf, 0.0]])])
def test_fronts_with_non_finite_rows_do_not_score(F):
    pf = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.isnan(hypervolume(F, [1.1, 1.1]))
    assert np.isnan(igd(F, pf))


def test_stationarity_with_box_leaves_out_blocked_coordinates():
    from pymoo.problems import get_problem

    from pmo_grad.problems import ProblemGradient

    problem = get_problem("zdt1", n_var=5)
    X = np.array([[0.3, 0.0, 0.0, 0.0, 0.0]])  # on the Pareto set, which lies on the bound x2..x5 = 0
    J = ProblemGradient(problem).jacobian(X)
    assert pareto_stationarity(J)[0] > 1e-3
    assert pareto_stationarity(J, X, problem.xl, problem.xu)[0] == pytest.approx(0.0, abs=1e-20)


def test_stationarity_box_rejects_bad_arguments():
    J = np.ones((2, 2, 3))
    with pytest.raises(ValueError, match="pass both xl and xu"):
        pareto_stationarity(J, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"X must have shape \(K, d\) = \(2, 3\)"):
        pareto_stationarity(J, np.zeros((3, 3)), np.zeros(3), np.ones(3))
