import math

import numpy as np
import pytest
from pymoo.optimize import minimize

from pmo_grad import MGDA, PSMGD, SMGD, STIMULUS, ConstantStep, FullData, Minibatch, MoCo, Recursive, SampleBudgetTermination
from pmo_grad.estimators import Tracking
from pmo_grad.problems import ConvexQuadraticPair
from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.weighting import MinNorm, gramian


class SampleQuadratics(FiniteSumProblem):
    """A smooth non-quadratic per-sample loss, so gradient differences depend on x.

    f_{s,j}(x) = ½‖x − c_{s,j}‖² + 0.1 · Σ_i cos(x_i + c_{s,j,i}), with gradient
    x − c_{s,j} − 0.1 · sin(x + c_{s,j}).
    """

    def __init__(self, n_samples=12, n_obj=2, n_var=3, seed=0, chunk_size=5):
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, n_var=n_var, n_obj=n_obj, xl=-3.0, xu=3.0)
        self.centers = np.random.default_rng(seed).normal(size=(n_obj, n_samples, n_var))

    def _sample_values(self, X, idx):
        c = self.centers[:, idx, :]  # (m, b, d)
        diff = X[:, None, None, :] - c[None]
        values = 0.5 * np.sum(diff**2, axis=-1) + 0.1 * np.sum(np.cos(X[:, None, None, :] + c[None]), axis=-1)
        return values.sum(axis=2)

    def _sample_jacobian(self, X, idx):
        c = self.centers[:, idx, :]
        grads = X[:, None, None, :] - c[None] - 0.1 * np.sin(X[:, None, None, :] + c[None])
        return grads.sum(axis=2)


def direct_jacobian(problem, X, idx):
    return np.mean([problem._sample_jacobian(X, np.array([j])) for j in idx], axis=0)


def test_recursive_equals_direct_spider_recursion():
    problem = SampleQuadratics()
    estimator = Recursive(batch_size=4, period=3)
    state = estimator.init(problem, n_points=2, period=None)
    rng = np.random.default_rng(5)
    replay = np.random.default_rng(5)
    path = np.random.default_rng(1).uniform(-1, 1, size=(7, 2, 3))

    u = None
    for t, X in enumerate(path):
        J, state, cost = estimator.jacobian(state, X, t, rng)
        if t % 3 == 0:
            u = direct_jacobian(problem, X, range(problem.n_samples))
            assert cost.n_sample_grads == 2 * 2 * 12
        else:
            A = np.sort(replay.choice(12, size=4, replace=False))
            u = u + direct_jacobian(problem, X, A) - direct_jacobian(problem, path[t - 1], A)
            assert cost.n_sample_grads == 2 * 2 * 2 * 4
        np.testing.assert_allclose(J, u, rtol=1e-12, atol=1e-12)


def test_recursive_with_all_samples_is_exact():
    problem = SampleQuadratics()
    full = Recursive(batch_size=problem.n_samples, period=100)
    state = full.init(problem, 3, None)
    rng = np.random.default_rng(0)
    for t, X in enumerate(np.random.default_rng(2).uniform(-2, 2, size=(6, 3, 3))):
        J, state, _ = full.jacobian(state, X, t, rng)
        np.testing.assert_allclose(J, problem.sample_jacobian(X), rtol=1e-11, atol=1e-12)


def test_weighted_recursion_with_all_samples_is_exact():
    problem = SampleQuadratics(n_obj=3)
    estimator = Recursive(batch_size=problem.n_samples, period=4)
    state = estimator.init(problem, 2, None)
    rng = np.random.default_rng(0)
    weights = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    path = np.random.default_rng(3).uniform(-1, 1, size=(8, 2, 3))
    J, state, _ = estimator.jacobian(state, path[0], 0, rng)
    for t in range(1, 8):
        D, formed, state, cost = estimator.weighted_gradient(state, path[t], weights, t, rng)
        assert formed is None
        np.testing.assert_allclose(D, problem.sample_weighted_gradient(path[t], weights), rtol=1e-11, atol=1e-12)
        expected = 2 * problem.n_samples if t % 4 else problem.n_samples
        assert cost.n_sample_grads == 2 * expected
        assert cost.n_weighted_grad == 2


def test_weighted_recursion_matches_direct_formula():
    problem = SampleQuadratics()
    estimator = Recursive(batch_size=3, period=10)
    state = estimator.init(problem, 1, None)
    rng, replay = np.random.default_rng(9), np.random.default_rng(9)
    weights = np.array([[0.7, 0.3]])
    path = np.random.default_rng(4).uniform(-1, 1, size=(5, 1, 3))
    J, state, _ = estimator.jacobian(state, path[0], 0, rng)
    u = weights @ J[0]
    for t in range(1, 5):
        D, _, state, _ = estimator.weighted_gradient(state, path[t], weights, t, rng)
        A = np.sort(replay.choice(12, size=3, replace=False))
        grad = lambda X: np.einsum("ks,ksd->kd", weights, direct_jacobian(problem, X, A))
        u = u + grad(path[t]) - grad(path[t - 1])
        np.testing.assert_allclose(D, u, rtol=1e-12, atol=1e-12)


def test_minibatch_draws_from_the_given_generator():
    problem = SampleQuadratics()
    estimator = Minibatch(batch_size=5)
    state = estimator.init(problem, 2, None)
    X = np.zeros((2, 3))
    J1, _, cost = estimator.jacobian(state, X, 0, np.random.default_rng(3))
    J2, _, _ = estimator.jacobian(state, X, 0, np.random.default_rng(3))
    np.testing.assert_array_equal(J1, J2)
    A = np.sort(np.random.default_rng(3).choice(12, size=5, replace=False))
    np.testing.assert_allclose(J1, direct_jacobian(problem, X, A), rtol=1e-12)
    assert cost.n_sample_grads == 2 * 2 * 5


def test_minibatch_with_replacement_allows_batches_above_n():
    problem = SampleQuadratics()
    with pytest.raises(ValueError, match="batch_size 20 exceeds the problem's 12 samples"):
        Minibatch(batch_size=20).init(problem, 1, None)
    state = Minibatch(batch_size=20, replace=True).init(problem, 1, None)
    assert state is problem


@pytest.mark.parametrize("make", [lambda: Minibatch(4), lambda: Recursive(), lambda: Tracking()])
def test_sampling_estimators_need_a_finite_sum_problem(make):
    with pytest.raises(TypeError, match="needs a FiniteSumProblem"):
        make().init(ConvexQuadraticPair(n_var=3), 1, None)


def test_psmgd_q1_equals_mgda_on_finite_sum():
    problem = SampleQuadratics()
    a = minimize(problem, PSMGD(q=1, pop_size=5, estimator=FullData()), ("n_gen", 15), seed=2)
    b = minimize(problem, MGDA(pop_size=5), ("n_gen", 15), seed=2)
    np.testing.assert_array_equal(a.algorithm.pop.get("X"), b.algorithm.pop.get("X"))


@pytest.mark.parametrize(
    "make",
    [
        lambda: PSMGD(q=5, pop_size=4, estimator=Minibatch(4)),
        lambda: PSMGD(q=None, pop_size=4, estimator=Recursive()),
        lambda: SMGD(batch_size=4, pop_size=4),
        lambda: STIMULUS(pop_size=4),
        lambda: MoCo(batch_size=4, pop_size=4),
    ],
    ids=["psmgd-minibatch", "psmgd-vr", "smgd", "stimulus", "moco"],
)
def test_stochastic_methods_run_and_repeat_with_the_seed(make):
    problem = SampleQuadratics()
    a = minimize(problem, make(), ("n_gen", 12), seed=4)
    b = minimize(problem, make(), ("n_gen", 12), seed=4)
    c = minimize(problem, make(), ("n_gen", 12), seed=5)
    np.testing.assert_array_equal(a.algorithm.pop.get("X"), b.algorithm.pop.get("X"))
    assert a.algorithm.counters == b.algorithm.counters
    assert not np.array_equal(a.algorithm.pop.get("X"), c.algorithm.pop.get("X"))
    assert np.all(np.isfinite(a.F))


def test_psmgd_vr_counters_add_up():
    problem = SampleQuadratics(n_samples=16)
    K, m, n = 3, 2, 16
    res = minimize(problem, PSMGD(q=None, pop_size=K, estimator=Recursive()), ("n_gen", 11), seed=1)
    assert res.algorithm.q == math.ceil(math.sqrt(n)) == 4
    counters = res.algorithm.counters
    steps = 10  # generation 1 only evaluates the start points
    refreshes = len([t for t in range(steps) if t % 4 == 0])
    inner = steps - refreshes
    assert counters["n_grad"] == K * refreshes
    assert counters["n_weighted_grad"] == K * inner
    assert counters["n_weight_solves"] == K * refreshes
    assert counters["n_sample_grads"] == K * (refreshes * m * n + inner * 2 * 4)


def test_sample_budget_termination_stops_at_the_budget():
    problem = SampleQuadratics()
    per_step = 4 * 2 * 3  # pop 4, m = 2, batch 3
    res = minimize(problem, SMGD(batch_size=3, pop_size=4), SampleBudgetTermination(10 * per_step), seed=1)
    assert res.algorithm.counters["n_sample_grads"] == 10 * per_step


@pytest.mark.parametrize("budget", [0, -5, float("nan"), "100", 1.5])
def test_sample_budget_rejects_bad_values(budget):
    with pytest.raises(ValueError, match="max_sample_grads"):
        SampleBudgetTermination(budget)


def test_psmgd_q_none_needs_a_finite_sum_problem():
    with pytest.raises(ValueError, match="q=None means"):
        minimize(ConvexQuadraticPair(n_var=3), PSMGD(q=None, pop_size=2), ("n_gen", 2), seed=1)


class TwoLinearSamples(FiniteSumProblem):
    """Two samples with constant per-sample Jacobians J_1, J_2, so the direction does not depend on x."""

    JACOBIANS = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [-3.0, 1.0]]])  # (sample, objective, variable)

    def __init__(self):
        super().__init__(n_samples=2, n_var=2, n_obj=2, xl=-1e6, xu=1e6)

    def _sample_values(self, X, idx):
        return np.einsum("jsd,kd->ks", self.JACOBIANS[idx], X)

    def _sample_jacobian(self, X, idx):
        return np.tile(self.JACOBIANS[idx].sum(axis=0), (len(X), 1, 1))


def min_norm_direction(J):
    weights = MinNorm()(gramian(J[None]))[0]
    return weights @ J


class DirectionRecorder:
    def __init__(self):
        self.directions = []

    def __call__(self, algorithm):
        if algorithm.weights is not None:
            self.directions.append(np.einsum("ks,ksd->kd", algorithm.weights, algorithm.jacobian)[0])


def test_smgd_is_biased_and_moco_corrects_it():
    problem = TwoLinearSamples()
    J = problem.JACOBIANS
    true_direction = min_norm_direction(J.mean(axis=0))
    smgd_expectation = np.mean([min_norm_direction(J[0]), min_norm_direction(J[1])], axis=0)
    np.testing.assert_allclose(true_direction, [4 / 29, 10 / 29], atol=1e-12)  # closed form for g2 = (-1.5, 1)
    assert np.linalg.norm(smgd_expectation - true_direction) > 0.12

    smgd, moco = DirectionRecorder(), DirectionRecorder()
    minimize(problem, SMGD(batch_size=1, pop_size=1, step=ConstantStep(1e-3)), ("n_gen", 3001), seed=1, callback=smgd)
    minimize(problem, MoCo(batch_size=1, beta=0.02, gamma=0.05, pop_size=1, step=ConstantStep(1e-3)),
             ("n_gen", 3001), seed=1, callback=moco)
    smgd_mean = np.mean(smgd.directions[1000:], axis=0)
    moco_mean = np.mean(moco.directions[1000:], axis=0)
    # SMGD's average direction is the biased expectation, MoCo's is the full-data MGDA direction.
    assert np.linalg.norm(smgd_mean - smgd_expectation) < 0.02
    assert np.linalg.norm(smgd_mean - true_direction) > 0.1
    assert np.linalg.norm(moco_mean - true_direction) < 0.02


def test_tracking_averages_inner_estimates():
    problem = SampleQuadratics()
    tracking = Tracking(Minibatch(3), beta=0.25)
    state = tracking.init(problem, 1, None)
    rng, replay = np.random.default_rng(6), np.random.default_rng(6)
    X = np.zeros((1, 3))
    expected = None
    for t in range(5):
        Y, state, _ = tracking.jacobian(state, X, t, rng)
        A = np.sort(replay.choice(12, size=3, replace=False))
        estimate = direct_jacobian(problem, X, A)
        expected = estimate if expected is None else expected - 0.25 * (expected - estimate)
        np.testing.assert_allclose(Y, expected, rtol=1e-12)


def test_tracking_rejects_weighted_requests_and_bad_beta():
    with pytest.raises(ValueError, match="beta must lie in"):
        Tracking(beta=0.0)
    problem = SampleQuadratics()
    tracking = Tracking(Minibatch(3))
    with pytest.raises(TypeError, match="cannot return a weighted gradient on its own"):
        tracking.weighted_gradient(tracking.init(problem, 1, None), np.zeros((1, 3)), np.ones((1, 2)) / 2, 0, None)


def test_verbose_display_shows_sample_gradients(capsys):
    minimize(SampleQuadratics(), PSMGD(q=2, pop_size=3, estimator=Recursive()), ("n_gen", 3), seed=1, verbose=True)
    printed = capsys.readouterr().out
    assert "n_sgrad" in printed


def test_finite_sum_rejects_bad_points_and_weights():
    problem = SampleQuadratics()
    with pytest.raises(ValueError, match=r"points must have shape \(K, n_var\) = \(K, 3\)"):
        problem.sample_jacobian(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"weights must have shape \(K, n_obj\) = \(2, 2\)"):
        problem.sample_weighted_gradient(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"sample indices must lie in \[0, 12\)"):
        problem.sample_values(np.zeros((1, 3)), np.array([0, 12]))


def test_psmgd_runs_on_shipped_and_noisy_problems():
    from pymoo.problems import get_problem

    from pmo_grad.problems import GroupLogisticRegression, NoisyGradients

    logistic = GroupLogisticRegression.breast_cancer_groups()
    res = minimize(logistic, PSMGD(q=5, pop_size=4, estimator=Minibatch(16)), ("n_gen", 30), seed=1)
    assert np.all(np.isfinite(res.F))
    assert res.algorithm.counters["n_sample_grads"] > 0

    noisy = NoisyGradients(get_problem("zdt1", n_var=5), sigma=0.1, n_samples=200, seed=3)
    res = minimize(noisy, PSMGD(q=5, pop_size=6, estimator=Recursive()), ("n_gen", 30), seed=1)
    assert np.all(np.isfinite(res.F))
    start = noisy.evaluate(res.algorithm.pop.get("X"))
    assert res.algorithm.counters["n_sample_grads"] > 0
    assert start.shape == (6, 2)


def test_sample_budget_needs_a_finite_sum_problem():
    from pymoo.algorithms.moo.nsga2 import NSGA2

    with pytest.raises(TypeError, match="needs a pmo_grad gradient algorithm on a FiniteSumProblem"):
        minimize(ConvexQuadraticPair(n_var=3), PSMGD(pop_size=2), SampleBudgetTermination(100), seed=1)
    with pytest.raises(TypeError, match="got NSGA2 on SampleQuadratics"):
        minimize(SampleQuadratics(), NSGA2(pop_size=4), SampleBudgetTermination(100), seed=1)


def test_recursive_period_error_names_the_unit():
    with pytest.raises(ValueError, match=r"period must be an integer >= 1 \(iterations between full-data refreshes\)"):
        Recursive(period=0)


def test_psmgd_repr_before_setup_shows_the_deferred_period():
    assert "q=None" in repr(PSMGD(q=None))


def test_finite_sum_rejects_non_finite_points():
    with pytest.raises(ValueError, match="NaN or infinite"):
        SampleQuadratics().sample_jacobian(np.array([[0.0, np.nan, 1.0]]))
