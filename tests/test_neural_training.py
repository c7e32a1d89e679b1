"""Training networks with pmo_grad's algorithms through pymoo's minimize."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from pymoo.optimize import minimize  # noqa: E402
from torch import nn  # noqa: E402

from pmo_grad import (  # noqa: E402
    MGDA,
    PSMGD,
    SMGD,
    ArmijoStep,
    Checkpoint,
    ConstantStep,
    LinearScalarization,
    Minibatch,
    MoCo,
    Recursive,
    TorchOptimizer,
)
from pmo_grad.problems.datasets import multi_digits_problem  # noqa: E402
from pmo_grad.problems.networks import mlp_multitask  # noqa: E402
from pmo_grad.problems.neural import MultiTaskProblem, NonFiniteLossError  # noqa: E402
from pmo_grad.problems.precision import MixedPrecision  # noqa: E402
from tests.test_neural_gradients import regression_data, tiny_problem  # noqa: E402


def parameters(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def test_psmgd_trains_multidigits():
    problem = multi_digits_problem(hidden=(32,))
    start = problem.evaluation_losses().numpy()
    step = TorchOptimizer(torch.optim.Adam, lr=1e-2)
    res = minimize(problem, PSMGD(q=5, estimator=Minibatch(64), step=step), ("n_gen", 60), seed=1)
    assert res.F.shape == (1, 2)
    assert np.all(res.F[0] < 0.6 * start), (start, res.F)
    np.testing.assert_allclose(res.F[0], problem.evaluation_losses().numpy())
    assert res.model is problem.model
    np.testing.assert_array_equal(res.X[0], parameters(res.model).double().numpy())
    counters = res.algorithm.counters
    assert counters["n_grad"] == 12
    assert counters["n_weighted_grad"] == 47


@pytest.mark.parametrize("engine, refresh_calls", [("loop", 3), ("batched", 1), ("representation", 2)])
def test_one_backward_pass_between_weight_recomputes(engine, refresh_calls):
    problem = tiny_problem(engine)
    algorithm = PSMGD(q=4, estimator=Minibatch(16))
    algorithm.setup(problem, termination=("n_gen", 10), seed=0)
    algorithm.next()  # the initial evaluation, no step
    seen = []
    for _ in range(8):
        before = dict(algorithm.counters)
        algorithm.next()
        seen.append(algorithm.counters["n_backward"] - before["n_backward"])
    assert seen == [refresh_calls, 1, 1, 1] * 2


def test_seeded_runs_repeat_exactly():
    def run(seed):
        problem = tiny_problem(dropout=0.3, batch_norm=True)
        state = torch.random.get_rng_state()
        res = minimize(problem, PSMGD(q=3, estimator=Minibatch(10)), ("n_gen", 12), seed=seed)
        assert torch.equal(state, torch.random.get_rng_state())
        return parameters(res.model), res.F

    a, b, c = run(3), run(3), run(4)
    assert torch.equal(a[0], b[0])
    assert np.array_equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_recursive_estimator_spider_step():
    problem = tiny_problem(dropout=0.2)
    algorithm = PSMGD(q=3, estimator=Recursive(batch_size=8), step=ConstantStep(0.05))
    algorithm.setup(problem, termination=("n_gen", 10), seed=0)
    algorithm.next()
    run = algorithm.network
    estimator = run.estimator
    algorithm.next()  # refresh: full-data per-task gradients
    # one reuse step by hand: same A, same seed at both points
    rng = np.random.default_rng(5)
    weights = algorithm.weights[0]
    lam = torch.tensor(weights, dtype=torch.float64)
    previous_point, previous_estimate = estimator.previous, estimator.jacobian_estimate.direction(lam)
    direction, _, _ = estimator.weighted_gradient(weights, 1, np.random.default_rng(5), 11, 1.0)
    A = np.sort(rng.choice(problem.n_samples, size=8, replace=False))
    now, _ = problem.weighted_gradient(A, weights, seed=11)
    then, _ = problem.weighted_gradient(A, weights, params=previous_point, seed=11)
    for d, u, a, b in zip(direction, previous_estimate, now, then):
        torch.testing.assert_close(d, u + a - b)


def test_recursive_exact_with_all_samples():
    problem = tiny_problem(n=24)
    algorithm = PSMGD(q=5, estimator=Recursive(batch_size=24), step=ConstantStep(0.05))
    algorithm.setup(problem, termination=("n_gen", 10), seed=0)
    for _ in range(5):
        algorithm.next()
    estimate = algorithm.network.estimator.weighted_estimate
    weights = algorithm.weights[0]
    exact, _ = problem.weighted_gradient(None, weights, params=algorithm.network.estimator.previous, seed=0)
    for a, b in zip(estimate, exact):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("make", [lambda: MGDA(), lambda: LinearScalarization(), lambda: SMGD(batch_size=8)])
def test_baselines_train_networks(make):
    problem = tiny_problem()
    start = problem.evaluation_losses().numpy()
    res = minimize(problem, make(), ("n_gen", 40), seed=0)
    assert np.all(np.isfinite(res.F))
    assert res.F[0].sum() < start.sum()


def test_sgd_step_follows_direction():
    problem = tiny_problem()
    algorithm = LinearScalarization([1, 1, 1], step=ConstantStep(0.1))
    algorithm.setup(problem, termination=("n_gen", 5), seed=0)
    algorithm.next()
    before = parameters(problem.model)
    direction, _ = problem.weighted_gradient(None, np.full(3, 1 / 3), seed=0)
    algorithm.next()
    expected = before - 0.1 * torch.cat([d.reshape(-1) for d in direction])
    torch.testing.assert_close(parameters(problem.model), expected)


def _nan_at(loss, calls):
    """Return ``loss``, but NaN at the given call numbers (1-based)."""
    count = {"n": 0}

    def wrapped(out, target):
        count["n"] += 1
        value = loss(out, target)
        return value * float("nan") if count["n"] in calls else value

    return wrapped


def test_nan_loss_names_task_and_step():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    losses = {"reg": nn.MSELoss(), "cls": _nan_at(nn.CrossEntropyLoss(), range(9, 100)), "sin": nn.SmoothL1Loss()}
    problem = MultiTaskProblem(model, (X, targets), losses)
    algorithm = PSMGD(q=2)
    algorithm.setup(problem, termination=("n_gen", 20), seed=0)
    with pytest.raises(NonFiniteLossError, match=r"task 'cls' .* at generation \d+ \(step \d+\)") as info:
        for _ in range(20):
            before = parameters(model)
            algorithm.next()
    assert "nonfinite='skip'" in str(info.value)
    assert torch.equal(before, parameters(model))
    assert np.all(np.isfinite(algorithm.weights))


def test_skip_mode_counts_skipped_step():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    losses = [nn.MSELoss(), _nan_at(nn.CrossEntropyLoss(), {7}), nn.SmoothL1Loss()]
    problem = MultiTaskProblem(model, (X, targets), losses, nonfinite="skip")
    start = parameters(model)
    res = minimize(problem, PSMGD(q=2), ("n_gen", 8), seed=0)
    assert res.algorithm.counters["n_skipped"] == 1
    assert not torch.equal(start, parameters(model))
    assert np.all(np.isfinite(res.algorithm.weights))


def test_skip_mode_stops_after_ten_skips():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    losses = [nn.MSELoss(), _nan_at(nn.CrossEntropyLoss(), range(8, 1000)), nn.SmoothL1Loss()]
    problem = MultiTaskProblem(model, (X, targets), losses, nonfinite="skip")
    with pytest.raises(NonFiniteLossError, match="11 steps in a row were skipped"):
        minimize(problem, PSMGD(q=2), ("n_gen", 30), seed=0)


def test_nan_target_names_its_task():
    X, (y1, y2, y3) = regression_data()
    y3 = y3.clone()
    y3[5] = float("nan")
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    losses = {"reg": nn.MSELoss(), "cls": nn.CrossEntropyLoss(), "sin": nn.SmoothL1Loss()}
    problem = MultiTaskProblem(model, (X, (y1, y2, y3)), losses, engine="batched")
    with pytest.raises(NonFiniteLossError, match="task 'sin'"):
        minimize(problem, MGDA(), ("n_gen", 3), seed=0)


def test_nonfinite_validation_loss_raises():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    bad_inputs = X.clone()
    bad_inputs[0, 0] = float("nan")
    problem = MultiTaskProblem(model, (X, targets), [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()],
                               validation=(bad_inputs, targets))
    with pytest.raises(NonFiniteLossError, match="validation loss of task .* at generation 1"):
        minimize(problem, PSMGD(q=2), ("n_gen", 3), seed=0)


def test_autocast_gramian_float32():
    X, targets = regression_data(dtype=torch.float32)
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,))
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    problem = MultiTaskProblem(model, (X, targets), losses, precision=MixedPrecision(torch.bfloat16))
    grads = problem.task_gradients(None, seed=0)
    G = grads.gramian()
    assert G.dtype == torch.float32
    reference = MultiTaskProblem(model, (X, targets), losses).task_gradients(None, seed=0).gramian()
    torch.testing.assert_close(G, reference, rtol=0.1, atol=1e-3)
    res = minimize(problem, PSMGD(q=2), ("n_gen", 6), seed=0)
    assert np.all(np.isfinite(res.F))


def test_grad_scaler_gramian_unscaled():
    X, targets = regression_data(dtype=torch.float32)
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,))
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    scaled = MultiTaskProblem(model, (X, targets), losses, precision=MixedPrecision(torch.bfloat16, scaler))
    plain = MultiTaskProblem(model, (X, targets), losses, precision=MixedPrecision(torch.bfloat16))
    torch.testing.assert_close(
        scaled.task_gradients(None, seed=0, scale=scaled.precision.scale(scaled.device)).gramian(),
        plain.task_gradients(None, seed=0).gramian(), rtol=1e-5, atol=1e-7,
    )


def test_grad_scaler_overflow_skips_step():
    X, targets = regression_data(dtype=torch.float32)
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,))
    scaler = torch.amp.GradScaler("cpu", init_scale=1e38, backoff_factor=1e-35)
    problem = MultiTaskProblem(model, (X, targets), losses, precision=MixedPrecision(torch.float16, scaler))
    algorithm = PSMGD(q=2)
    algorithm.setup(problem, termination=("n_gen", 5), seed=0)
    algorithm.next()
    start = parameters(model)
    algorithm.next()
    assert torch.equal(start, parameters(model))
    assert algorithm.counters["n_skipped"] == 1
    assert scaler.get_scale() < 1e38
    for _ in range(3):
        algorithm.next()
    assert not torch.equal(start, parameters(model))


CHECKPOINT_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from pymoo.optimize import minimize
    from pmo_grad import PSMGD, Recursive, Checkpoint
    from tests.test_neural_gradients import tiny_problem
    n_gen, path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    problem = tiny_problem(dropout=0.3, batch_norm=True, micro_batch_size=16)
    algorithm = PSMGD(q=3, estimator=Recursive(batch_size=8), checkpoint=Checkpoint(path, every=4))
    res = minimize(problem, algorithm, ("n_gen", n_gen), seed=2)
    state = {k: v.clone() for k, v in res.model.state_dict().items()}
    torch.save({"state": state, "adam": res.algorithm.network.optimizer.state_dict(), "F": res.F}, out)
    """
)


def _run_checkpoint_script(tmp_path, n_gen, checkpoint, out):
    script = tmp_path / "run.py"
    script.write_text(CHECKPOINT_SCRIPT)
    root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    subprocess.run([sys.executable, str(script), str(n_gen), str(checkpoint), str(out)], check=True, cwd=root,
                   env={**__import__("os").environ, "PYTHONPATH": root}, timeout=300)
    return torch.load(out, weights_only=False)


def test_resumed_run_equals_straight_run(tmp_path):
    _run_checkpoint_script(tmp_path, 10, tmp_path / "a.pt", tmp_path / "a10.pt")
    resumed = _run_checkpoint_script(tmp_path, 20, tmp_path / "a.pt", tmp_path / "a20.pt")
    straight = _run_checkpoint_script(tmp_path, 20, tmp_path / "b.pt", tmp_path / "b20.pt")
    for name, value in straight["state"].items():
        assert torch.equal(value, resumed["state"][name]), name
    assert np.array_equal(straight["F"], resumed["F"])


def test_finished_run_returns_unchanged(tmp_path):
    path = tmp_path / "run.pt"
    first = minimize(tiny_problem(), PSMGD(q=3, checkpoint=Checkpoint(path, every=2)), ("n_gen", 6), seed=0)
    saved = parameters(first.model)
    again = minimize(tiny_problem(), PSMGD(q=3, checkpoint=Checkpoint(path, every=2)), ("n_gen", 6), seed=0)
    assert torch.equal(saved, parameters(again.model))
    assert again.algorithm.n_gen == 7
    np.testing.assert_array_equal(first.F, again.F)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(seed=1), "written by a run with seed 0"),
        (dict(step=TorchOptimizer(torch.optim.Adam, lr=0.1)), "step: saved"),
        (dict(estimator=Minibatch(8)), "estimator: saved"),
        (dict(n=30), "n_samples: saved 40, now 30"),
    ],
)
def test_checkpoint_of_other_settings_is_refused(tmp_path, change, match):
    path = tmp_path / "run.pt"
    minimize(tiny_problem(), PSMGD(q=3, checkpoint=Checkpoint(path, every=2)), ("n_gen", 3), seed=0)
    options = {key: value for key, value in change.items() if key in ("step", "estimator")}
    problem = tiny_problem(n=change.get("n", 40))
    with pytest.raises(ValueError, match=match):
        minimize(problem, PSMGD(q=3, checkpoint=Checkpoint(path), **options), ("n_gen", 6), seed=change.get("seed", 0))


def test_checkpoint_from_another_algorithm_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    minimize(tiny_problem(), PSMGD(q=3, checkpoint=Checkpoint(path, every=2)), ("n_gen", 3), seed=0)
    with pytest.raises(ValueError, match="resume with the same algorithm settings"):
        minimize(tiny_problem(), PSMGD(q=4, checkpoint=Checkpoint(path)), ("n_gen", 5), seed=0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: PSMGD(q=2, pop_size=4), "one network per run"),
        (lambda: PSMGD(q=2, sampling=np.zeros((1, 3))), "sampling does not apply"),
        (lambda: PSMGD(q=2, step=ArmijoStep()), "cannot train a network"),
        (lambda: MoCo(batch_size=4), "no network implementation"),
        (lambda: PSMGD(q=2, estimator=Minibatch(500)), "exceeds the network problem's 40"),
        (lambda: PSMGD(q=2, step=TorchOptimizer(torch.optim.SGD, learning_rate=0.1)), "could not build the optimizer"),
    ],
)
def test_unsuitable_settings_rejected(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        minimize(tiny_problem(), make(), ("n_gen", 3), seed=0)


def test_recursive_with_representation_engine_is_rejected():
    with pytest.raises(ValueError, match="Use engine='batched'"):
        minimize(tiny_problem("representation"), PSMGD(q=2, estimator=Recursive()), ("n_gen", 3), seed=0)


def test_network_options_rejected_on_pymoo_problems(tmp_path):
    from pymoo.problems import get_problem

    with pytest.raises(TypeError, match="checkpoints are supported for network problems"):
        minimize(get_problem("zdt1"), PSMGD(checkpoint=Checkpoint(tmp_path / "x.pt")), ("n_gen", 2))
    with pytest.raises(TypeError, match="TorchOptimizer steps train networks"):
        minimize(get_problem("zdt1"), PSMGD(step=TorchOptimizer()), ("n_gen", 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_multidigits_trains_on_cuda():
    problem = multi_digits_problem(hidden=(32,), device="cuda")
    res = minimize(problem, PSMGD(q=5, estimator=Minibatch(64)), ("n_gen", 30), seed=1)
    assert next(res.model.parameters()).is_cuda
    assert np.all(np.isfinite(res.F))
