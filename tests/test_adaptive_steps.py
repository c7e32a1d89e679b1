import numpy as np
import pytest

from pmo_grad import AdaptiveStep, RpropStep

XL = np.full(2, -10.0)
XU = np.full(2, 10.0)


def no_evaluation(X):
    raise AssertionError("the rule must not evaluate F")


def step(rule, X, D, state):
    return rule(X, None, D, 0, XL, XU, no_evaluation, state)


def test_adaptive_step_grows_shrinks_and_holds():
    rule = AdaptiveStep(lr=0.1, max_lr=0.14, grow=1.2, shrink=0.5)
    X = np.zeros((3, 2))
    first = step(rule, X, np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]), rule.init(3))
    np.testing.assert_allclose(first.X, [[-0.1, 0.0]] * 3)
    # Point 0 keeps its direction, point 1 turns back, point 2 stops.
    second = step(rule, X, np.array([[2.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]), first.state)
    np.testing.assert_allclose(second.state.lr, [0.12, 0.05, 0.1])
    np.testing.assert_allclose(second.X, [[-0.24, 0.0], [0.05, 0.0], [0.0, 0.0]])
    third = step(rule, X, np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]]), second.state)
    assert third.state.lr[0] == pytest.approx(0.14)  # 0.144 capped at max_lr
    assert third.state.lr[1] == pytest.approx(0.06)


def test_adaptive_step_normalized_moves_by_lr():
    rule = AdaptiveStep(lr=0.2, normalize=True)
    D = np.array([[3.0, 4.0], [1e-9, 0.0], [0.0, 0.0]])
    result = step(rule, np.zeros((3, 2)), D, rule.init(3))
    np.testing.assert_allclose(result.X, [[-0.12, -0.16], [-0.2, 0.0], [0.0, 0.0]])


def test_adaptive_step_projects_onto_box():
    rule = AdaptiveStep(lr=5.0)
    result = step(rule, np.full((1, 2), 9.0), np.array([[-1.0, 1.0]]), rule.init(1))
    np.testing.assert_allclose(result.X, [[10.0, 4.0]])


def test_rprop_step_adapts_each_coordinate():
    rule = RpropStep(lr=0.1, max_lr=0.3, min_lr=0.04, grow=2.0, shrink=0.5)
    X = np.zeros((1, 2))
    first = step(rule, X, np.array([[5.0, -1e-12]]), rule.init(1))
    np.testing.assert_allclose(first.X, [[-0.1, 0.1]])
    second = step(rule, X, np.array([[0.1, 3.0]]), first.state)
    np.testing.assert_allclose(second.state.lr, [[0.2, 0.05]])
    np.testing.assert_allclose(second.X, [[-0.2, -0.05]])
    third = step(rule, X, np.array([[0.1, -3.0]]), second.state)
    np.testing.assert_allclose(third.state.lr, [[0.3, 0.04]])  # capped above, floored below


@pytest.mark.parametrize("make", [
    lambda: AdaptiveStep(lr=0.0),
    lambda: AdaptiveStep(lr=0.1, max_lr=0.05),
    lambda: AdaptiveStep(grow=1.0),
    lambda: AdaptiveStep(shrink=1.0),
    lambda: RpropStep(lr=-1.0),
    lambda: RpropStep(lr=0.1, max_lr=0.01),
    lambda: RpropStep(lr=0.1, min_lr=0.2),
    lambda: RpropStep(grow=0.9),
    lambda: RpropStep(shrink=0.0),
])
def test_adaptive_rules_reject_bad_parameters(make):
    with pytest.raises(ValueError):
        make()
