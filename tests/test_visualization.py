"""Headless tests of the plot functions: returned figures, their artists and data, and input checks."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize
from pymoo.problems import get_problem

from pmo_grad import MGDA, PSMGD, ConstantStep
from pmo_grad.visualization import (
    RunRecorder,
    RunTrace,
    plot_convergence,
    plot_fronts,
    plot_trajectories,
    plot_weights,
)

ZDT1_REF = np.array([1.1, 1.1])


@pytest.fixture(scope="module")
def zdt1():
    return get_problem("zdt1", n_var=6)


@pytest.fixture(scope="module")
def runs(zdt1):
    """Recorded runs of PSMGD, MGDA and NSGA-II on ZDT1 with 6 variables."""
    results = {}
    algorithms = {
        "PSMGD": PSMGD(q=3, pop_size=6, step=ConstantStep(0.05)),
        "MGDA": MGDA(pop_size=6, step=ConstantStep(0.05)),
        "NSGA-II": NSGA2(pop_size=6),
    }
    for label, algorithm in algorithms.items():
        recorder = RunRecorder(ref_point=ZDT1_REF, pareto_front=zdt1.pareto_front())
        results[label] = minimize(zdt1, algorithm, ("n_gen", 15), seed=1, callback=recorder)
    return results


@pytest.fixture(scope="module")
def dtlz2_run():
    problem = get_problem("dtlz2", n_var=6, n_obj=3)
    recorder = RunRecorder(ref_point=[1.1, 1.1, 1.1])
    return minimize(problem, PSMGD(q=2, pop_size=5, step=ConstantStep(0.05)), ("n_gen", 6), seed=1, callback=recorder)


def assert_not_in_pyplot(figure):
    assert isinstance(figure, Figure)
    assert figure not in [plt.figure(n) for n in plt.get_fignums()]


def test_figures_render_headless(runs, zdt1, tmp_path):
    figures = [
        plot_fronts({label: res for label, res in runs.items()}, zdt1.pareto_front()),
        plot_convergence(runs),
        plot_weights({"PSMGD": runs["PSMGD"]}),
        plot_trajectories({"PSMGD": runs["PSMGD"]}),
    ]
    for i, figure in enumerate(figures):
        assert_not_in_pyplot(figure)
        path = tmp_path / f"figure{i}.png"
        figure.savefig(path)
        assert path.stat().st_size > 1000


# ----------------------------------------------------------------------------- plot_fronts


def test_fronts_draws_true_front_and_each_run(runs, zdt1):
    figure = plot_fronts({label: res.F for label, res in runs.items()}, zdt1.pareto_front(), title="ZDT1")
    ax = figure.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 1
    np.testing.assert_allclose(lines[0].get_xydata(), zdt1.pareto_front())
    collections = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(collections) == 3
    np.testing.assert_allclose(collections[0].get_offsets(), runs["PSMGD"].F)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "true front"
    assert [label.split(" (")[0] for label in labels[1:]] == ["PSMGD", "MGDA", "NSGA-II"]
    assert ax.get_title() == "ZDT1"


def test_fronts_counts_duplicates_in_legend():
    F = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    figure = plot_fronts({"twice": F})
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["twice (2 distinct of 3)"]


def test_fronts_leaves_out_non_finite_rows():
    F = np.array([[0.0, 1.0], [np.nan, 0.5], [1.0, 0.0]])
    figure = plot_fronts({"run": F})
    (collection,) = [c for c in figure.axes[0].collections if isinstance(c, PathCollection)]
    assert len(collection.get_offsets()) == 2


def test_fronts_three_objectives_use_3d_axes(dtlz2_run):
    problem = get_problem("dtlz2", n_var=6, n_obj=3)
    figure = plot_fronts({"PSMGD": dtlz2_run}, problem.pareto_front())
    ax = figure.axes[0]
    assert ax.name == "3d"
    assert len(ax.collections) == 2


@pytest.mark.parametrize(
    "fronts, pareto_front, error, message",
    [
        ([np.zeros((2, 2))], None, TypeError, "fronts must be a mapping"),
        ({}, None, ValueError, "nothing to draw"),
        ({"a": np.zeros((2, 2)), "b": np.zeros((2, 3))}, None, ValueError, "same number of objectives"),
        ({"a": np.zeros((2, 2))}, np.zeros((4, 3)), ValueError, "true front: 3"),
        ({"a": np.zeros((2, 4))}, None, ValueError, "draws 2 or 3 objectives, got 4"),
        ({"a": np.full((2, 2), np.nan)}, None, ValueError, "no front has a finite objective vector"),
        ({"a": "front"}, None, TypeError, "front 'a' must be an"),
        ({"a": np.zeros((2, 2))}, np.array([[0.0, np.inf]]), ValueError, "pareto_front must be a non-empty"),
    ],
)
def test_fronts_rejects_bad_input(fronts, pareto_front, error, message):
    with pytest.raises(error, match=message):
        plot_fronts(fronts, pareto_front)


def test_fronts_rejects_problem_as_front(zdt1):
    with pytest.raises(TypeError, match="pass ZDT1's problem.pareto_front"):
        plot_fronts({"a": np.zeros((2, 2))}, zdt1)


# ----------------------------------------------------------------------------- plot_convergence


def test_convergence_one_axes_per_metric(runs):
    figure = plot_convergence(runs, x="n_eval")
    assert len(figure.axes) == 3
    hv_ax, igd_ax, stat_ax = figure.axes
    assert hv_ax.get_ylabel() == "HV"
    assert igd_ax.get_yscale() == "log"
    assert stat_ax.get_yscale() == "log"
    assert len(hv_ax.get_lines()) == 3
    assert len(stat_ax.get_lines()) == 2
    assert "not recorded: NSGA-II" in [t.get_text() for t in stat_ax.texts]
    legend_labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend_labels == ["PSMGD", "MGDA", "NSGA-II"]


def test_convergence_draws_recorded_values(runs):
    figure = plot_convergence({"PSMGD": runs["PSMGD"]}, x="n_grad", metrics=["hv"])
    trace = runs["PSMGD"].algorithm.callback.trace
    (line,) = figure.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), trace.counters["n_grad"])
    np.testing.assert_array_equal(line.get_ydata(), trace.hv)
    assert figure.axes[0].get_xlabel() == "Jacobian evaluations"


def test_convergence_draws_zero_at_log_floor():
    trace = _synthetic_trace(stationarity=np.array([1.0, 1e-3, 0.0]))
    figure = plot_convergence({"run": trace}, x="n_gen", metrics="stationarity", log_floor=1e-12)
    (line,) = figure.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 1e-3, 1e-12])
    assert "drawn at 1e-12" in figure.axes[0].get_ylabel()


def test_convergence_groups_share_a_color(runs, zdt1):
    seeds = []
    for seed in (1, 2):
        recorder = RunRecorder(ref_point=ZDT1_REF)
        minimize(zdt1, PSMGD(q=3, pop_size=4), ("n_gen", 5), seed=seed, callback=recorder)
        seeds.append(recorder)
    figure = plot_convergence({"PSMGD": seeds, "MGDA": runs["MGDA"]}, x="seconds", metrics=["hv"])
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["PSMGD (2 runs)", "MGDA"]


def test_convergence_accepts_trace_and_recorder(runs):
    recorder = runs["MGDA"].algorithm.callback
    figure = plot_convergence({"trace": recorder.trace, "recorder": recorder}, metrics=["hv"])
    first, second = figure.axes[0].get_lines()
    np.testing.assert_array_equal(first.get_ydata(), second.get_ydata())


def test_convergence_rejects_counter_missing_from_a_run(runs):
    with pytest.raises(ValueError, match="run 'NSGA-II' \\(NSGA2\\) has no counter 'n_grad'"):
        plot_convergence(runs, x="n_grad")


def test_convergence_rejects_seconds_from_history(zdt1):
    res = minimize(zdt1, PSMGD(q=3, pop_size=4), ("n_gen", 4), seed=1, save_history=True)
    trace = RunTrace.from_history(res.history, ref_point=ZDT1_REF)
    with pytest.raises(ValueError, match="no wall times"):
        plot_convergence({"PSMGD": trace}, x="seconds")
    figure = plot_convergence({"PSMGD": trace}, x="n_eval", metrics=["hv"])
    assert len(figure.axes[0].get_lines()) == 1


def test_convergence_rejects_unrecorded_result(zdt1):
    res = minimize(zdt1, PSMGD(q=3, pop_size=4), ("n_gen", 3), seed=1)
    with pytest.raises(TypeError, match="was not recorded"):
        plot_convergence({"PSMGD": res})


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"x": "evaluations"}, ValueError, "unknown x axis 'evaluations'"),
        ({"metrics": ["gd"]}, ValueError, "unknown metric 'gd'"),
        ({"metrics": []}, ValueError, "metrics is empty"),
        ({"log_floor": 0.0}, ValueError, "log_floor must be a positive"),
    ],
)
def test_convergence_rejects_bad_arguments(runs, kwargs, error, message):
    with pytest.raises(error, match=message):
        plot_convergence(runs, **kwargs)


def test_convergence_rejects_metric_nobody_recorded(zdt1):
    recorder = RunRecorder()
    minimize(zdt1, PSMGD(q=3, pop_size=4), ("n_gen", 3), seed=1, callback=recorder)
    with pytest.raises(ValueError, match="no run recorded 'hv'; pass ref_point"):
        plot_convergence({"PSMGD": recorder}, metrics=["hv"])
    recorder = RunRecorder(stationarity="none")
    minimize(zdt1, PSMGD(q=3, pop_size=4), ("n_gen", 3), seed=1, callback=recorder)
    with pytest.raises(ValueError, match="no run recorded HV, IGD or Pareto-stationarity"):
        plot_convergence({"PSMGD": recorder})


@pytest.mark.parametrize("runs_argument, error", [([], TypeError), ({}, ValueError), ({"a": 3}, TypeError)])
def test_convergence_rejects_bad_runs(runs_argument, error):
    with pytest.raises(error):
        plot_convergence(runs_argument)


# ----------------------------------------------------------------------------- plot_weights


def test_weights_axes_per_objective_with_refresh_markers(runs):
    trace = runs["PSMGD"].algorithm.callback.trace
    figure = plot_weights({"PSMGD": runs["PSMGD"]}, points=[0, 2])
    assert len(figure.axes) == 2
    for s, ax in enumerate(figure.axes):
        step_0, dots_0, step_2, dots_2 = ax.get_lines()
        np.testing.assert_array_equal(step_0.get_ydata(), trace.weights[:, 0, s])
        np.testing.assert_array_equal(step_2.get_ydata(), trace.weights[:, 2, s])
        assert step_0.get_drawstyle() == "steps-pre"
        np.testing.assert_array_equal(dots_0.get_xdata(), trace.n_gen[trace.refresh])
        assert ax.get_ylabel() == f"λ of f{s + 1}"
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == ["PSMGD, point 0", "PSMGD, point 2", "weights solved (refresh)"]


def test_weights_selected_objective_only(dtlz2_run):
    figure = plot_weights({"PSMGD": dtlz2_run}, points=1, objectives=[2])
    assert len(figure.axes) == 1
    assert figure.axes[0].get_ylabel() == "λ of f3"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"points": [6]}, "points must be integers in \\[0, 6\\)"),
        ({"points": []}, "points is empty"),
        ({"objectives": [2]}, "objectives must be integers in \\[0, 2\\)"),
    ],
)
def test_weights_rejects_bad_indices(runs, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_weights({"PSMGD": runs["PSMGD"]}, **kwargs)


def test_weights_rejects_runs_without_weights(runs):
    with pytest.raises(ValueError, match="run 'NSGA-II' \\(NSGA2\\) has no weights"):
        plot_weights({"NSGA-II": runs["NSGA-II"]})


def test_weights_rejects_groups(runs):
    with pytest.raises(TypeError, match="draws one run per label"):
        plot_weights({"PSMGD": [runs["PSMGD"], runs["MGDA"]]})


def test_weights_rejects_mixed_objective_counts(runs, dtlz2_run):
    with pytest.raises(ValueError, match="same number of objectives"):
        plot_weights({"zdt1": runs["PSMGD"], "dtlz2": dtlz2_run})


# ----------------------------------------------------------------------------- plot_trajectories


def test_trajectories_draw_each_point_path(runs, zdt1):
    trace = runs["MGDA"].algorithm.callback.trace
    figure = plot_trajectories({"MGDA": runs["MGDA"]}, points=[1, 4], pareto_front=zdt1.pareto_front())
    ax = figure.axes[0]
    front, path_1, path_4 = ax.get_lines()
    np.testing.assert_allclose(front.get_xydata(), zdt1.pareto_front())
    path = np.stack(trace.objectives)[:, 1, :]
    np.testing.assert_array_equal(path_1.get_xydata(), path)
    starts, ends = ax.collections
    np.testing.assert_array_equal(starts.get_offsets(), np.stack(trace.objectives)[0, [1, 4]])
    np.testing.assert_array_equal(ends.get_offsets(), np.stack(trace.objectives)[-1, [1, 4]])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["true front", "MGDA (2 points)", "start", "end"]


def test_trajectories_default_all_points(runs):
    figure = plot_trajectories({"PSMGD": runs["PSMGD"], "MGDA": runs["MGDA"]})
    assert len(figure.axes[0].get_lines()) == 12


def test_trajectories_reject_nsga2(runs):
    with pytest.raises(ValueError, match="reorders its population by survival"):
        plot_trajectories({"NSGA-II": runs["NSGA-II"]})


def test_trajectories_reject_three_objectives(dtlz2_run):
    with pytest.raises(ValueError, match="draws 2-objective runs, but run 'PSMGD' has 3 objectives"):
        plot_trajectories({"PSMGD": dtlz2_run})


def test_trajectories_reject_front_of_wrong_width(runs):
    with pytest.raises(ValueError, match="must have 2 columns"):
        plot_trajectories({"PSMGD": runs["PSMGD"]}, pareto_front=np.ones((4, 3)))


def _synthetic_trace(stationarity: np.ndarray) -> RunTrace:
    """A hand-made trace with given stationarity values, to test drawing without a run."""
    T = len(stationarity)
    nan = np.full(T, np.nan)
    return RunTrace(
        algorithm="Hand-made",
        problem="none",
        n_obj=2,
        n_gen=np.arange(1, T + 1),
        counters={"n_eval": np.arange(T) * 10},
        seconds=np.linspace(0.0, 1.0, T),
        hv=nan,
        igd=nan,
        stationarity=stationarity,
        stationarity_max=stationarity,
        weights=None,
        refresh=np.zeros(T, dtype=bool),
        objectives=tuple(np.zeros((1, 2)) for _ in range(T)),
        follows_trajectories=True,
    )


def test_convergence_zero_counter_rejected():
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem

    from pmo_grad import PSMGD
    from pmo_grad.visualization import RunRecorder, plot_convergence

    res = minimize(get_problem("zdt1"), PSMGD(q=5, pop_size=4), ("n_gen", 4), seed=1,
                   callback=RunRecorder(ref_point=[1.1, 1.1]))
    with pytest.raises(ValueError, match="counted no 'n_sample_grads'"):
        plot_convergence({"PSMGD": res}, x="n_sample_grads")


def test_recorder_rejects_a_one_coordinate_reference_point():
    from pmo_grad.visualization import RunRecorder

    with pytest.raises(ValueError, match="has 1 coordinate"):
        RunRecorder(ref_point=[1.1])
