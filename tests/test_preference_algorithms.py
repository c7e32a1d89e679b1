import numpy as np
import pytest
from pymoo.core.callback import Callback
from pymoo.indicators.hv import HV
from pymoo.optimize import minimize
from pymoo.problems import get_problem
from scipy.optimize import minimize as scipy_minimize

from pmo_grad import (
    EPO,
    PBI,
    ConstantStep,
    HypervolumeAscent,
    LinearScalarization,
    ParetoMTL,
    Tchebycheff,
)
from pmo_grad.algorithms.preference import default_reference_directions
from pmo_grad.problems import ConvexQuadraticPair, FonsecaFleming
from pmo_grad.weighting import subregion_violations

PREFERENCES = np.array([[0.1, 0.9], [0.3, 0.7], [0.5, 0.5], [0.8, 0.2], [0.95, 0.05]])


def ray_distance(F: np.ndarray, preferences: np.ndarray) -> np.ndarray:
    """Distance between the unit directions of F and of the preference vectors."""
    unit_F = F / np.linalg.norm(F, axis=1, keepdims=True)
    unit_w = preferences / np.linalg.norm(preferences, axis=1, keepdims=True)
    return np.linalg.norm(unit_F - unit_w, axis=1)


def quadratic_front_gap(F: np.ndarray) -> np.ndarray:
    """√f1 + √f2 − 1: zero on the front of the convex quadratic pair, positive above it."""
    return np.sqrt(F[:, 0]) + np.sqrt(F[:, 1]) - 1.0


def fonseca_front_gap(F: np.ndarray) -> np.ndarray:
    """f2 minus the front's f2 at the same f1 (front: f = (1 − e^{−(1−s)²}, 1 − e^{−(1+s)²}))."""
    s = 1.0 - np.sqrt(-np.log1p(-F[:, 0]))
    return F[:, 1] + np.expm1(-((1.0 + s) ** 2))


@pytest.mark.parametrize(("problem", "front_gap"), [
    (ConvexQuadraticPair(n_var=5), quadratic_front_gap),
    (FonsecaFleming(n_var=3), fonseca_front_gap),
])
def test_epo_ends_on_preference_ray(problem, front_gap):
    res = minimize(problem, EPO(PREFERENCES), ("n_gen", 300), seed=1)
    F = res.pop.get("F")
    assert np.all(ray_distance(F, PREFERENCES) < 2e-3)
    assert np.all(np.abs(front_gap(F)) < 1e-3)


def test_tchebycheff_ends_on_preference_ray():
    res = minimize(ConvexQuadraticPair(n_var=5), Tchebycheff(PREFERENCES), ("n_gen", 300), seed=1)
    F = res.pop.get("F")
    assert np.all(ray_distance(F, PREFERENCES) < 5e-3)
    assert np.all(np.abs(quadratic_front_gap(F)) < 5e-3)


def test_pbi_reaches_preference_region():
    res = minimize(ConvexQuadraticPair(n_var=5), PBI(PREFERENCES), ("n_gen", 300), seed=1)
    F = res.pop.get("F")
    assert np.all(ray_distance(F, PREFERENCES) < 0.05)
    assert np.all(np.abs(quadratic_front_gap(F)) < 0.01)


def test_pareto_mtl_ends_in_own_cone():
    res = minimize(ConvexQuadraticPair(n_var=5), ParetoMTL(PREFERENCES), ("n_gen", 300), seed=1)
    F = res.pop.get("F")
    assert np.all(subregion_violations(F, PREFERENCES, PREFERENCES) <= 1e-3)
    assert np.all(np.abs(quadratic_front_gap(F)) < 0.02)


def test_tchebycheff_covers_concave_front():
    preferences = default_reference_directions(2, 10)
    problem = FonsecaFleming(n_var=2)
    start = np.random.default_rng(0).uniform(-1.5, 1.5, size=(10, 2))

    tchebycheff = minimize(problem, Tchebycheff(preferences, sampling=start), ("n_gen", 200), seed=1).pop.get("F")
    linear_runs = [
        minimize(problem, LinearScalarization(w, pop_size=1, sampling=start[k:k + 1], step=ConstantStep(0.5)),
                 ("n_gen", 200), seed=1).pop.get("F")[0]
        for k, w in enumerate(preferences[1:-1], start=1)
    ]

    def largest_gap(F):
        f1 = np.sort(np.concatenate([F[:, 0], [0.0, 1.0 - np.exp(-4.0)]]))
        return np.diff(f1).max()

    assert np.all(np.abs(fonseca_front_gap(tchebycheff)) < 1e-3)
    assert largest_gap(tchebycheff) < 0.2
    # Weighted-sum minimizers on this front have |s| >= 0.957 (see FonsecaFleming), so the
    # weighted sums end near the two ends of the front.
    assert largest_gap(np.array(linear_runs)) > 0.8


class WeightRecorder(Callback):
    def __init__(self) -> None:
        super().__init__()
        self.weights = []

    def notify(self, algorithm):
        if algorithm.weights is not None:
            self.weights.append(algorithm.weights.copy())


@pytest.mark.parametrize("make", [
    lambda: EPO(pop_size=6, q=3),
    lambda: Tchebycheff(pop_size=6, q=3, smoothing=0.05),
    lambda: HypervolumeAscent([1.1, 1.1], pop_size=6, q=3),
])
def test_weights_refresh_every_q_steps(make):
    # Nine steps with q = 3: refreshes at steps 0, 3 and 6, each solving the weights of 6 points.
    recorder = WeightRecorder()
    res = minimize(ConvexQuadraticPair(n_var=4), make(), ("n_gen", 10), seed=2, callback=recorder)
    for t, weights in enumerate(recorder.weights[1:], start=1):
        if t % 3:
            np.testing.assert_array_equal(weights, recorder.weights[t - 1])
    assert not np.array_equal(recorder.weights[3], recorder.weights[2])
    assert res.algorithm.counters["n_weight_solves"] == 6 * 3


def test_objective_only_weightings_form_no_jacobian():
    problem = get_problem("zdt1", n_var=5)
    epo = minimize(problem, EPO(pop_size=4, q=2), ("n_gen", 9), seed=1).algorithm.counters
    pbi = minimize(problem, PBI(pop_size=4, q=2), ("n_gen", 9), seed=1).algorithm.counters
    # Eight steps. EPO forms the Jacobian at its 4 refreshes; PBI forms one only at the first
    # step, where the problem's gradient is checked, and weighted gradients afterwards.
    assert epo["n_grad"] >= 4 * 4
    assert pbi["n_grad"] == 4
    assert pbi["n_weighted_grad"] == 4 * 7


@pytest.mark.parametrize("make", [
    lambda: EPO(pop_size=5),
    lambda: ParetoMTL(pop_size=5),
    lambda: HypervolumeAscent([1.1, 1.1, 1.1], pop_size=5),
])
def test_same_seed_same_run(make):
    problem = get_problem("dtlz2", n_var=6, n_obj=3)
    first = minimize(problem, make(), ("n_gen", 15), seed=3).pop.get("X")
    second = minimize(problem, make(), ("n_gen", 15), seed=3).pop.get("X")
    other = minimize(problem, make(), ("n_gen", 15), seed=4).pop.get("X")
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_hypervolume_ascent_reaches_optimal_set():
    problem = ConvexQuadraticPair(n_var=3)
    ref = np.array([1.1, 1.1])
    indicator = HV(ref_point=ref)
    res = minimize(problem, HypervolumeAscent(ref, pop_size=5), ("n_gen", 400), seed=1)

    # Second implementation: the best 5 front points u ↦ (u², (1 − u)²), found by L-BFGS-B on pymoo's HV.
    def negative_hv(u):
        return -indicator(np.column_stack([u**2, (1 - u) ** 2]))

    best = min(
        (scipy_minimize(negative_hv, start, method="L-BFGS-B", bounds=[(0, 1)] * 5) for start in
         (np.linspace(0.05, 0.95, 5), np.linspace(0, 1, 5))),
        key=lambda result: result.fun,
    )
    assert indicator(res.pop.get("F")) == pytest.approx(-best.fun, abs=1e-4)


def test_default_directions_cover_the_simplex():
    two = default_reference_directions(2, 5)
    np.testing.assert_allclose(two[:, 0], [0.0, 0.25, 0.5, 0.75, 1.0])
    three = default_reference_directions(3, 100)
    assert three.shape == (100, 3)
    np.testing.assert_allclose(three.sum(axis=1), 1.0)
    assert np.all(np.isin(np.eye(3), three).all(axis=1))
    assert len(np.unique(three, axis=0)) == 100
    np.testing.assert_allclose(default_reference_directions(3, 1), [[1 / 3] * 3])


@pytest.mark.parametrize(("make", "problem", "message"), [
    (lambda: EPO(PREFERENCES), get_problem("dtlz2", n_obj=3), "3 objectives"),
    (lambda: Tchebycheff(PREFERENCES, pop_size=4), ConvexQuadraticPair(), "pop_size=4 but 5 preference"),
    (lambda: PBI(PREFERENCES, sampling=np.zeros((3, 10))), ConvexQuadraticPair(), "3 start points"),
    (lambda: EPO(ideal=[0.0, 0.0, 0.0], pop_size=3), ConvexQuadraticPair(), "ideal has 3 entries"),
    (lambda: HypervolumeAscent([1.1, 1.1, 1.1]), ConvexQuadraticPair(), "ref_point has 3 entries"),
    (lambda: ParetoMTL(-PREFERENCES), ConvexQuadraticPair(), "non-negative"),
])
def test_bad_configurations_raise(make, problem, message):
    with pytest.raises(ValueError, match=message):
        minimize(problem, make(), ("n_gen", 2), seed=1)


def test_epo_below_ideal_names_the_fix():
    # ZDT3's front reaches f2 = -0.77, below the default ideal point 0.
    problem = get_problem("zdt3", n_var=4)
    with pytest.raises(ValueError, match="pass ideal="):
        minimize(problem, EPO(pop_size=20), ("n_gen", 200), seed=1)
    res = minimize(problem, EPO(pop_size=20, ideal=[0.0, -0.78]), ("n_gen", 20), seed=1)
    assert np.all(np.isfinite(res.pop.get("F")))


def test_default_termination_ignores_stationarity():
    res = minimize(ConvexQuadraticPair(n_var=3), Tchebycheff(pop_size=3))
    # pymoo counts one generation past the last one run.
    assert res.algorithm.n_gen - 1 == 1000


def test_negative_objectives_need_an_ideal_point():
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    from pmo_grad import PBI, Tchebycheff
    import pymoo.gradient.toolbox as anp

    class Shifted(Problem):
        def __init__(self):
            super().__init__(n_var=2, n_obj=2, xl=-1.0, xu=1.0)

        def _evaluate(self, x, out, *args, **kwargs):
            out["F"] = anp.column_stack([anp.sum((x - 0.5) ** 2, axis=1) - 2.0, anp.sum((x + 0.5) ** 2, axis=1) - 2.0])

    for algorithm in (Tchebycheff(pop_size=4), PBI(pop_size=4)):
        with pytest.raises(ValueError, match="pass ideal="):
            minimize(Shifted(), algorithm, ("n_gen", 3), seed=1)
