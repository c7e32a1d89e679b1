import numpy as np
import pytest
from pymoo.core.callback import Callback
from pymoo.optimize import minimize
from pymoo.problems import get_problem

from pmo_grad import MGDA, PSMGD, ArmijoStep, ConstantStep, DecayingStep, LinearScalarization
from pmo_grad.problems import CAGradToy, ConvexQuadraticPair
from tests.conftest import RecordingProblem


class WeightRecorder(Callback):
    def __init__(self) -> None:
        super().__init__()
        self.weights = []
        self.X = []

    def notify(self, algorithm):
        self.X.append(algorithm.pop.get("X").copy())
        if algorithm.weights is not None:
            self.weights.append(algorithm.weights.copy())


def test_issue_example_runs_on_zdt1():
    res = minimize(get_problem("zdt1"), PSMGD(q=5), ("n_gen", 300), seed=1)
    assert res.F.ndim == 2
    assert res.F.shape[1] == 2
    assert np.all(np.isfinite(res.F))


def test_default_termination_stops():
    res = minimize(ConvexQuadraticPair(n_var=3), PSMGD(q=5, pop_size=8), seed=1)
    assert res.algorithm.n_gen <= 1000
    assert res.algorithm.termination.has_terminated()


@pytest.mark.parametrize("make", [lambda: PSMGD(q=3, pop_size=12), lambda: MGDA(pop_size=12, step=ArmijoStep())])
def test_minimize_next_and_ask_tell_agree(make):
    problem = get_problem("zdt2", n_var=6)
    res = minimize(problem, make(), ("n_gen", 15), seed=4)

    algorithm = make()
    algorithm.setup(problem, termination=("n_gen", 15), seed=4)
    while algorithm.has_next():
        algorithm.next()
    X_next = algorithm.pop.get("X")

    algorithm = make()
    algorithm.setup(problem, termination=("n_gen", 15), seed=4)
    while algorithm.has_next():
        pop = algorithm.ask()
        algorithm.evaluator.eval(problem, pop)
        algorithm.tell(infills=pop)
    X_ask = algorithm.pop.get("X")

    np.testing.assert_array_equal(res.algorithm.pop.get("X"), X_next)
    np.testing.assert_array_equal(X_next, X_ask)


def test_same_seed_same_run_other_seed_differs():
    problem = get_problem("dtlz2", n_var=7, n_obj=3)
    a = minimize(problem, PSMGD(q=4, pop_size=10), ("n_gen", 20), seed=7).algorithm.pop.get("X")
    b = minimize(problem, PSMGD(q=4, pop_size=10), ("n_gen", 20), seed=7).algorithm.pop.get("X")
    c = minimize(problem, PSMGD(q=4, pop_size=10), ("n_gen", 20), seed=8).algorithm.pop.get("X")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("problem", [get_problem("zdt1", n_var=8), get_problem("dtlz2", n_var=6, n_obj=3)])
def test_psmgd_q1_equals_mgda_bit_for_bit(problem):
    rec_p, rec_m = WeightRecorder(), WeightRecorder()
    minimize(problem, PSMGD(q=1, pop_size=10), ("n_gen", 30), seed=3, callback=rec_p)
    minimize(problem, MGDA(pop_size=10), ("n_gen", 30), seed=3, callback=rec_m)
    for xp, xm in zip(rec_p.X, rec_m.X, strict=True):
        np.testing.assert_array_equal(xp, xm)


def test_psmgd_reuses_weights_between_refreshes():
    rec = WeightRecorder()
    res = minimize(get_problem("dtlz2", n_var=6, n_obj=3), PSMGD(q=4, pop_size=6), ("n_gen", 14), seed=2, callback=rec)
    weights = rec.weights  # weights[t] was used for step t
    assert len(weights) == 13
    for t in range(1, len(weights)):
        if t % 4 == 0:
            assert not np.array_equal(weights[t], weights[t - 1])
        else:
            np.testing.assert_array_equal(weights[t], weights[t - 1])
    counters = res.algorithm.counters
    assert counters["n_weight_solves"] == 6 * 4  # refreshes at t = 0, 4, 8, 12
    assert counters["n_grad"] == 6 * 4
    assert counters["n_weighted_grad"] == 6 * 9


def test_psmgd_smoothing_follows_the_formula():
    problem = get_problem("zdt1", n_var=5)
    rec_plain, rec_smooth = WeightRecorder(), WeightRecorder()
    minimize(problem, PSMGD(q=3, alpha=0.0, pop_size=5), ("n_gen", 2), seed=1, callback=rec_plain)
    algorithm = PSMGD(q=3, alpha=0.25, pop_size=5)
    minimize(problem, algorithm, ("n_gen", 8), seed=1, callback=rec_smooth)
    np.testing.assert_array_equal(rec_smooth.weights[0], rec_plain.weights[0])

    # Recompute the refresh at t = 3 from the Jacobian at that point.
    from pmo_grad.weighting import MinNorm, gramian

    X3 = rec_smooth.X[3]  # X[0] is the start; X[t] is where step t starts
    from pmo_grad.problems import ProblemGradient

    from pmo_grad.problems.bounds import blocked_coordinates

    J = ProblemGradient(problem).jacobian(X3)
    J = np.where(blocked_coordinates(X3, problem.xl, problem.xu, J)[:, None, :], 0.0, J)
    solved = MinNorm()(gramian(J))
    expected = 0.25 * rec_smooth.weights[2] + 0.75 * solved
    np.testing.assert_allclose(rec_smooth.weights[3], expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rec_smooth.weights[3].sum(axis=1), 1.0)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_psmgd_rejects_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match="alpha"):
        PSMGD(q=5, alpha=alpha)


@pytest.mark.parametrize("q", [0, -2, 2.5, True])
def test_psmgd_rejects_bad_period(q):
    with pytest.raises(ValueError, match="q must be"):
        PSMGD(q=q)


@pytest.mark.parametrize("step", [0.1, "armijo", None.__class__])
def test_rejects_invalid_step(step):
    with pytest.raises(TypeError, match="step must be a step rule such as ConstantStep"):
        PSMGD(q=5, step=step)


def test_armijo_reuses_the_last_accepted_step():
    problem = get_problem("dtlz2", n_var=8, n_obj=3)
    res = minimize(problem, MGDA(pop_size=10, step=ArmijoStep(lr=1.0)), ("n_gen", 30), seed=1)
    # Without memory every step would start from η₀ = 1 and backtrack about 4 times per point.
    per_point_per_step = res.algorithm.counters["n_eval"] / (10 * 29)
    assert per_point_per_step < 3.0
    assert np.all(res.algorithm.step_state > 0)


@pytest.mark.parametrize("pop_size", [0, -1, 1.5])
def test_rejects_bad_pop_size(pop_size):
    with pytest.raises(ValueError, match="pop_size"):
        MGDA(pop_size=pop_size)


@pytest.mark.parametrize(
    "step", [ConstantStep(0.3), DecayingStep(0.5), ArmijoStep(lr=2.0)], ids=["constant", "decaying", "armijo"]
)
def test_every_evaluated_point_lies_in_the_box(step):
    problem = RecordingProblem(get_problem("zdt1", n_var=6))
    minimize(problem, MGDA(pop_size=10, step=step), ("n_gen", 25), seed=5)
    seen = np.concatenate(problem.seen)
    assert len(seen) > 0
    assert np.all(seen >= problem.xl)
    assert np.all(seen <= problem.xu)


def test_counters_add_up_with_armijo():
    problem = RecordingProblem(ConvexQuadraticPair(n_var=4))
    res = minimize(problem, MGDA(pop_size=7, step=ArmijoStep(lr=4.0)), ("n_gen", 10), seed=2)
    counters = res.algorithm.counters
    n_points_evaluated = sum(len(x) for x in problem.seen)
    assert counters["n_grad"] == 7 * 9
    assert counters["n_weight_solves"] == 7 * 9
    assert counters["n_eval"] == res.algorithm.evaluator.n_eval
    # One probe point finds the gradient source, and 4 points per checked start (3) test it.
    assert counters["n_check_evals"] == 1 + 3 * 4
    # Jacobian calls go through the same problem (native dF), so they are in the record too.
    assert n_points_evaluated == counters["n_eval"] + counters["n_grad"] + counters["n_check_evals"]
    assert counters["n_eval"] > 7 * 10  # backtracking made extra evaluations


def test_armijo_decreases_every_objective():
    problem = ConvexQuadraticPair(n_var=3)
    rec = WeightRecorder()
    minimize(problem, MGDA(pop_size=9, step=ArmijoStep(lr=8.0)), ("n_gen", 12), seed=1, callback=rec)
    F = [problem.evaluate(X) for X in rec.X]
    for before, after in zip(F, F[1:]):
        assert np.all(after <= before + 1e-15)


def test_linear_scalarization_reaches_the_weighted_minimizer():
    # argmin w1‖x − a‖² + w2‖x + a‖² = (w1 − w2) a with w normalized; here a = 𝟙/√n.
    n = 3
    problem = ConvexQuadraticPair(n_var=n)
    res = minimize(problem, LinearScalarization([3.0, 1.0], pop_size=5, step=ConstantStep(1.0)), ("n_gen", 200), seed=1)
    a = np.ones(n) / np.sqrt(n)
    expected = (0.75 - 0.25) * a
    np.testing.assert_allclose(res.algorithm.pop.get("X"), np.tile(expected, (5, 1)), atol=1e-8)


def test_linear_scalarization_rejects_wrong_weight_count():
    with pytest.raises(ValueError, match="2 objectives"):
        minimize(ConvexQuadraticPair(n_var=3), LinearScalarization([1.0, 1.0, 1.0], pop_size=3), ("n_gen", 2))


@pytest.mark.parametrize("weights", [[1.0, -1.0], [0.0, 0.0], [np.nan, 1.0]])
def test_linear_scalarization_rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="weights"):
        LinearScalarization(weights)


def test_mgda_converges_to_pareto_set_of_quadratic_pair():
    problem = ConvexQuadraticPair(n_var=4)
    res = minimize(problem, MGDA(pop_size=10, step=ConstantStep(1.0)), ("n_gen", 300), seed=3)
    X = res.algorithm.pop.get("X")
    # Pareto set: x = t·𝟙 with |t| <= 1/√n.
    spread = X - X.mean(axis=1, keepdims=True)
    assert np.abs(spread).max() < 1e-6
    assert np.all(np.abs(X[:, 0]) <= 1 / np.sqrt(4) + 1e-9)
    assert res.algorithm.stationarity.max() < 1e-10


def test_verbose_run_without_pareto_front(capsys):
    problem = CAGradToy()
    assert problem.pareto_front() is None
    minimize(problem, PSMGD(q=2, pop_size=5, step=ConstantStep(0.01)), ("n_gen", 4), seed=1, verbose=True)
    printed = capsys.readouterr().out
    for column in ("n_gen", "n_eval", "n_grad", "n_wsolve", "stat_mean", "stat_max", "eps"):
        assert column in printed


def test_verbose_run_shows_igd_with_known_front(capsys):
    minimize(get_problem("zdt1", n_var=5), MGDA(pop_size=5), ("n_gen", 3), seed=1, verbose=True)
    printed = capsys.readouterr().out
    assert "igd" in printed
    assert "stat_max" in printed


def test_result_has_opt_and_pop():
    res = minimize(get_problem("zdt2", n_var=5), PSMGD(q=2, pop_size=6), ("n_gen", 5), seed=1)
    assert res.X.shape[1] == 5
    assert len(res.pop) == 6
    assert res.algorithm.counters["n_eval"] == 6 * 5


def test_algorithm_pickles_midway_and_resumes_identically():
    import pickle

    problem = get_problem("zdt1", n_var=5)
    reference = PSMGD(q=3, pop_size=5)
    reference.setup(problem, termination=("n_gen", 12), seed=1)
    while reference.has_next():
        reference.next()

    algorithm = PSMGD(q=3, pop_size=5)
    algorithm.setup(problem, termination=("n_gen", 12), seed=1)
    for _ in range(5):
        algorithm.next()
    resumed = pickle.loads(pickle.dumps(algorithm))
    while resumed.has_next():
        resumed.next()
    np.testing.assert_array_equal(resumed.pop.get("X"), reference.pop.get("X"))
    assert resumed.counters == reference.counters


def test_history_keeps_counters_per_generation():
    res = minimize(get_problem("zdt1", n_var=5), PSMGD(q=3, pop_size=5), ("n_gen", 6), seed=1, save_history=True)
    assert len(res.history) == 6
    grads = [entry.counters["n_grad"] + entry.counters["n_weighted_grad"] for entry in res.history]
    assert grads == [0, 5, 10, 15, 20, 25]


def test_blocked_coordinates_leave_the_weighting():
    from pmo_grad.problems.bounds import blocked_coordinates

    X = np.array([[0.0, 0.5, 1.0], [0.0, 0.5, 1.0]])
    xl, xu = np.zeros(3), np.ones(3)
    J = np.array([
        # both push x0 below 0 and x2 above 1: blocked; x1 is interior
        [[1.0, 1.0, -1.0], [2.0, -1.0, -3.0]],
        # gradients disagree on x0 and x2: a combination could move them inward
        [[1.0, 1.0, -1.0], [-2.0, -1.0, 3.0]],
    ])
    mask = blocked_coordinates(X, xl, xu, J)
    np.testing.assert_array_equal(mask, [[True, False, True], [False, False, False]])


def test_armijo_on_bounds_decreases_objectives():
    # DTLZ2 points reach x_i ∈ {0, 1}; with blocked coordinates every accepted step decreases all objectives.
    problem = get_problem("dtlz2", n_var=8, n_obj=3)
    rec = WeightRecorder()
    res = minimize(problem, MGDA(pop_size=10, step=ArmijoStep(lr=1.0)), ("n_gen", 30), seed=1, callback=rec)
    F = [problem.evaluate(X) for X in rec.X]
    for before, after in zip(F, F[1:]):
        assert np.all(after <= before + 1e-12)
    # No search ran out of its 31 trials: about one trial per point and step.
    assert res.algorithm.counters["n_eval"] < 2 * 10 * 30


def test_start_points_given_as_array_or_population():
    from pymoo.core.population import Population

    problem = get_problem("zdt1", n_var=4)
    X0 = np.random.default_rng(0).random((6, 4))
    from_array = minimize(problem, PSMGD(q=2, sampling=X0), ("n_gen", 1), seed=1)
    np.testing.assert_array_equal(from_array.algorithm.pop.get("X"), X0)
    from_pop = minimize(problem, PSMGD(q=2, sampling=Population.new(X=X0)), ("n_gen", 1), seed=1)
    np.testing.assert_array_equal(from_pop.algorithm.pop.get("X"), X0)


def test_start_points_outside_box_are_clipped(caplog):
    problem = get_problem("zdt1", n_var=3)
    X0 = np.array([[0.5, 0.5, 0.5], [1.5, -0.2, 0.3]])
    res = minimize(problem, MGDA(sampling=X0), ("n_gen", 1), seed=1)
    np.testing.assert_array_equal(res.algorithm.pop.get("X")[1], [1.0, 0.0, 0.3])
    assert "1 start point(s) lay outside" in caplog.text


@pytest.mark.parametrize("X0", [np.ones((3, 5)), np.full((2, 4), np.nan)])
def test_bad_start_points_raise(X0):
    with pytest.raises(ValueError, match="start points"):
        minimize(get_problem("zdt1", n_var=4), MGDA(sampling=X0), ("n_gen", 1), seed=1)
