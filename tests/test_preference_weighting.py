import numpy as np
import pytest

from pmo_grad.weighting import (
    EPOWeighting,
    IgnoreSettled,
    MinNorm,
    ParetoMTLWeighting,
    PBIWeighting,
    Periodic,
    TchebycheffWeighting,
    WeightingContext,
    check_preferences,
    gramian,
    preference_divergence,
    subregion_violations,
)


def random_case(seed: int, K: int = 6, m: int = 3, d: int = 5):
    rng = np.random.default_rng(seed)
    J = rng.normal(size=(K, m, d))
    F = rng.uniform(0.2, 1.0, size=(K, m))
    P = rng.dirichlet(np.ones(m), size=K)
    return J, F, P


def numeric_gradient(function, F, P, h=1e-7):
    gradient = np.zeros_like(F)
    for s in range(F.shape[1]):
        up, down = F.copy(), F.copy()
        up[:, s] += h
        down[:, s] -= h
        gradient[:, s] = (function(up, P) - function(down, P)) / (2 * h)
    return gradient


def as_unit_l1(V):
    return V / np.abs(V).sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- preferences


@pytest.mark.parametrize(("P", "message"), [
    (np.ones(3), "shape \\(n, m\\)"),
    (np.ones((2, 1)), "m >= 2"),
    (np.array([[0.5, -0.1]]), "non-negative"),
    (np.array([[np.nan, 1.0]]), "non-negative"),
    (np.array([[0.0, 0.0], [1.0, 0.0]]), "all zeros"),
])
def test_preferences_reject_bad_vectors(P, message):
    with pytest.raises(ValueError, match=message):
        check_preferences(P)


def test_preferences_are_divided_by_their_sums():
    np.testing.assert_allclose(check_preferences([[2.0, 6.0], [0.0, 3.0]]), [[0.25, 0.75], [0.0, 1.0]])
    with pytest.raises(ValueError, match="3 objectives"):
        check_preferences([[1.0, 1.0]], n_obj=3)


# ----------------------------------------------------------------------------- Tchebycheff


def test_smoothed_tchebycheff_weights_are_its_gradient():
    _, F, P = random_case(0)
    weighting = TchebycheffWeighting(smoothing=0.05)
    assert not weighting.needs_gramian
    weights = weighting(None, WeightingContext(objectives=F, preferences=P))
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(weights, as_unit_l1(numeric_gradient(weighting.scalarization, F, P)), atol=1e-6)


def test_exact_tchebycheff_follows_the_largest_ratio():
    J, F, P = random_case(1)
    weighting = TchebycheffWeighting()
    weights = weighting(gramian(J), WeightingContext(objectives=F, preferences=P))
    largest = np.argmax(F / P, axis=1)
    np.testing.assert_array_equal(weights, np.eye(3)[largest])


def test_exact_tchebycheff_descends_tied_objectives_together():
    J = np.random.default_rng(2).normal(size=(1, 2, 5))
    w = np.array([[0.3, 0.7]])
    F = 0.8 * w  # on the ray: both ratios f_s / w_s equal 0.8
    weights = TchebycheffWeighting()(gramian(J), WeightingContext(objectives=F, preferences=w))
    assert np.all(weights > 0)
    direction = np.einsum("ks,ksd->kd", weights, J)
    # Steepest descent of the max: both scaled objectives v_s = f_s / w_s fall at the same rate.
    rates = np.einsum("ksd,kd->ks", J, direction) / w
    assert rates[0, 0] == pytest.approx(rates[0, 1])
    assert rates[0, 0] > 0


def test_tchebycheff_floors_zero_preferences():
    J, F, _ = random_case(3, K=2, m=2)
    P = np.array([[1.0, 0.0], [0.0, 1.0]])
    weights = TchebycheffWeighting(preference_floor=1e-3)(gramian(J), WeightingContext(objectives=F, preferences=P))
    # f2 / 1e-3 dominates for the first preference, f1 / 1e-3 for the second.
    np.testing.assert_array_equal(weights, [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("weighting", [TchebycheffWeighting(), TchebycheffWeighting(smoothing=0.1)])
def test_tchebycheff_permutes_with_objectives(weighting):
    J, F, P = random_case(4)
    order = np.array([1, 2, 0])
    weights = weighting(gramian(J), WeightingContext(objectives=F, preferences=P))
    permuted = weighting(gramian(J[:, order]), WeightingContext(objectives=F[:, order], preferences=P[:, order]))
    np.testing.assert_allclose(permuted, weights[:, order], atol=1e-12)


@pytest.mark.parametrize("kwargs", [{"smoothing": -1.0}, {"preference_floor": 0.0}, {"active_tol": 1.0},
                                    {"ideal": [np.nan, 0.0]}])
def test_tchebycheff_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        TchebycheffWeighting(**kwargs)


# ----------------------------------------------------------------------------- PBI


@pytest.mark.parametrize("smoothing", [0.0, 0.05])
def test_pbi_weights_are_its_gradient(smoothing):
    _, F, P = random_case(5)
    weighting = PBIWeighting(theta=5.0, smoothing=smoothing)
    weights = weighting(None, WeightingContext(objectives=F, preferences=P))
    np.testing.assert_allclose(np.abs(weights).sum(axis=1), 1.0)
    np.testing.assert_allclose(weights, as_unit_l1(numeric_gradient(weighting.scalarization, F, P)), atol=1e-6)


def test_pbi_raises_objective_back_to_ray():
    weights = PBIWeighting(theta=5.0, smoothing=0.0)(
        None, WeightingContext(objectives=np.array([[0.9, 0.1]]), preferences=np.array([[0.5, 0.5]]))
    )
    # Far below the ray in f2: the weight of f2 is negative, so the step raises f2.
    assert weights[0, 0] > 0 > weights[0, 1]


def test_pbi_on_the_ray_descends_along_it():
    w = np.array([[0.2, 0.8]])
    weights = PBIWeighting(smoothing=0.0)(None, WeightingContext(objectives=0.5 * w, preferences=w))
    np.testing.assert_allclose(weights, w / w.sum())


@pytest.mark.parametrize("kwargs", [{"theta": 0.0}, {"theta": np.inf}, {"smoothing": -0.1}])
def test_pbi_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        PBIWeighting(**kwargs)


# ----------------------------------------------------------------------------- EPO


def test_divergence_vanishes_exactly_on_the_ray():
    w = np.array([[0.2, 0.3, 0.5], [0.0, 0.4, 0.6]])
    assert np.all(preference_divergence(2.5 * w, w) == pytest.approx(0.0, abs=1e-15))
    assert np.all(preference_divergence(2.5 * w + 0.1, w) > 0)
    assert preference_divergence(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))[0] == np.inf


def epo_rates(seed: int, on_ray: bool):
    J, F, P = random_case(seed, K=20, m=3)
    if on_ray:
        F = 0.7 * P
    C = gramian(J)
    weighting = EPOWeighting(tol=1e-8)
    alpha = weighting(C, WeightingContext(objectives=F, preferences=P))
    return C, F, P, alpha, weighting


def test_epo_balance_steps_lower_the_divergence():
    C, F, P, alpha, weighting = epo_rates(6, on_ray=False)
    assert np.all(weighting.last_modes == "balance")
    assert np.all(alpha >= 0)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)
    # First-order change of F along the step -d is -C α.
    rates = np.einsum("kst,kt->ks", C, alpha)
    moved = F - 1e-6 * rates
    falls = preference_divergence(moved, P) < preference_divergence(F, P)
    # Where the divergence cannot fall, no objective may rise.
    assert np.all(falls | np.all(rates >= -1e-10, axis=1))
    assert falls.sum() >= 15
    # The objective furthest above its preferred share never rises.
    worst = np.argmax(F / P, axis=1)
    assert np.all(rates[np.arange(len(F)), worst] >= -1e-10)


def test_epo_descent_steps_raise_no_objective():
    C, F, P, alpha, weighting = epo_rates(7, on_ray=True)
    assert np.all(weighting.last_modes == "descent")
    rates = np.einsum("kst,kt->ks", C, alpha)
    assert np.all(rates >= -1e-10)
    assert np.all(rates.sum(axis=1) > 0)


def test_epo_handles_zero_preference_entries():
    J, F, _ = random_case(8, K=3, m=3)
    P = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.2, 0.0, 0.8]])
    alpha = EPOWeighting()(gramian(J), WeightingContext(objectives=F, preferences=P))
    assert np.all(np.isfinite(alpha))
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)


def test_epo_rejects_objectives_below_the_ideal_point():
    J, F, P = random_case(9, K=2, m=2)
    F[1, 0] = -0.3
    with pytest.raises(ValueError, match="ideal"):
        EPOWeighting()(gramian(J), WeightingContext(objectives=F, preferences=P))
    weights = EPOWeighting(ideal=[-1.0, 0.0])(gramian(J), WeightingContext(objectives=F, preferences=P))
    assert np.all(np.isfinite(weights))


# ----------------------------------------------------------------------------- Pareto MTL


def test_pareto_mtl_inside_cone_lowers_every_objective():
    J, _, _ = random_case(10, K=3, m=2)
    U = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    F = 0.6 * U / np.linalg.norm(U, axis=1, keepdims=True)  # each point on its own ray
    C = gramian(J)
    weighting = ParetoMTLWeighting()
    weights = weighting(C, WeightingContext(objectives=F, preferences=U))
    assert not weighting.last_outside.any()
    assert np.all(subregion_violations(F, U, U) <= 1e-12)
    rates = np.einsum("kst,kt->ks", C, weights)
    norms = np.einsum("ks,ks->k", weights, rates)
    # Min-norm property of the direction: ⟨∇f_s, d⟩ ≥ ‖d‖² for every objective.
    assert np.all(rates >= norms[:, None] - 1e-10)


def test_pareto_mtl_outside_cone_moves_back():
    J, _, _ = random_case(11, K=1, m=2)
    U = np.array([[0.1, 0.9], [0.9, 0.1]])
    F = np.array([[0.9, 0.2]])  # owned by the first preference but near the second ray
    C = gramian(J)
    weighting = ParetoMTLWeighting()
    context = WeightingContext(objectives=np.vstack([F, F]), preferences=U, rows=np.array([0]))
    weights = weighting(C, context)
    assert weighting.last_outside[0]
    unit = U / np.linalg.norm(U, axis=1, keepdims=True)
    violation = unit[1] - unit[0]
    # The step -d changes G = ⟨u_2 - u_1, F⟩ at the rate -violationᵀ C λ < 0.
    assert violation @ C[0] @ weights[0] > 0


def test_pareto_mtl_rejects_negative_tolerance():
    with pytest.raises(ValueError, match="active_tol"):
        ParetoMTLWeighting(active_tol=-1.0)


# ----------------------------------------------------------------------------- plumbing


def test_ignore_settled_rejects_context_weightings():
    with pytest.raises(TypeError, match="IgnoreSettled cannot wrap"):
        IgnoreSettled(EPOWeighting())


def test_periodic_solves_context_weighting_from_objectives_only():
    _, F, P = random_case(12)
    schedule = Periodic(TchebycheffWeighting(smoothing=0.1), q=2)
    state = schedule.init(len(F), 3)
    assert not schedule.needs_gramian(state)
    context = WeightingContext(objectives=F, preferences=P)
    first, state = schedule.update(state, None, context)
    second, state = schedule.update(state, None, WeightingContext(objectives=F + 1.0, preferences=P))
    np.testing.assert_array_equal(first, second)
    with pytest.raises(ValueError, match="needs the objective values"):
        schedule.update(state, None)


def test_periodic_still_requires_gramian_for_epo():
    schedule = Periodic(EPOWeighting(), q=1)
    state = schedule.init(2, 2)
    assert schedule.needs_gramian(state)
    with pytest.raises(ValueError, match="pass the Gramian"):
        schedule.update(state, None, WeightingContext(objectives=np.ones((2, 2)), preferences=np.ones((2, 2))))


def test_plain_weightings_ignore_the_context():
    J, F, _ = random_case(13)
    schedule = Periodic(MinNorm(), q=1)
    with_context, _ = schedule.update(schedule.init(6, 3), gramian(J), WeightingContext(objectives=F))
    without, _ = schedule.update(schedule.init(6, 3), gramian(J))
    np.testing.assert_array_equal(with_context, without)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"objectives": np.ones(3)}, "shape \\(N, m\\)"),
    ({"objectives": np.array([[np.inf, 1.0]])}, "NaN or infinite"),
    ({"objectives": np.ones((2, 2)), "preferences": np.ones((3, 2))}, "one vector per point"),
    ({"objectives": np.ones((2, 2)), "rows": np.array([2])}, "point indices"),
])
def test_context_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WeightingContext(**kwargs)


def test_context_without_preferences_names_the_fix():
    with pytest.raises(ValueError, match="preference vector per point"):
        PBIWeighting()(None, WeightingContext(objectives=np.ones((2, 2))))


CONTEXT_WEIGHTINGS = [
    TchebycheffWeighting(),
    TchebycheffWeighting(smoothing=0.1),
    PBIWeighting(),
    EPOWeighting(),
    ParetoMTLWeighting(),
]


@pytest.mark.parametrize("weighting", CONTEXT_WEIGHTINGS, ids=repr)
def test_weightings_permute_with_objectives_and_points(weighting):
    J, F, P = random_case(14, K=8, m=3)
    C = gramian(J)
    weights = weighting(C, WeightingContext(objectives=F, preferences=P))
    assert np.all(np.isfinite(weights))

    order = np.array([2, 0, 1])
    permuted = weighting(gramian(J[:, order]), WeightingContext(objectives=F[:, order], preferences=P[:, order]))
    np.testing.assert_allclose(permuted, weights[:, order], atol=1e-9)

    rows = np.random.default_rng(0).permutation(len(F))
    shuffled = weighting(C[rows], WeightingContext(objectives=F[rows], preferences=P[rows]))
    np.testing.assert_allclose(shuffled, weights[rows], atol=1e-9)


@pytest.mark.parametrize("weighting", [w for w in CONTEXT_WEIGHTINGS if not isinstance(w, (PBIWeighting, ParetoMTLWeighting))],
                         ids=repr)
def test_nonnegative_weightings_lie_on_simplex(weighting):
    J, F, P = random_case(15, K=8, m=3)
    weights = weighting(gramian(J), WeightingContext(objectives=F, preferences=P))
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
