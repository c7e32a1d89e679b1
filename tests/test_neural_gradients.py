"""Gradients of network problems: engines against finite differences, weighted and micro-batched paths."""

import logging

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from pmo_grad.problems.jacobian_engines import BatchedEngine, LoopEngine  # noqa: E402
from pmo_grad.problems.networks import MultiTaskNet, mlp_multitask  # noqa: E402
from pmo_grad.problems.neural import MultiTaskProblem, dense_jacobian  # noqa: E402
from pmo_grad.problems.task_gradients import SHARED, UNREACHED  # noqa: E402

ENGINES = ["loop", "batched", "representation"]


def regression_data(n=40, d=4, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=dtype)
    y1 = (X[:, :1] * 1.5 - X[:, 1:2]) + 0.1 * torch.randn(n, 1, generator=g, dtype=dtype)
    y2 = torch.randint(0, 3, (n,), generator=g)
    y3 = torch.sin(X[:, 2:3])
    return X, (y1, y2, y3)


def tiny_problem(engine="batched", micro_batch_size=None, dropout=0.0, batch_norm=False, n=40, **kwargs):
    X, targets = regression_data(n)
    torch.manual_seed(1)
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,), dropout=dropout, batch_norm=batch_norm).double()
    losses = {"reg": nn.MSELoss(), "cls": nn.CrossEntropyLoss(), "sin": nn.SmoothL1Loss()}
    return MultiTaskProblem(model, (X, targets), losses, engine=engine, micro_batch_size=micro_batch_size, **kwargs)


def finite_difference_jacobian(problem, x, indices, eps=1e-6):
    J = np.zeros((problem.n_obj, problem.n_var))
    for i in range(problem.n_var):
        e = np.zeros_like(x)
        e[i] = eps
        up = problem.sample_values((x + e)[None], indices)[0]
        down = problem.sample_values((x - e)[None], indices)[0]
        J[:, i] = (up - down) / (2 * eps)
    return J


@pytest.mark.parametrize("engine", ["loop", "batched"])
def test_engines_match_finite_differences(engine):
    problem = tiny_problem(engine)
    x = problem.parameter_vector().numpy()
    indices = np.arange(0, 40, 3)
    grads = problem.task_gradients(indices, seed=0)
    J = dense_jacobian(grads).numpy()
    fd = finite_difference_jacobian(problem, x, indices)
    np.testing.assert_allclose(J, fd, atol=1e-7, rtol=1e-6)
    assert np.abs(J).max() > 1e-2


def test_representation_gramian_finite_differences():
    problem = tiny_problem("representation")
    model = problem.model
    X, targets = problem.train_data.batch(np.arange(40))
    with torch.no_grad():
        z0 = model.trunk(X)
    losses = problem.losses

    def task_losses(z):
        return np.array([float(loss(head(z), t)) for loss, head, t in zip(losses, model.heads, targets)])

    eps = 1e-6
    J = np.zeros((3, z0.numel()))
    flat = z0.reshape(-1)
    for i in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[i] = eps
        J[:, i] = (task_losses((flat + e).reshape(z0.shape)) - task_losses((flat - e).reshape(z0.shape))) / (2 * eps)
    G = problem.task_gradients(None, seed=0).gramian().numpy()
    np.testing.assert_allclose(G, J @ J.T, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
def test_weighted_backward_matches_combination(engine):
    problem = tiny_problem(engine)
    explicit = tiny_problem("loop")
    indices = np.arange(5, 30)
    reference = explicit.task_gradients(indices, seed=0)
    split = explicit.split
    for weights in ([0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.0, 0.99995, 0.00005]):
        lam = torch.tensor(weights, dtype=torch.float64)
        direction, losses = problem.weighted_gradient(indices, weights, seed=0)
        for i, (d, owner) in enumerate(zip(direction, split.owner)):
            if owner == SHARED:
                expected = torch.tensordot(lam, reference.rows[i], dims=1)
            else:  # a head follows its own task's gradient, whatever its weight
                expected = reference.rows[i]
            torch.testing.assert_close(d, expected, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(losses, reference.losses)


@pytest.mark.parametrize("engine", ENGINES)
def test_micro_batched_gradients_equal_whole_batch(engine):
    whole = tiny_problem(engine, n=64)
    micro = tiny_problem(engine, micro_batch_size=7, n=64)
    for indices in (np.arange(64), np.arange(3, 61, 2)):
        a = whole.task_gradients(indices, seed=0)
        b = micro.task_gradients(indices, seed=0)
        torch.testing.assert_close(a.gramian(), b.gramian(), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(a.losses, b.losses)
        weights = [0.3, 0.3, 0.4]
        da, _ = whole.weighted_gradient(indices, weights, seed=0)
        db, _ = micro.weighted_gradient(indices, weights, seed=0)
        for x, y in zip(da, db):
            torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_engines_agree_and_count_backward_calls():
    loop, batched = tiny_problem("loop"), tiny_problem("batched")
    a, b = loop.task_gradients(None, seed=0), batched.task_gradients(None, seed=0)
    for x, y in zip(a.rows, b.rows):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)
    assert loop.n_backward == 3
    assert batched.n_backward == 1
    chunked = tiny_problem(BatchedEngine(task_chunk_size=2))
    c = chunked.task_gradients(None, seed=0)
    assert chunked.n_backward == 2
    for x, y in zip(a.rows, c.rows):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


class _ItemScale(torch.autograd.Function):
    """Doubles its input; its backward calls .item(), which vmap cannot batch."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return grad * (2.0 + 0.0 * grad.sum().item())


class _Unbatchable(nn.Module):
    def forward(self, x):
        return _ItemScale.apply(x)


def test_batched_engine_falls_back_to_loop(caplog):
    X, targets = regression_data()
    torch.manual_seed(1)
    trunk = nn.Sequential(nn.Linear(4, 5), _Unbatchable(), nn.Tanh())
    model = MultiTaskNet(trunk, [nn.Linear(5, 1), nn.Linear(5, 3), nn.Linear(5, 1)]).double()
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    engine = BatchedEngine()
    problem = MultiTaskProblem(model, (X, targets), losses, engine=engine)
    with caplog.at_level(logging.WARNING):
        grads = problem.task_gradients(None, seed=0)
    assert engine.fallback_reason is not None
    assert "one backward pass per task" in caplog.text
    reference = MultiTaskProblem(model, (X, targets), losses, engine=LoopEngine()).task_gradients(None, seed=0)
    for x, y in zip(grads.rows, reference.rows):
        torch.testing.assert_close(x, y)


def test_split_inferred_from_graph():
    X, targets = regression_data()
    torch.manual_seed(1)
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    model.unused = nn.Linear(2, 2).double()
    model.trunk[1].bias.requires_grad_(False)
    problem = MultiTaskProblem(model, (X, targets), [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()])
    owner = dict(zip(problem.split.names, problem.split.owner))
    assert owner["trunk.1.weight"] == SHARED
    assert "trunk.1.bias" not in owner
    assert [owner[f"heads.{s}.weight"] for s in range(3)] == [0, 1, 2]
    assert owner["unused.weight"] == UNREACHED
    assert problem.n_var == sum(p.numel() for p in model.parameters() if p.requires_grad)
    direction, _ = problem.weighted_gradient(None, [0.2, 0.3, 0.5], seed=0)
    assert direction[problem.split.names.index("unused.weight")] is None


def test_explicit_shared_list_and_its_errors():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    every = MultiTaskProblem(model, (X, targets), losses, shared=list(model.parameters()))
    assert set(every.split.owner) == {SHARED}
    with pytest.raises(ValueError, match="reached by tasks"):
        MultiTaskProblem(model, (X, targets), losses, shared=["trunk.1.weight"])
    with pytest.raises(ValueError, match="not a trainable parameter"):
        MultiTaskProblem(model, (X, targets), losses, shared=["trunk.9.weight"])


def test_snapshot_same_seed_same_masks():
    problem = tiny_problem(dropout=0.5, batch_norm=True)
    indices = np.arange(0, 40, 2)
    before = [b.clone() for b in problem.model.buffers()]
    live = problem.task_gradients(indices, seed=7)
    snap = problem.task_gradients(indices, params=problem.snapshot(), seed=7)
    other = problem.task_gradients(indices, seed=8)
    for a, b in zip(live.rows, snap.rows):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, c) for a, c in zip(live.rows, other.rows))
    # outside a step no forward pass moves the running statistics
    for a, b in zip(before, problem.model.buffers()):
        assert torch.equal(a, b)


def test_batch_norm_updates_once_per_step():
    problem = tiny_problem("loop", micro_batch_size=8, batch_norm=True)
    bn = problem.model.trunk[2]
    for step in range(1, 4):
        problem.begin_step()
        problem.task_gradients(np.arange(32), seed=step)
        problem.weighted_gradient(np.arange(32), [0.3, 0.3, 0.4], params=problem.snapshot(), seed=step)
        assert int(bn.num_batches_tracked) == step
    running = bn.running_mean.clone()
    problem.begin_step()
    problem.task_gradients(np.arange(8), seed=9)
    problem.abort_step()
    assert torch.equal(bn.running_mean, running)


def test_numpy_hooks_match_torch_path():
    problem = tiny_problem()
    x = problem.parameter_vector().numpy()
    indices = np.arange(10, 20)
    J = problem.sample_jacobian(x[None], indices)[0]
    np.testing.assert_allclose(J, dense_jacobian(problem.task_gradients(indices, seed=0)).numpy(), rtol=1e-12)
    F = problem.evaluate(np.stack([x, x + 0.01]))
    assert F.shape == (2, 3)
    np.testing.assert_allclose(F[0], problem.evaluation_losses().numpy(), rtol=1e-12)
    assert not np.allclose(F[0], F[1])


def test_dataset_matches_tensors():
    X, targets = regression_data()

    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return len(X)

        def __getitem__(self, j):
            return X[j], tuple(t[j] for t in targets)

    torch.manual_seed(1)
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    a = MultiTaskProblem(model, Items(), losses).task_gradients(np.arange(5, 25), seed=0)
    b = MultiTaskProblem(model, (X, targets), losses).task_gradients(np.arange(5, 25), seed=0)
    for x, y in zip(a.rows, b.rows):
        torch.testing.assert_close(x, y)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda kw: kw.update(losses=[nn.MSELoss()]), "at least 2 task losses"),
        (lambda kw: kw.update(losses=[nn.MSELoss(), nn.CrossEntropyLoss()]), "3 targets per sample but 2 losses"),
        (lambda kw: kw.update(losses=[nn.MSELoss(reduction="none"), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]),
         "must return a scalar tensor"),
        (lambda kw: kw.update(micro_batch_size=0), "micro_batch_size must be an integer >= 1"),
        (lambda kw: kw.update(engine="vmap"), "engine must be .auto., one of"),
        (lambda kw: kw.update(nonfinite="ignore"), "nonfinite must be 'raise' or 'skip'"),
        (lambda kw: kw.update(train=(torch.zeros(5, 4), (torch.zeros(4, 1),) * 3)), "target 0 has shape"),
        (lambda kw: kw.update(train=torch.zeros(5, 4)), "map-style torch Dataset or a pair"),
        (lambda kw: kw.update(engine="representation", model=nn.Linear(4, 3).double()), "needs a model with a `trunk`"),
    ],
)
def test_bad_problem_input_rejected(change, match):
    X, targets = regression_data()
    kwargs = dict(
        model=mlp_multitask(4, [1, 3, 1], hidden=(6,)).double(),
        train=(X, targets),
        losses=[nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()],
    )
    change(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        MultiTaskProblem(**kwargs)


def test_summed_loss_is_rejected():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    with pytest.raises(ValueError, match="sums over the samples"):
        MultiTaskProblem(model, (X, targets), [nn.MSELoss(reduction="sum"), nn.CrossEntropyLoss(), nn.SmoothL1Loss()])


def test_representation_checks_forward():
    X, targets = regression_data()

    class Scaled(MultiTaskNet):
        def forward(self, x):
            return [2 * out for out in super().forward(x)]

    model = Scaled(nn.Sequential(nn.Linear(4, 5), nn.Tanh()), [nn.Linear(5, 1), nn.Linear(5, 3), nn.Linear(5, 1)]).double()
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    with pytest.raises(ValueError, match="differs from the model's forward output"):
        MultiTaskProblem(model, (X, targets), losses, engine="representation")


def test_wrong_input_dtype_rejected():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,))  # float32 parameters, float64 inputs
    with pytest.raises(ValueError, match="forward pass or a task loss failed on 2 training samples"):
        MultiTaskProblem(model, (X, targets), [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()])
    with pytest.raises(TypeError, match="torch.as_tensor"):
        MultiTaskProblem(model, (X.numpy(), targets), [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()])


def test_problem_copies_share_data():
    import copy

    problem = tiny_problem()
    clone = copy.deepcopy(problem)
    assert clone.train_data is problem.train_data
    assert clone.model is not problem.model


def test_wrong_output_count_rejected():
    X, targets = regression_data()
    model = mlp_multitask(4, [1, 3], hidden=(6,)).double()
    with pytest.raises(ValueError, match="one output per task"):
        MultiTaskProblem(model, (X, targets), [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without a GPU")
def test_cuda_without_gpu_rejected():
    with pytest.raises(ValueError, match="pass device='cpu'"):
        tiny_problem(device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gradients_on_cuda_match_the_cpu():
    cpu = tiny_problem("batched")
    gpu = tiny_problem("batched", device="cuda")
    a, b = cpu.task_gradients(None, seed=0), gpu.task_gradients(None, seed=0)
    torch.testing.assert_close(a.gramian(), b.gramian().cpu(), rtol=1e-8, atol=1e-10)


def test_data_fingerprint_sees_one_changed_entry():
    from pmo_grad.algorithms.data_parallel import _data_fingerprint

    X, (y1, y2, y3) = regression_data()
    changed = y1.clone()
    changed[25, 0] += 1.0
    model = mlp_multitask(4, [1, 3, 1], hidden=(6,)).double()
    losses = [nn.MSELoss(), nn.CrossEntropyLoss(), nn.SmoothL1Loss()]
    same = MultiTaskProblem(model, (X, (y1, y2, y3)), losses)
    other = MultiTaskProblem(model, (X, (changed, y2, y3)), losses)
    assert _data_fingerprint(same) == _data_fingerprint(MultiTaskProblem(model, (X.clone(), (y1, y2, y3)), losses))
    assert _data_fingerprint(same) != _data_fingerprint(other)


def test_task_parallel_alone_warns(caplog):
    with caplog.at_level(logging.WARNING):
        tiny_problem(task_parallel=True)
    assert "the option has no effect" in caplog.text
