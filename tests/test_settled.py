import numpy as np
import pytest
from pymoo.optimize import minimize
from pymoo.problems import get_problem

from pmo_grad import MGDA
from pmo_grad.weighting import IgnoreSettled, MinNorm, gramian, settled_objectives


def test_settled_objectives_flags_vanishing_gradients():
    J = np.array([
        [[0.0, 0.0], [1.0, 2.0]],
        [[1e-14, 0.0], [1.0, 2.0]],
        [[0.0, 0.0], [0.0, 0.0]],
        [[1.0, 0.0], [0.0, 1.0]],
    ])
    mask = settled_objectives(gramian(J))
    np.testing.assert_array_equal(mask, [[True, False], [True, False], [False, False], [False, False]])


def test_ignore_settled_solves_on_the_other_objectives():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(6, 4, 5))
    J[:3, 1] = 0.0  # objective 1 settled at the first three points
    G = gramian(J)
    weights = IgnoreSettled(MinNorm())(G)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert np.all(weights[:3, 1] == 0.0)
    expected = MinNorm()(G[:3][:, [0, 2, 3]][:, :, [0, 2, 3]])
    np.testing.assert_allclose(weights[:3][:, [0, 2, 3]], expected)
    np.testing.assert_allclose(weights[3:], MinNorm()(G[3:]))
    # The direction leaves the settled objective unchanged to first order and decreases the others.
    d = np.einsum("ks,ksd->kd", weights, J)
    inner = np.einsum("ksd,kd->ks", J, d)
    assert np.all(inner[:3, [0, 2, 3]] > 0)


def test_ignore_settled_passes_weak_optimum():
    # ZDT2 from these starts drifts to x1 = 0, where f1 = x1 is at its minimum: plain MGDA stops
    # there with g > 1, while the default weighting goes on to reduce g and reaches f = (0, 1).
    problem = get_problem("zdt2", n_var=8)
    plain = minimize(problem, MGDA(pop_size=10, weighting=MinNorm()), ("n_gen", 300), seed=1)
    default = minimize(problem, MGDA(pop_size=10), ("n_gen", 300), seed=1)
    assert plain.F[:, 1].min() > 1.5
    np.testing.assert_allclose(default.F.min(axis=0), [0.0, 1.0], atol=1e-6)
    assert default.algorithm.stationarity.max() < 1e-8


@pytest.mark.parametrize("rtol", [-0.1, 1.0])
def test_ignore_settled_rejects_bad_rtol(rtol):
    with pytest.raises(ValueError, match="rtol"):
        IgnoreSettled(MinNorm(), rtol=rtol)


def test_mgda_fixes_outward_coordinates_at_singular_bound():
    # On ZDT1, ∂f2/∂x1 → −∞ at x1 = 0 balances ∂f1/∂x1 = 1, so the min-norm direction still points
    # out of the box there. Fixing x1 and re-solving lets the run reduce g down to the front.
    problem = get_problem("zdt1", n_var=8)
    res = minimize(problem, MGDA(pop_size=10), ("n_gen", 300), seed=1)
    X = res.algorithm.pop.get("X")
    np.testing.assert_allclose(X[:, 0], 0.0, atol=1e-9)
    np.testing.assert_allclose(X[:, 1:], 0.0, atol=1e-6)
    counters = res.algorithm.counters
    assert counters["n_weight_solves"] > counters["n_grad"]  # the re-solves are counted
