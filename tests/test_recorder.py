"""Tests of RunRecorder and RunTrace: recorded values against independent computations, and input checks."""

import numpy as np
import pytest
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.indicators.hv import HV
from pymoo.indicators.igd import IGD
from pymoo.optimize import minimize
from pymoo.problems import get_problem

from pmo_grad import MGDA, PSMGD, SMGD, ConstantStep, LinearScalarization, SampleBudgetTermination
from pmo_grad.indicators import pareto_stationarity
from pmo_grad.problems import MultiTargetLeastSquares
from pmo_grad.visualization import RunRecorder, RunTrace
from tests.conftest import SmoothPair

ZDT1_REF = np.array([1.1, 1.1])


def run_recorded(algorithm, problem=None, n_gen=20, seed=1, **recorder_kwargs):
    problem = problem if problem is not None else get_problem("zdt1", n_var=6)
    recorder = RunRecorder(**recorder_kwargs)
    res = minimize(problem, algorithm, ("n_gen", n_gen), seed=seed, callback=recorder)
    return res, recorder


def test_recorder_keeps_every_generation_and_final_counters():
    res, recorder = run_recorded(PSMGD(q=3, pop_size=8, step=ConstantStep(0.05)))
    trace = recorder.trace
    assert len(trace) == 20
    np.testing.assert_array_equal(trace.n_gen, np.arange(1, 21))
    for name, value in res.algorithm.counters.items():
        assert trace.counters[name][-1] == value, name
    assert np.all(np.diff(trace.counters["n_eval"]) == 8)


def test_refresh_marks_every_qth_step():
    _, recorder = run_recorded(PSMGD(q=3, pop_size=8, step=ConstantStep(0.05)))
    trace = recorder.trace
    # Generation 1 evaluates the start points, so generation g follows step g − 2. PSMGD
    # solves for weights at steps 0, 3, 6, …
    expected = np.array([g >= 2 and (g - 2) % 3 == 0 for g in trace.n_gen])
    np.testing.assert_array_equal(trace.refresh, expected)
    solves = trace.counters["n_weight_solves"]
    assert np.all((np.diff(solves) > 0) == expected[1:])


def test_weights_held_between_refreshes_and_copied():
    res, recorder = run_recorded(PSMGD(q=4, pop_size=5, step=ConstantStep(0.05)))
    weights = recorder.trace.weights
    assert weights.shape == (20, 5, 2)
    assert np.all(np.isnan(weights[0]))
    np.testing.assert_array_equal(weights[2], weights[1])
    np.testing.assert_array_equal(weights[4], weights[1])
    assert not np.array_equal(weights[5], weights[1])
    np.testing.assert_allclose(weights[1:].sum(axis=2), 1.0)
    np.testing.assert_array_equal(weights[-1], res.algorithm.weights)
    assert not np.shares_memory(recorder.records[-1].weights, res.algorithm.weights)


def test_hv_and_igd_match_pymoo_indicators():
    problem = get_problem("zdt1", n_var=6)
    front = problem.pareto_front()
    res, recorder = run_recorded(PSMGD(q=3, pop_size=8, step=ConstantStep(0.05)), problem,
                                 ref_point=ZDT1_REF, pareto_front=front)
    trace = recorder.trace
    assert trace.hv[-1] == pytest.approx(HV(ref_point=ZDT1_REF)(res.F), abs=1e-12)
    assert trace.igd[-1] == pytest.approx(IGD(front)(res.F), abs=1e-12)
    first = trace.objectives[0]
    assert trace.igd[0] == pytest.approx(IGD(front)(first[_non_dominated(first)]), abs=1e-12)


def _non_dominated(F):
    keep = np.ones(len(F), dtype=bool)
    for i, f in enumerate(F):
        dominated = np.all(F <= f, axis=1) & np.any(F < f, axis=1)
        keep[i] = not dominated.any()
    return keep


def test_metrics_not_requested_are_nan():
    _, recorder = run_recorded(PSMGD(q=3, pop_size=4), stationarity="none")
    trace = recorder.trace
    assert np.all(np.isnan(trace.hv))
    assert np.all(np.isnan(trace.igd))
    assert np.all(np.isnan(trace.stationarity))


def test_algorithm_stationarity_is_read_from_the_run():
    res, recorder = run_recorded(MGDA(pop_size=6, step=ConstantStep(0.05)))
    trace = recorder.trace
    assert np.isnan(trace.stationarity[0])
    assert trace.stationarity[-1] == pytest.approx(float(res.algorithm.stationarity.mean()))
    assert trace.stationarity_max[-1] == pytest.approx(float(res.algorithm.stationarity.max()))


def test_exact_stationarity_matches_closed_form_jacobian():
    problem = SmoothPair(n_var=4)
    res, recorder = run_recorded(MGDA(pop_size=6, step=ConstantStep(0.05)), problem, n_gen=8, stationarity="exact")
    X = res.algorithm.pop.get("X")
    # f1 = ‖x − a‖², f2 = ‖x + a‖², so ∇f1 = 2(x − a) and ∇f2 = 2(x + a).
    J = np.stack([2 * (X - problem.a), 2 * (X + problem.a)], axis=1)
    expected = pareto_stationarity(J)
    assert recorder.trace.stationarity[-1] == pytest.approx(expected.mean(), rel=1e-10)
    assert recorder.trace.stationarity_max[-1] == pytest.approx(expected.max(), rel=1e-10)


def test_exact_stationarity_leaves_run_unchanged():
    plain, _ = run_recorded(PSMGD(q=3, pop_size=6, step=ConstantStep(0.05)), seed=3, stationarity="none")
    measured, recorder = run_recorded(PSMGD(q=3, pop_size=6, step=ConstantStep(0.05)), seed=3, stationarity="exact")
    np.testing.assert_array_equal(plain.algorithm.pop.get("X"), measured.algorithm.pop.get("X"))
    assert dict(plain.algorithm.counters) == dict(measured.algorithm.counters)
    assert np.all(np.isfinite(recorder.trace.stationarity))


def test_exact_stationarity_on_full_data_of_finite_sum():
    problem = MultiTargetLeastSquares.diabetes_two_targets()
    start = ((problem.xl + problem.xu) / 2)[None, :]
    recorder = RunRecorder(stationarity="exact")
    algorithm = SMGD(batch_size=16, pop_size=1, sampling=start, step=ConstantStep(0.01))
    res = minimize(problem, algorithm, SampleBudgetTermination(2 * problem.n_samples * problem.n_obj),
                   seed=1, callback=recorder)
    X = res.algorithm.pop.get("X")
    # The point stays inside the box here, so no coordinate is blocked.
    assert np.all((X > problem.xl) & (X < problem.xu))
    expected = pareto_stationarity(problem.sample_jacobian(X))
    assert recorder.trace.stationarity[-1] == pytest.approx(expected[0], rel=1e-12)
    assert recorder.trace.counters["n_sample_grads"][-1] == res.algorithm.counters["n_sample_grads"]


def test_exact_stationarity_for_nsga2():
    _, recorder = run_recorded(NSGA2(pop_size=10), n_gen=5, stationarity="exact")
    trace = recorder.trace
    assert np.all(np.isfinite(trace.stationarity))
    assert trace.weights is None
    assert not trace.follows_trajectories
    assert list(trace.counters) == ["n_eval"]
    assert not trace.refresh.any()


def test_algorithm_stationarity_is_nan_for_nsga2():
    _, recorder = run_recorded(NSGA2(pop_size=10), n_gen=5)
    assert np.all(np.isnan(recorder.trace.stationarity))


def test_seconds_increase_within_run_time():
    res, recorder = run_recorded(PSMGD(q=3, pop_size=8), n_gen=30, stationarity="exact")
    seconds = recorder.trace.seconds
    assert seconds[0] >= 0.0
    assert np.all(np.diff(seconds) >= 0.0)
    assert seconds[-1] <= res.exec_time


def test_every_keeps_first_stride_and_last():
    _, recorder = run_recorded(PSMGD(q=3, pop_size=4), n_gen=23, every=5)
    np.testing.assert_array_equal(recorder.trace.n_gen, [1, 6, 11, 16, 21, 23])


def test_refresh_with_stride_counts_solves_since_last_record():
    _, recorder = run_recorded(PSMGD(q=7, pop_size=4), n_gen=23, every=5)
    # Steps 0, 7, 14 and 21 solve, producing generations 2, 9, 16 and 23.
    np.testing.assert_array_equal(recorder.trace.refresh, [False, True, True, True, False, True])


def test_fixed_weights_never_refresh():
    _, recorder = run_recorded(LinearScalarization(pop_size=4), n_gen=6)
    trace = recorder.trace
    assert not trace.refresh.any()
    np.testing.assert_allclose(trace.weights[1:], 0.5)


def test_history_trace_matches_recorder():
    problem = get_problem("zdt1", n_var=6)
    recorder = RunRecorder(ref_point=ZDT1_REF, pareto_front=problem.pareto_front())
    res = minimize(problem, PSMGD(q=3, pop_size=6), ("n_gen", 12), seed=2, callback=recorder, save_history=True)
    from_history = RunTrace.from_history(res.history, ref_point=ZDT1_REF, pareto_front=problem.pareto_front())
    recorded = recorder.trace
    np.testing.assert_array_equal(from_history.n_gen, recorded.n_gen)
    np.testing.assert_array_equal(from_history.hv, recorded.hv)
    np.testing.assert_array_equal(from_history.igd, recorded.igd)
    np.testing.assert_array_equal(from_history.stationarity, recorded.stationarity)
    np.testing.assert_array_equal(from_history.refresh, recorded.refresh)
    np.testing.assert_array_equal(from_history.weights, recorded.weights)
    for name in recorded.counters:
        np.testing.assert_array_equal(from_history.counters[name], recorded.counters[name])
    assert np.all(np.isnan(from_history.seconds))


def test_column_names_counters_and_metrics():
    _, recorder = run_recorded(PSMGD(q=3, pop_size=4), n_gen=5, ref_point=ZDT1_REF)
    trace = recorder.trace
    np.testing.assert_array_equal(trace.column("n_grad"), trace.counters["n_grad"])
    np.testing.assert_array_equal(trace.column("hv"), trace.hv)
    with pytest.raises(KeyError, match="no column 'n_samples'"):
        trace.column("n_samples")


def test_recorder_rejects_second_run():
    recorder = RunRecorder()
    minimize(get_problem("zdt1", n_var=6), PSMGD(q=3, pop_size=4), ("n_gen", 3), seed=1, callback=recorder)
    with pytest.raises(RuntimeError, match="create a new RunRecorder"):
        minimize(get_problem("zdt1", n_var=6), PSMGD(q=3, pop_size=4), ("n_gen", 3), seed=1, callback=recorder)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"stationarity": "full"}, "stationarity must be one of"),
        ({"every": 0}, "every must be an integer >= 1"),
        ({"every": 2.5}, "every must be an integer >= 1"),
        ({"ref_point": [1.1, np.nan]}, "ref_point must be a 1-D sequence of finite numbers"),
        ({"pareto_front": np.zeros((0, 2))}, "pareto_front must be a non-empty 2-D array"),
    ],
)
def test_recorder_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RunRecorder(**kwargs)


def test_recorder_rejects_ref_point_of_wrong_length():
    with pytest.raises(ValueError, match="ref_point has 3 coordinates but problem ZDT1 has 2 objectives"):
        run_recorded(PSMGD(q=3, pop_size=4), n_gen=2, ref_point=[1.1, 1.1, 1.1])


def test_recorder_rejects_front_of_wrong_width():
    with pytest.raises(ValueError, match="pareto_front has 3 columns but problem ZDT1 has 2 objectives"):
        run_recorded(PSMGD(q=3, pop_size=4), n_gen=2, pareto_front=np.ones((5, 3)))


def test_empty_recorder_has_no_trace():
    with pytest.raises(ValueError, match="no generation of an algorithm was recorded"):
        RunRecorder().trace


def test_empty_history_is_rejected():
    with pytest.raises(ValueError, match="save_history=True"):
        RunTrace.from_history([])


def test_recorder_on_network_run():
    torch = pytest.importorskip("torch")
    from pmo_grad import Minibatch
    from pmo_grad.problems import MultiTaskProblem

    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 3, generator=generator)
    targets = (inputs @ torch.tensor([[1.0], [-1.0], [0.5]]), inputs @ torch.tensor([[-1.0], [1.0], [0.5]]))
    trunk = torch.nn.Linear(3, 4)
    heads = torch.nn.ModuleList([torch.nn.Linear(4, 1), torch.nn.Linear(4, 1)])

    class TwoHeads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk, self.heads = trunk, heads

        def forward(self, x):
            hidden = torch.tanh(self.trunk(x))
            return [head(hidden) for head in self.heads]

    mse = torch.nn.MSELoss()
    problem = MultiTaskProblem(TwoHeads(), (inputs, targets), [mse, mse], device="cpu")
    recorder = RunRecorder(stationarity="exact")
    res = minimize(problem, PSMGD(q=3, estimator=Minibatch(16)), ("n_gen", 7), seed=1, callback=recorder)
    trace = recorder.trace
    assert len(trace) == 7
    assert trace.weights.shape == (7, 1, 2)
    np.testing.assert_array_equal(trace.refresh, [False, True, False, False, True, False, False])
    X = res.algorithm.pop.get("X")
    assert problem.xl is None
    expected = pareto_stationarity(problem.sample_jacobian(X))
    assert trace.stationarity[-1] == pytest.approx(expected[0], rel=1e-9)
    assert trace.counters["n_backward"][-1] == res.algorithm.counters["n_backward"]
