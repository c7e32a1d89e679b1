"""Tests of FonsecaFleming, ConvexQuadraticPair and CAGradToy: values, gradients, fronts and input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymoo.gradient.automatic import AutomaticDifferentiation
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
from scipy.integrate import quad

from pmo_grad.problems.fonseca_fleming import FonsecaFleming
from pmo_grad.problems.quadratic import ConvexQuadraticPair
from pmo_grad.problems.toy import LOG_FLOOR, CAGradToy

FINITE_DIFFERENCE_STEP = 1e-6


def evaluate_with_jacobian(problem, x):
    """Return F and dF from the problem's own closed-form Jacobian."""
    return problem.evaluate(x, return_values_of=["F", "dF"])


def central_differences(problem, x, step=FINITE_DIFFERENCE_STEP):
    """Return the N × m × n Jacobian of F by central differences with the given step."""
    n_points, n_var = x.shape
    jacobian = np.empty((n_points, problem.n_obj, n_var))
    for j in range(n_var):
        shift = np.zeros(n_var)
        shift[j] = step
        f_plus = problem.evaluate(x + shift)
        f_minus = problem.evaluate(x - shift)
        jacobian[:, :, j] = (f_plus - f_minus) / (2.0 * step)
    return jacobian


def autograd_jacobian(problem, x):
    """Return F and dF computed by pymoo's autograd wrapper from the ``anp`` code of F."""
    return AutomaticDifferentiation(problem).evaluate(x, return_values_of=["F", "dF"])


def random_points(problem, n_points, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(problem.xl, problem.xu, size=(n_points, problem.n_var))


# --------------------------------------------------------------------------------------------
# FonsecaFleming
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_var", [1, 3, 8])
def test_fonseca_fleming_shapes_and_bounds(n_var):
    problem = FonsecaFleming(n_var=n_var)
    x = random_points(problem, 7, seed=n_var)

    f, df = evaluate_with_jacobian(problem, x)

    assert problem.n_obj == 2
    assert problem.n_var == n_var
    assert np.all(problem.xl == -4.0)
    assert np.all(problem.xu == 4.0)
    assert f.shape == (7, 2)
    assert df.shape == (7, 2, n_var)


def test_fonseca_fleming_single_point_shapes():
    problem = FonsecaFleming(n_var=3)

    f, df = evaluate_with_jacobian(problem, np.zeros(3))

    assert f.shape == (2,)
    assert df.shape == (2, 3)


@pytest.mark.parametrize("n_var", [1, 3, 8])
def test_fonseca_fleming_values_at_known_points(n_var):
    problem = FonsecaFleming(n_var=n_var)
    a = 1.0 / math.sqrt(n_var)
    x = np.array([np.full(n_var, a), np.full(n_var, -a), np.zeros(n_var)])

    f = problem.evaluate(x)

    far = 1.0 - math.exp(-4.0)
    middle = 1.0 - math.exp(-1.0)
    np.testing.assert_allclose(f[0], [0.0, far], atol=1e-15)
    np.testing.assert_allclose(f[1], [far, 0.0], atol=1e-15)
    np.testing.assert_allclose(f[2], [middle, middle], rtol=1e-14)


def test_fonseca_fleming_values_match_direct_formula():
    problem = FonsecaFleming(n_var=4)
    x = random_points(problem, 20, seed=1)
    a = 0.5

    f = problem.evaluate(x)

    for row, point in zip(f, x):
        expected_first = 1.0 - math.exp(-sum((xi - a) ** 2 for xi in point))
        expected_second = 1.0 - math.exp(-sum((xi + a) ** 2 for xi in point))
        assert row[0] == pytest.approx(expected_first, rel=1e-13, abs=1e-15)
        assert row[1] == pytest.approx(expected_second, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("n_var", [1, 3, 8])
def test_fonseca_fleming_gradient_matches_finite_differences(n_var):
    problem = FonsecaFleming(n_var=n_var)
    # Points near the Pareto set, where exp(−‖x ± a‖²) is not negligibly small.
    rng = np.random.default_rng(10 + n_var)
    x = rng.normal(scale=0.7, size=(25, n_var))

    _, df = evaluate_with_jacobian(problem, x)

    np.testing.assert_allclose(df, central_differences(problem, x), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("n_var", [1, 3, 8])
def test_fonseca_fleming_gradient_matches_autograd(n_var):
    problem = FonsecaFleming(n_var=n_var)
    rng = np.random.default_rng(20 + n_var)
    x = rng.normal(scale=0.7, size=(25, n_var))

    f, df = evaluate_with_jacobian(problem, x)
    f_auto, df_auto = autograd_jacobian(problem, x)

    np.testing.assert_allclose(f, f_auto, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(df, df_auto, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_var", [1, 3, 8])
def test_fonseca_fleming_pareto_set_maps_to_front(n_var):
    problem = FonsecaFleming(n_var=n_var)

    pareto_set = problem.pareto_set(n_pareto_points=60)
    pareto_front = problem.pareto_front(n_pareto_points=60)

    assert pareto_set.shape == (60, n_var)
    assert pareto_front.shape == (60, 2)
    np.testing.assert_allclose(problem.evaluate(pareto_set), pareto_front, atol=1e-14)
    assert np.all(pareto_set >= problem.xl)
    assert np.all(pareto_set <= problem.xu)
    # Every coordinate is equal on the Pareto set, and lies in [−1/√n, 1/√n].
    assert np.all(pareto_set == pareto_set[:, :1])
    assert np.all(np.abs(pareto_set) <= 1.0 / math.sqrt(n_var) + 1e-15)


def test_fonseca_fleming_front_equation_and_end_points():
    front = FonsecaFleming(n_var=2).pareto_front(n_pareto_points=200)
    far = 1.0 - math.exp(-4.0)

    # −log(1 − f1) = (1 − s)² and −log(1 − f2) = (1 + s)², so their square roots sum to 2.
    distance_sum = np.sqrt(-np.log1p(-front[:, 0])) + np.sqrt(-np.log1p(-front[:, 1]))

    np.testing.assert_allclose(distance_sum, 2.0, atol=1e-12)
    np.testing.assert_allclose(front[0], [0.0, far], atol=1e-15)
    np.testing.assert_allclose(front[-1], [far, 0.0], atol=1e-15)
    assert np.all(np.diff(front[:, 0]) > 0.0)


def test_fonseca_fleming_front_equally_spaced_in_arc_length():
    front = FonsecaFleming().pareto_front(n_pareto_points=100)

    # Recover s from f1 = 1 − exp(−(1 − s)²), then integrate the speed of s ↦ (f1, f2) between
    # neighbors. Chord lengths would not do: the front bends sharply near its end points.
    s = 1.0 - np.sqrt(-np.log1p(-front[:, 0]))

    def speed(value):
        d_first = 2.0 * (1.0 - value) * math.exp(-((1.0 - value) ** 2))
        d_second = 2.0 * (1.0 + value) * math.exp(-((1.0 + value) ** 2))
        return math.hypot(d_first, d_second)

    arc_lengths = np.array([quad(speed, s[i + 1], s[i])[0] for i in range(len(s) - 1)])

    np.testing.assert_allclose(arc_lengths, arc_lengths.mean(), rtol=1e-4)


def test_fonseca_fleming_front_curvature_sign():
    front = FonsecaFleming().pareto_front(n_pareto_points=400)
    s = 1.0 - np.sqrt(-np.log1p(-front[:, 0]))

    # The slope df2/df1 falls with f1 where the front is concave and rises where it is convex.
    slopes = np.diff(front[:, 1]) / np.diff(front[:, 0])
    slope_changes = np.diff(slopes)
    # Each slope change belongs to the middle point of three consecutive front points.
    middle_s = s[1:-1]
    inflection = 1.0 / math.sqrt(2.0)
    concave = np.abs(middle_s) < inflection - 0.01
    convex = np.abs(middle_s) > inflection + 0.01

    assert np.all(slope_changes[concave] < 0.0)
    assert np.all(slope_changes[convex] > 0.0)
    assert concave.sum() > 300
    assert convex.sum() > 10


def test_fonseca_fleming_weighted_sums_reach_only_ends():
    front = FonsecaFleming().pareto_front(n_pareto_points=4001)
    s = 1.0 - np.sqrt(-np.log1p(-front[:, 0]))

    for weight in np.linspace(0.0, 1.0, 101):
        best = np.argmin(weight * front[:, 0] + (1.0 - weight) * front[:, 1])
        assert abs(s[best]) >= 0.95


def test_fonseca_fleming_pareto_set_is_pareto_stationary():
    problem = FonsecaFleming(n_var=3)
    pareto_set = problem.pareto_set(n_pareto_points=21)[1:-1]

    _, df = evaluate_with_jacobian(problem, pareto_set)

    # Interior Pareto points have gradients pointing in opposite directions.
    for grad_first, grad_second in df:
        cosine = grad_first @ grad_second / (np.linalg.norm(grad_first) * np.linalg.norm(grad_second))
        assert cosine == pytest.approx(-1.0, abs=1e-12)


def test_fonseca_fleming_front_is_non_dominated():
    problem = FonsecaFleming(n_var=3)
    front = problem.pareto_front(n_pareto_points=100)
    rng = np.random.default_rng(3)
    others = problem.evaluate(rng.uniform(-1.0, 1.0, size=(2000, 3)))

    first_front = NonDominatedSorting().do(front, only_non_dominated_front=True)

    assert len(first_front) == len(front)
    # No random point of the decision space dominates a front point.
    for point in front:
        dominated_by = np.all(others <= point, axis=1) & np.any(others < point, axis=1)
        assert not np.any(dominated_by)


@pytest.mark.parametrize("n_var", [0, -2, 2.5, 3.0, "3", True, None])
def test_fonseca_fleming_rejects_bad_n_var(n_var):
    with pytest.raises(ValueError, match="n_var must be an integer >= 1"):
        FonsecaFleming(n_var=n_var)


@pytest.mark.parametrize("n_pareto_points", [0, 1, 2.5])
def test_fonseca_fleming_rejects_bad_n_pareto_points(n_pareto_points):
    with pytest.raises(ValueError, match="n_pareto_points must be an integer >= 2"):
        FonsecaFleming()._calc_pareto_front(n_pareto_points=n_pareto_points)


def test_fonseca_fleming_accepts_numpy_integer():
    assert FonsecaFleming(n_var=np.int64(4)).n_var == 4


# --------------------------------------------------------------------------------------------
# ConvexQuadraticPair
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_var", [1, 2, 10])
def test_quadratic_pair_shapes_and_bounds(n_var):
    problem = ConvexQuadraticPair(n_var=n_var)
    x = random_points(problem, 6, seed=n_var)

    f, df = evaluate_with_jacobian(problem, x)

    assert problem.n_obj == 2
    assert np.all(problem.xl == -2.0)
    assert np.all(problem.xu == 2.0)
    assert f.shape == (6, 2)
    assert df.shape == (6, 2, n_var)


@pytest.mark.parametrize("n_var", [1, 2, 10])
def test_quadratic_pair_values_at_known_points(n_var):
    problem = ConvexQuadraticPair(n_var=n_var)
    a = 1.0 / math.sqrt(n_var)
    x = np.array([np.full(n_var, a), np.full(n_var, -a), np.zeros(n_var), np.full(n_var, 2.0)])

    f = problem.evaluate(x)

    np.testing.assert_allclose(f[0], [0.0, 1.0], atol=1e-14)
    np.testing.assert_allclose(f[1], [1.0, 0.0], atol=1e-14)
    np.testing.assert_allclose(f[2], [0.25, 0.25], rtol=1e-14)
    np.testing.assert_allclose(f[3], [n_var * (2.0 - a) ** 2 / 4, n_var * (2.0 + a) ** 2 / 4], rtol=1e-14)


@pytest.mark.parametrize("n_var", [1, 2, 10])
def test_quadratic_pair_gradient_matches_finite_differences(n_var):
    problem = ConvexQuadraticPair(n_var=n_var)
    x = random_points(problem, 20, seed=30 + n_var)

    _, df = evaluate_with_jacobian(problem, x)

    np.testing.assert_allclose(df, central_differences(problem, x), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("n_var", [1, 2, 10])
def test_quadratic_pair_gradient_matches_autograd(n_var):
    problem = ConvexQuadraticPair(n_var=n_var)
    x = random_points(problem, 20, seed=40 + n_var)

    f, df = evaluate_with_jacobian(problem, x)
    f_auto, df_auto = autograd_jacobian(problem, x)

    np.testing.assert_allclose(f, f_auto, rtol=1e-14)
    np.testing.assert_allclose(df, df_auto, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("n_var", [1, 2, 10])
def test_quadratic_pair_pareto_set_maps_to_front(n_var):
    problem = ConvexQuadraticPair(n_var=n_var)

    pareto_set = problem.pareto_set(n_pareto_points=50)
    pareto_front = problem.pareto_front(n_pareto_points=50)

    assert pareto_set.shape == (50, n_var)
    np.testing.assert_allclose(problem.evaluate(pareto_set), pareto_front, atol=1e-14)
    assert np.all(pareto_set >= problem.xl)
    assert np.all(pareto_set <= problem.xu)


def test_quadratic_pair_front_equation_and_end_points():
    front = ConvexQuadraticPair().pareto_front(n_pareto_points=101)

    np.testing.assert_allclose(np.sqrt(front[:, 0]) + np.sqrt(front[:, 1]), 1.0, atol=1e-14)
    np.testing.assert_allclose(front[0], [0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(front[-1], [1.0, 0.0], atol=1e-15)
    assert np.all(np.diff(front[:, 0]) > 0.0)


def test_quadratic_pair_front_is_convex():
    front = ConvexQuadraticPair().pareto_front(n_pareto_points=100)

    # On a convex decreasing front the slope df2/df1 increases (flattens) with f1.
    slopes = np.diff(front[:, 1]) / np.diff(front[:, 0])

    assert np.all(np.diff(slopes) > 0.0)


def test_quadratic_pair_front_is_non_dominated():
    problem = ConvexQuadraticPair(n_var=3)
    front = problem.pareto_front(n_pareto_points=100)
    rng = np.random.default_rng(5)
    others = problem.evaluate(rng.uniform(-1.0, 1.0, size=(2000, 3)))

    first_front = NonDominatedSorting().do(front, only_non_dominated_front=True)

    assert len(first_front) == len(front)
    for point in front:
        dominated_by = np.all(others <= point, axis=1) & np.any(others < point, axis=1)
        assert not np.any(dominated_by)


def test_quadratic_pair_weighted_sum_minimizer_on_front():
    # The minimizer of w·f1 + (1 − w)·f2 is x = (2w − 1)·a·𝟙, which must lie on the front.
    problem = ConvexQuadraticPair(n_var=5)
    a = 1.0 / math.sqrt(5)
    for weight in [0.0, 0.2, 0.5, 0.9, 1.0]:
        x = np.full((1, 5), (2.0 * weight - 1.0) * a)

        f, df = evaluate_with_jacobian(problem, x)

        weighted_gradient = weight * df[0, 0] + (1.0 - weight) * df[0, 1]
        np.testing.assert_allclose(weighted_gradient, 0.0, atol=1e-15)
        assert math.sqrt(f[0, 0]) + math.sqrt(f[0, 1]) == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("n_var", [0, -1, 1.5, "10", False])
def test_quadratic_pair_rejects_bad_n_var(n_var):
    with pytest.raises(ValueError, match="n_var must be an integer >= 1"):
        ConvexQuadraticPair(n_var=n_var)


def test_quadratic_pair_rejects_bad_n_pareto_points():
    with pytest.raises(ValueError, match="n_pareto_points must be an integer >= 2"):
        ConvexQuadraticPair()._calc_pareto_set(n_pareto_points=1)


# --------------------------------------------------------------------------------------------
# CAGradToy
# --------------------------------------------------------------------------------------------


def toy_reference(x1, x2, scale_first):
    """Evaluate the toy problem point by point, in the form the reference repositories write it."""
    lower = 5e-6
    f1 = math.log(max(abs(0.5 * (-x1 - 7.0) - math.tanh(-x2)), lower)) + 6.0
    f2 = math.log(max(abs(0.5 * (-x1 + 3.0) + math.tanh(-x2) + 2.0), lower)) + 6.0
    c1 = max(math.tanh(x2 * 0.5), 0.0)
    f1_sq = ((-x1 + 7.0) ** 2 + 0.1 * (-x2 - 8.0) ** 2) / 10.0 - 20.0
    f2_sq = ((-x1 - 7.0) ** 2 + 0.1 * (-x2 - 8.0) ** 2) / 10.0 - 20.0
    c2 = max(math.tanh(-x2 * 0.5), 0.0)
    return scale_first * (f1 * c1 + f1_sq * c2), f2 * c1 + f2_sq * c2


def toy_points_away_from_kinks(n_points, seed, margin=0.05):
    """Return random points of [−10, 10]² with |x2| and both |u_k| above ``margin``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-10.0, 10.0, size=(4 * n_points, 2))
    u1 = np.tanh(x[:, 1]) - 0.5 * (x[:, 0] + 7.0)
    u2 = 3.5 - 0.5 * x[:, 0] - np.tanh(x[:, 1])
    keep = (np.abs(x[:, 1]) > margin) & (np.abs(u1) > margin) & (np.abs(u2) > margin)
    return x[keep][:n_points]


def test_toy_shapes_and_bounds():
    problem = CAGradToy()
    x = random_points(problem, 9, seed=0)

    f, df = evaluate_with_jacobian(problem, x)

    assert problem.n_var == 2
    assert problem.n_obj == 2
    np.testing.assert_array_equal(problem.xl, [-10.0, -10.0])
    np.testing.assert_array_equal(problem.xu, [10.0, 10.0])
    assert f.shape == (9, 2)
    assert df.shape == (9, 2, 2)


@pytest.mark.parametrize("scale_first", [0.1, 1.0, 3.0])
def test_toy_values_match_reference_form(scale_first):
    problem = CAGradToy(scale_first=scale_first)
    x = random_points(problem, 300, seed=1)
    # Include the start points and points where the log floor is active.
    t = math.tanh(0.5)
    floor_points = np.array([[2.0 * t - 7.0, 0.5], [7.0 - 2.0 * t, 0.5]])
    x = np.vstack([x, CAGradToy.START_POINTS, CAGradToy.CAGRAD_START_POINTS, floor_points])

    f = problem.evaluate(x)

    expected = np.array([toy_reference(x1, x2, scale_first) for x1, x2 in x])
    np.testing.assert_allclose(f, expected, rtol=1e-13, atol=1e-13)


def test_toy_values_at_known_points():
    problem = CAGradToy(scale_first=1.0)
    x = np.array([[0.0, 0.0], [7.0, -8.0], [-7.0, -8.0]])

    f = problem.evaluate(x)

    # Both gates vanish at x2 = 0. At x2 = −8 the valley terms are (x1 ∓ 7)²/10 − 20.
    gate = math.tanh(4.0)
    np.testing.assert_array_equal(f[0], [0.0, 0.0])
    np.testing.assert_allclose(f[1], [-20.0 * gate, (19.6 - 20.0) * gate], rtol=1e-14)
    np.testing.assert_allclose(f[2], [(19.6 - 20.0) * gate, -20.0 * gate], rtol=1e-14)


def test_toy_scale_first_scales_only_first_objective():
    x = random_points(CAGradToy(), 50, seed=2)

    f_scaled, df_scaled = evaluate_with_jacobian(CAGradToy(scale_first=0.1), x)
    f_plain, df_plain = evaluate_with_jacobian(CAGradToy(scale_first=1.0), x)

    np.testing.assert_allclose(f_scaled[:, 0], 0.1 * f_plain[:, 0], rtol=1e-14)
    np.testing.assert_array_equal(f_scaled[:, 1], f_plain[:, 1])
    np.testing.assert_allclose(df_scaled[:, 0], 0.1 * df_plain[:, 0], rtol=1e-14)
    np.testing.assert_array_equal(df_scaled[:, 1], df_plain[:, 1])


@pytest.mark.parametrize("scale_first", [0.1, 1.0])
def test_toy_gradient_matches_finite_differences(scale_first):
    problem = CAGradToy(scale_first=scale_first)
    x = toy_points_away_from_kinks(300, seed=3)

    _, df = evaluate_with_jacobian(problem, x)

    np.testing.assert_allclose(df, central_differences(problem, x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("scale_first", [0.1, 1.0])
def test_toy_gradient_matches_autograd(scale_first):
    problem = CAGradToy(scale_first=scale_first)
    x = toy_points_away_from_kinks(300, seed=4)

    f, df = evaluate_with_jacobian(problem, x)
    f_auto, df_auto = autograd_jacobian(problem, x)

    np.testing.assert_allclose(f, f_auto, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(df, df_auto, rtol=1e-12, atol=1e-13)


def test_toy_gradient_where_log_floor_is_active():
    problem = CAGradToy(scale_first=1.0)
    t = math.tanh(0.5)
    # u1 = 0 at the first point and u2 = 0 at the second, so log(max(|u|, ε)) is flat there.
    x = np.array([[2.0 * t - 7.0, 0.5], [7.0 - 2.0 * t, 0.5]])

    f, df = evaluate_with_jacobian(problem, x)

    assert f[0, 0] == pytest.approx(math.tanh(0.25) * (math.log(LOG_FLOOR) + 6.0), rel=1e-12)
    assert f[1, 1] == pytest.approx(math.tanh(0.25) * (math.log(LOG_FLOOR) + 6.0), rel=1e-12)
    # Steps far below ε keep |u| under the floor, so finite differences see the flat log.
    np.testing.assert_allclose(df, central_differences(problem, x, step=1e-9), rtol=1e-5, atol=1e-6)
    # The floored objective only changes through its gate, so its x1 derivative is 0.
    assert df[0, 0, 0] == 0.0
    assert df[1, 1, 0] == 0.0


def test_toy_gradient_at_gate_switch():
    problem = CAGradToy(scale_first=1.0)
    x = np.array([[0.0, 0.0], [3.0, 0.0], [-5.0, 0.0]])
    step = 1e-7
    up = x + np.array([0.0, step])
    down = x - np.array([0.0, step])

    _, df = evaluate_with_jacobian(problem, x)

    f_center = problem.evaluate(x)
    right_derivative = (problem.evaluate(up) - f_center) / step
    left_derivative = (f_center - problem.evaluate(down)) / step
    # Both gates count as active at x2 = 0 (PyTorch's clamp rule), so ∂f/∂x2 is their sum.
    np.testing.assert_allclose(df[:, :, 1], right_derivative + left_derivative, rtol=1e-5)
    np.testing.assert_array_equal(df[:, :, 0], 0.0)
    assert np.all(np.abs(df[:, :, 1]) > 1.0)


def test_toy_start_points():
    problem = CAGradToy()

    for points in (CAGradToy.START_POINTS, CAGradToy.CAGRAD_START_POINTS):
        assert points.ndim == 2
        assert points.shape[1] == 2
        assert np.all(points >= problem.xl)
        assert np.all(points <= problem.xu)
        assert not points.flags.writeable
    np.testing.assert_array_equal(
        CAGradToy.START_POINTS, [[-8.5, 7.5], [0.0, 0.0], [9.0, 9.0], [-7.5, -0.5], [9.0, -1.0]]
    )
    np.testing.assert_array_equal(CAGradToy.CAGRAD_START_POINTS, [[-8.5, 7.5], [-8.5, -5.0], [9.0, 9.0]])


def test_toy_upper_half_is_dominated():
    problem = CAGradToy(scale_first=1.0)
    rng = np.random.default_rng(6)
    upper = np.column_stack([rng.uniform(-10, 10, 5000), rng.uniform(0.0, 10.0, 5000)])

    f_upper = problem.evaluate(upper)
    f_valley = problem.evaluate(np.array([0.0, -8.355]))

    assert np.all(f_valley < -15.0)
    assert np.all(f_upper >= math.log(LOG_FLOOR) + 6.0)
    assert np.all(f_upper > f_valley)


def test_toy_has_no_pareto_front():
    assert CAGradToy().pareto_front() is None


@pytest.mark.parametrize("scale_first", [0.0, -0.1, math.nan, math.inf, "0.1", True, None])
def test_toy_rejects_bad_scale_first(scale_first):
    with pytest.raises(ValueError, match="scale_first must be a finite real number > 0"):
        CAGradToy(scale_first=scale_first)
