import numpy as np
import pytest
from pymoo.indicators.hv import HV
from pymoo.problems import get_problem
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from pmo_grad.problems import ProblemGradient
from pmo_grad.weighting import HypervolumeWeighting, WeightingContext, hypervolume_weights, nondominated_layers


def sphere_front(seed: int, n: int, m: int) -> np.ndarray:
    """Points on the positive unit sphere: mutually non-dominated, in general position."""
    Z = np.abs(np.random.default_rng(seed).normal(size=(n, m))) + 0.05
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def central_differences(F: np.ndarray, ref: np.ndarray, h: float = 1e-7) -> np.ndarray:
    indicator = HV(ref_point=ref)
    gradient = np.zeros_like(F)
    for k in range(F.shape[0]):
        for s in range(F.shape[1]):
            up, down = F.copy(), F.copy()
            up[k, s] += h
            down[k, s] -= h
            gradient[k, s] = (indicator(up) - indicator(down)) / (2 * h)
    return gradient


@pytest.mark.parametrize("m", [2, 3, 4])
def test_weights_match_finite_differences(m):
    F = sphere_front(m, 14, m)
    # A point beyond the reference point, and one strictly dominated by the first point.
    F = np.vstack([F, np.r_[1.3, np.full(m - 1, 0.4)], F[0] + 0.03])
    ref = np.full(m, 1.1)
    W = hypervolume_weights(F, ref)
    np.testing.assert_allclose(-W, central_differences(F, ref), atol=2e-6)
    # Zero up to the rounding of the area differences.
    assert np.all(W[-2:] <= 1e-12)
    assert np.all(W[:-2] > 0.0)


def test_weights_are_one_sided_at_ties():
    # Both points have f1 = 0.5. Lowering f1 of either uncovers the slab under its own box, up
    # to f2 = 0.9 where the box of (0.1, 0.9) starts.
    F = np.array([[0.5, 0.2], [0.5, 0.6], [0.1, 0.9]])
    ref = np.array([1.0, 1.0])
    W = hypervolume_weights(F, ref)
    indicator = HV(ref_point=ref)
    h = 1e-7
    for k in (0, 1):
        lower = F.copy()
        lower[k, 0] -= h
        np.testing.assert_allclose(W[k, 0], (indicator(lower) - indicator(F)) / h, atol=1e-6)
    assert W[0, 0] == pytest.approx(0.7)
    assert W[1, 0] == pytest.approx(0.3)


def test_weights_permute_with_points_and_objectives():
    F = sphere_front(7, 12, 3)
    ref = np.array([1.1, 1.2, 1.3])
    W = hypervolume_weights(F, ref)
    rows = np.random.default_rng(0).permutation(len(F))
    columns = np.array([2, 0, 1])
    np.testing.assert_allclose(hypervolume_weights(F[rows], ref), W[rows])
    np.testing.assert_allclose(hypervolume_weights(F[:, columns], ref[columns]), W[:, columns])


def test_weights_scale_with_other_objectives():
    F = sphere_front(3, 10, 3)
    ref = np.full(3, 1.1)
    scale = np.array([2.0, 0.5, 3.0])
    W = hypervolume_weights(F, ref)
    scaled = hypervolume_weights(F * scale, ref * scale)
    # W_ks is an area in the other two objectives, so it scales with their product.
    factor = np.prod(scale) / scale
    np.testing.assert_allclose(scaled, W * factor)


@pytest.mark.parametrize(("name", "kwargs", "ref", "optimal_distance"), [
    ("zdt1", {"n_var": 6}, np.array([1.1, 1.1]), 0.0),
    ("dtlz2", {"n_var": 6, "n_obj": 3}, np.array([1.1, 1.1, 1.1]), 0.5),
])
def test_chain_rule_matches_hv_of_problem(name, kwargs, ref, optimal_distance):
    problem = get_problem(name, **kwargs)
    X = np.random.default_rng(5).uniform(0.05, 0.95, size=(8, problem.n_var))
    # Distance variables near their optimum, so that most points lie inside the reference box.
    distance = slice(problem.n_obj - 1, None)
    X[:, distance] = optimal_distance + 0.1 * (X[:, distance] - optimal_distance)
    F = problem.evaluate(X)
    J = ProblemGradient(problem).jacobian(X)
    # ∇_x HV = Σ_s (∂HV/∂f_s) ∇f_s = -Σ_s W_s ∇f_s.
    ascent = -np.einsum("ks,ksd->kd", hypervolume_weights(F, ref), J)

    indicator = HV(ref_point=ref)
    h = 1e-6
    numeric = np.zeros_like(X)
    for k in range(len(X)):
        for j in range(problem.n_var):
            up, down = X.copy(), X.copy()
            up[k, j] += h
            down[k, j] -= h
            numeric[k, j] = (indicator(problem.evaluate(up)) - indicator(problem.evaluate(down))) / (2 * h)
    assert np.abs(numeric).max() > 1e-2
    np.testing.assert_allclose(ascent, numeric, atol=1e-5)


@pytest.mark.parametrize(("F", "ref", "message"), [
    (np.array([[0.1, np.nan]]), [1.0, 1.0], "NaN or infinite"),
    (np.array([0.1, 0.2]), [1.0, 1.0], "shape"),
    (np.array([[0.1], [0.2]]), [1.0], "m >= 2"),
    (np.array([[0.1, 0.2]]), [1.0, 1.0, 1.0], "one entry per objective"),
])
def test_weights_reject_bad_input(F, ref, message):
    with pytest.raises(ValueError, match=message):
        hypervolume_weights(F, ref)


def test_layers_match_pymoo_sorting():
    F = np.random.default_rng(2).uniform(size=(40, 3))
    layers = nondominated_layers(F)
    fronts = NonDominatedSorting().do(F)
    for index, front in enumerate(fronts):
        assert set(np.flatnonzero(layers == index)) == set(front)


def test_layers_send_copies_to_later_layers():
    F = np.array([[0.2, 0.8], [0.2, 0.8], [0.2, 0.8], [0.7, 0.1]])
    np.testing.assert_array_equal(nondominated_layers(F), [0, 1, 2, 0])


def test_weighting_rows_lie_on_simplex():
    F = np.vstack([sphere_front(4, 10, 2), sphere_front(5, 6, 2) + 0.2, [[2.0, 3.0], [2.5, 1.5]]])
    weighting = HypervolumeWeighting([1.1, 1.1])
    weights = weighting(None, WeightingContext(objectives=F))
    assert np.all(np.isfinite(weights))
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    # The first front follows the gradient of its own hypervolume.
    first = hypervolume_weights(F[:10], [1.1, 1.1])
    np.testing.assert_allclose(weights[:10], first / first.sum(axis=1, keepdims=True))


def test_weighting_points_outside_box_use_enlarged_reference():
    # One front: a point inside the box and two beyond it in one objective each.
    F = np.array([[0.2, 0.9], [1.5, 0.3], [0.1, 2.0]])
    weighting = HypervolumeWeighting([1.1, 1.1])
    weights = weighting(None, WeightingContext(objectives=F))
    inside = hypervolume_weights(F, [1.1, 1.1])
    assert np.all(inside[1:] == 0)
    enlarged = hypervolume_weights(F, weighting.enlarged_reference(F))[1:]
    np.testing.assert_allclose(weights[1:], enlarged / enlarged.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(weighting.enlarged_reference(F), [1.5 + 0.14, 2.0 + 0.17])


def test_weighting_selected_rows_match_full_population():
    F = sphere_front(9, 12, 3)
    weighting = HypervolumeWeighting([1.1, 1.1, 1.1])
    context = WeightingContext(objectives=F)
    full = weighting(None, context)
    rows = np.array([5, 1, 9])
    np.testing.assert_array_equal(weighting(None, context.select(rows)), full[rows])


def test_weighting_rejects_wrong_reference_length():
    with pytest.raises(ValueError, match="one entry per objective"):
        HypervolumeWeighting([1.1, 1.1])(None, WeightingContext(objectives=np.ones((2, 3))))
    with pytest.raises(ValueError, match="finite vector"):
        HypervolumeWeighting([1.1, np.inf])
