import numpy as np
import pytest
from scipy.optimize import minimize as scipy_minimize

from pmo_grad.weighting import MinNorm, ProjectedGradientWeights, gramian, project_to_simplex


def test_simplex_projection_matches_a_qp_solver():
    rng = np.random.default_rng(0)
    V = rng.normal(scale=3.0, size=(20, 5))
    P = project_to_simplex(V)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(P >= 0)
    for v, p in zip(V, P):
        reference = scipy_minimize(
            lambda lam, v=v: np.sum((lam - v) ** 2), np.full(5, 0.2), method="SLSQP",
            bounds=[(0.0, 1.0)] * 5, constraints=[{"type": "eq", "fun": lambda lam: lam.sum() - 1.0}],
            options={"ftol": 1e-15, "maxiter": 500},
        ).x
        np.testing.assert_allclose(p, reference, atol=1e-6)


def test_simplex_projection_keeps_points_already_on_the_simplex():
    W = np.random.default_rng(1).dirichlet(np.ones(4), size=6)
    np.testing.assert_allclose(project_to_simplex(W), W, atol=1e-15)


@pytest.mark.parametrize("V", [np.ones(3), np.empty((2, 0)), np.array([[np.nan, 1.0]])])
def test_simplex_projection_rejects_bad_input(V):
    with pytest.raises(ValueError):
        project_to_simplex(V)


def test_projected_gradient_weights_converge_to_min_norm_weights():
    J = np.random.default_rng(2).normal(size=(4, 3, 5))
    G = gramian(J)
    schedule = ProjectedGradientWeights(gamma=0.5 / np.linalg.eigvalsh(G).max())
    state = schedule.init(4, 3)
    np.testing.assert_allclose(state.weights, 1 / 3)
    for _ in range(20000):
        weights, state = schedule.update(state, G)
    value = np.einsum("ks,kst,kt->k", weights, G, weights)
    optimum = MinNorm()(G)
    best = np.einsum("ks,kst,kt->k", optimum, G, optimum)
    np.testing.assert_allclose(value, best, rtol=1e-6, atol=1e-10)


def test_projected_gradient_weights_one_step():
    G = np.array([[[2.0, 0.5], [0.5, 1.0]]])
    schedule = ProjectedGradientWeights(gamma=0.1, rho=0.2)
    weights, _ = schedule.update(schedule.init(1, 2), G)
    lam = np.array([0.5, 0.5])
    expected = project_to_simplex((lam - 0.1 * (G[0] @ lam + 0.2 * lam))[None])
    np.testing.assert_allclose(weights, expected)


@pytest.mark.parametrize(("gamma", "rho"), [(0.0, 0.0), (-1.0, 0.0), (0.1, -0.5), (float("inf"), 0.0)])
def test_projected_gradient_weights_reject_bad_parameters(gamma, rho):
    with pytest.raises(ValueError):
        ProjectedGradientWeights(gamma=gamma, rho=rho)
