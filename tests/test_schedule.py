import numpy as np
import pytest

from pmo_grad.weighting import Fixed, MinNorm, Periodic, gramian


def random_gramians(seed: int, K: int = 4, m: int = 3, d: int = 5) -> np.ndarray:
    return gramian(np.random.default_rng(seed).normal(size=(K, m, d)))


def test_periodic_solves_on_refresh_steps_only():
    schedule = Periodic(MinNorm(), q=3)
    state = schedule.init(4, 3)
    refreshes = []
    for t in range(7):
        refresh = schedule.needs_gramian(state)
        refreshes.append(refresh)
        _, state = schedule.update(state, random_gramians(t) if refresh else None)
    assert refreshes == [True, False, False, True, False, False, True]


def test_periodic_requires_the_gramian_on_a_refresh():
    schedule = Periodic(MinNorm(), q=2)
    with pytest.raises(ValueError, match="refresh step"):
        schedule.update(schedule.init(4, 3), None)


def test_periodic_alpha_one_keeps_the_first_weights():
    schedule = Periodic(MinNorm(), q=1, alpha=1.0)
    state = schedule.init(4, 3)
    first, state = schedule.update(state, random_gramians(0))
    second, state = schedule.update(state, random_gramians(1))
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(state.solved_weights, first)


def test_fixed_normalizes_and_broadcasts():
    schedule = Fixed([2.0, 6.0])
    state = schedule.init(3, 2)
    weights, state = schedule.update(state, None)
    np.testing.assert_allclose(weights, np.tile([0.25, 0.75], (3, 1)))
    assert not schedule.needs_gramian(state)


def test_fixed_default_is_equal_weights():
    weights, _ = Fixed().update(Fixed().init(2, 4), None)
    np.testing.assert_allclose(weights, np.full((2, 4), 0.25))


@pytest.mark.parametrize("weights", [[], [[1.0, 2.0]], [1.0, -0.5], [0.0, 0.0], [1.0, np.inf]])
def test_fixed_rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="weights must"):
        Fixed(weights)
