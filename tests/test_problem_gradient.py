import numpy as np
import pytest
from pymoo.core.callback import Callback
from pymoo.core.problem import ElementwiseProblem, Problem
from pymoo.optimize import minimize
from pymoo.problems import get_problem

import pymoo.gradient.toolbox as anp
from pmo_grad import MGDA, PSMGD, ConstantStep
from pmo_grad.algorithms import NonFiniteObjectiveError
from pmo_grad.problems import (
    ConvexQuadraticPair,
    InvalidJacobianError,
    NonFiniteGradientError,
    ProblemGradient,
    UnsupportedProblemError,
)


def central_differences(problem: Problem, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    J = np.empty((problem.n_obj, problem.n_var))
    for j in range(problem.n_var):
        e = np.zeros(problem.n_var)
        e[j] = h
        J[:, j] = (problem.evaluate(x + e) - problem.evaluate(x - e)) / (2 * h)
    return J


class PlainNumpy(Problem):
    def __init__(self) -> None:
        super().__init__(n_var=3, n_obj=2, xl=0.0, xu=1.0)

    def _evaluate(self, x, out, *args, **kwargs):
        out["F"] = np.column_stack([np.sum(x**2, axis=1), np.sum((x - 1) ** 2, axis=1)])


class WrongShapeJacobian(Problem):
    def __init__(self) -> None:
        super().__init__(n_var=3, n_obj=2, xl=0.0, xu=1.0)

    def _evaluate(self, x, out, *args, **kwargs):
        out["F"] = np.column_stack([x[:, 0], x[:, 1]])
        if "dF" in out:
            out["dF"] = np.ones((len(x), 3, 2))


class InteriorKink(Problem):
    """f1 = √|x0 − 0.5| has an infinite derivative at the interior point x0 = 0.5."""

    def __init__(self) -> None:
        super().__init__(n_var=2, n_obj=2, xl=0.0, xu=1.0)

    def _evaluate(self, x, out, *args, **kwargs):
        out["F"] = anp.column_stack([anp.sqrt(anp.abs(x[:, 0] - 0.5)), anp.sum(x**2, axis=1)])


class NanObjective(Problem):
    """log(x0) is NaN for the negative half of the box."""

    def __init__(self) -> None:
        super().__init__(n_var=2, n_obj=2, xl=-1.0, xu=1.0)

    def _evaluate(self, x, out, *args, **kwargs):
        out["F"] = anp.column_stack([anp.log(x[:, 0]), anp.sum(x**2, axis=1)])


def test_autograd_jacobian_matches_finite_differences():
    rng = np.random.default_rng(0)
    for problem in (get_problem("zdt1", n_var=5), get_problem("zdt3", n_var=5), get_problem("dtlz2", n_var=6, n_obj=3)):
        X = rng.uniform(0.1, 0.9, size=(4, problem.n_var))
        J = ProblemGradient(problem).jacobian(X)
        assert J.shape == (4, problem.n_obj, problem.n_var)
        for k in range(4):
            np.testing.assert_allclose(J[k], central_differences(problem, X[k]), rtol=1e-6, atol=1e-7)


def test_native_jacobian_is_used_as_given():
    problem = ConvexQuadraticPair(n_var=3)
    gradient = ProblemGradient(problem)
    X = np.random.default_rng(1).uniform(-1, 1, size=(5, 3))
    J = gradient.jacobian(X)
    assert gradient.source.kind == "native"
    expected = problem.evaluate(X, return_values_of=["dF"])
    np.testing.assert_array_equal(J, expected)


def test_weighted_gradient_equals_weighted_jacobian(smooth_pair):
    gradient = ProblemGradient(smooth_pair)
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(6, 4))
    J = gradient.jacobian(X)
    weights = rng.dirichlet(np.ones(2), size=6)
    direct, formed = gradient.weighted_gradient(X, weights)
    assert gradient.source.kind == "autograd"
    assert formed is None
    np.testing.assert_allclose(direct, np.einsum("ks,ksd->kd", weights, J), rtol=1e-12, atol=1e-12)


def test_weighted_gradient_of_native_problem_returns_its_jacobian():
    problem = ConvexQuadraticPair(n_var=3)
    gradient = ProblemGradient(problem)
    X = np.zeros((2, 3))
    gradient.jacobian(X)
    weights = np.array([[0.5, 0.5], [1.0, 0.0]])
    direct, J = gradient.weighted_gradient(X, weights)
    assert J is not None
    np.testing.assert_allclose(direct, np.einsum("ks,ksd->kd", weights, J))


def test_plain_numpy_problem_gets_a_clear_error():
    with pytest.raises(InvalidJacobianError, match=r"PlainNumpy.*identically zero.*pymoo.gradient.toolbox"):
        minimize(PlainNumpy(), MGDA(pop_size=4), ("n_gen", 3), seed=1)


def test_wrong_shape_native_jacobian_is_rejected():
    with pytest.raises(InvalidJacobianError, match=r"WrongShapeJacobian sets out\['dF'\] with shape \(1, 3, 2\).*\(2, 3\)"):
        minimize(WrongShapeJacobian(), MGDA(pop_size=4), ("n_gen", 3), seed=1)


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("zdt5", "ZDT5 has binary variables"),
        ("mw1", "MW1 belongs to the MW test suite"),
        ("df1", "DF1 belongs to the DF test suite"),
        ("bnh", "BNH has 2 constraint"),
    ],
)
def test_unsupported_problems_are_named_with_a_fix(name, pattern):
    with pytest.raises(UnsupportedProblemError, match=pattern):
        minimize(get_problem(name), PSMGD(q=5, pop_size=4), ("n_gen", 2), seed=1)


def test_interior_singularity_raises_naming_point_and_objective():
    gradient = ProblemGradient(InteriorKink())
    X = np.array([[0.2, 0.3], [0.5, 0.3]])
    with pytest.raises(NonFiniteGradientError, match=r"InteriorKink.*point 1, objective 0 at an interior point"):
        gradient.jacobian(X)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_non_finite_objective_stops_the_run():
    with pytest.raises(NonFiniteObjectiveError, match=r"NanObjective returned non-finite objectives"):
        minimize(NanObjective(), MGDA(pop_size=6), ("n_gen", 3), seed=1)


@pytest.mark.parametrize(
    ("name", "kwargs", "make_point"),
    [
        ("zdt1", {"n_var": 5}, lambda n: np.r_[0.0, np.full(n - 1, 0.3)]),
        ("zdt3", {"n_var": 5}, lambda n: np.r_[0.0, np.full(n - 1, 0.3)]),
        ("zdt4", {"n_var": 5}, lambda n: np.r_[0.0, np.full(n - 1, 0.3)]),
        ("zdt6", {"n_var": 5}, lambda n: np.r_[0.4, np.zeros(n - 1)]),
        ("dtlz6", {"n_var": 6, "n_obj": 3}, lambda n: np.r_[0.3, 0.6, np.zeros(n - 2)]),
    ],
)
def test_singular_points_on_bounds_get_one_sided_derivatives(name, kwargs, make_point):
    problem = get_problem(name, **kwargs)
    x = make_point(problem.n_var)
    gradient = ProblemGradient(problem)
    J = gradient.jacobian(np.vstack([np.full(problem.n_var, 0.5), x]))
    assert np.all(np.isfinite(J))
    # The derivative is read just inside the bound, at x + offset·(xu − xl) on the bounded coordinates.
    moved = x + np.where(x <= problem.xl, 1e-8 * (problem.xu - problem.xl), 0.0)
    expected = ProblemGradient(problem).jacobian(moved[None])[0]
    np.testing.assert_allclose(J[1], expected, rtol=1e-12)


class FiniteEverywhere(Callback):
    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    def notify(self, algorithm):
        assert np.all(np.isfinite(algorithm.pop.get("X")))
        assert np.all(np.isfinite(algorithm.pop.get("F")))
        if algorithm.weights is not None:
            assert np.all(np.isfinite(algorithm.weights))
        if algorithm.jacobian is not None:
            assert np.all(np.isfinite(algorithm.jacobian))
        self.checked += 1


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("zdt1", {"n_var": 6}), ("zdt3", {"n_var": 6}), ("zdt4", {"n_var": 6}), ("zdt6", {"n_var": 6}), ("dtlz6", {"n_var": 6, "n_obj": 3})],
)
def test_runs_through_singular_bounds_stay_finite(name, kwargs):
    # A large step drives many coordinates onto their bounds, where the singular derivatives sit.
    check = FiniteEverywhere()
    minimize(get_problem(name, **kwargs), PSMGD(q=2, pop_size=12, step=ConstantStep(1.0)), ("n_gen", 40), seed=1, callback=check)
    assert check.checked == 40


class FlippedSign(Problem):
    """The quadratic pair with the sign of out['dF'] flipped: a wrong gradient of the right shape."""

    def __init__(self) -> None:
        super().__init__(n_var=3, n_obj=2, xl=-2.0, xu=2.0)
        self.inner = ConvexQuadraticPair(n_var=3)

    def _evaluate(self, x, out, *args, **kwargs):
        self.inner._evaluate(x, out, *args, **kwargs)
        if out.get("dF") is not None:
            out["dF"] = -out["dF"]


class ElementwisePlainNumpy(ElementwiseProblem):
    def __init__(self) -> None:
        super().__init__(n_var=2, n_obj=2, xl=0.0, xu=1.0)

    def _evaluate(self, x, out, *args, **kwargs):
        out["F"] = np.array([np.sum(x**2), np.sum((x - 1.0) ** 2)])


def test_wrong_sign_jacobian_fails_the_finite_difference_check():
    with pytest.raises(InvalidJacobianError, match=r"FlippedSign disagrees with finite differences of F at point 0, objective 0"):
        minimize(FlippedSign(), MGDA(pop_size=4), ("n_gen", 3), seed=1)


def test_finite_difference_check_can_be_switched_off():
    res = minimize(FlippedSign(), MGDA(pop_size=4, check_gradient=False), ("n_gen", 3), seed=1)
    assert res.algorithm.counters["n_check_evals"] == 1


def test_correct_jacobians_pass_the_finite_difference_check():
    for problem in (ConvexQuadraticPair(n_var=4), get_problem("zdt3", n_var=6), get_problem("dtlz2", n_var=7, n_obj=3)):
        gradient = ProblemGradient(problem)
        X = np.random.default_rng(3).uniform(problem.xl + 0.1, problem.xu - 0.1, size=(5, problem.n_var))
        gradient.jacobian(X)
        assert gradient.n_check_evals == 1 + 3 * 4


def test_elementwise_plain_numpy_problem_gets_a_clear_error():
    with pytest.raises(InvalidJacobianError, match=r"automatic differentiation of problem ElementwisePlainNumpy failed.*toolbox"):
        minimize(ElementwisePlainNumpy(), MGDA(pop_size=4), ("n_gen", 3), seed=1)
