"""Paths of individual points through a 2-objective space."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pmo_grad.visualization.recorder import RunTrace
from pmo_grad.visualization.runs import Run, labelled_traces, new_figure, true_front_points
from pmo_grad.visualization.weights import check_indices


def _paths_of(label: str, trace: RunTrace) -> np.ndarray:
    """Return the recorded objective vectors of ``trace`` as an array (T, K, 2)."""
    if trace.n_obj != 2:
        raise ValueError(
            f"plot_trajectories draws 2-objective runs, but run {label!r} has {trace.n_obj} objectives; "
            "use plot_fronts for the final front, or plot_convergence"
        )
    if not trace.follows_trajectories:
        raise ValueError(
            f"run {label!r} ({trace.algorithm}) reorders its population by survival, so point k of one "
            "generation is not point k of the next; plot_trajectories needs a pmo_grad gradient method"
        )
    sizes = {len(F) for F in trace.objectives}
    if len(sizes) != 1:
        raise ValueError(f"run {label!r} changed its population size during the run ({sorted(sizes)})")
    return np.stack(trace.objectives)


def plot_trajectories(
    runs: Mapping[str, Run],
    points: Sequence[int] | int | None = None,
    pareto_front: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the path (f1, f2) of chosen points over the recorded generations of 2-objective runs.

    ``runs`` maps a label to one recorded run of a pmo_grad gradient method (a
    :class:`RunTrace`, a :class:`RunRecorder` or the pymoo ``Result`` of a run recorded by
    one). ``points`` selects the trajectories k (all by default). Each path starts at a hollow
    circle (generation 1) and ends at a filled one (the last record). Every label gets its own
    color. ``pareto_front``, an (n × 2) array such as ``problem.pareto_front()``, is drawn as
    a black line.

    Returns a ``matplotlib.figure.Figure`` (not registered with pyplot, so it works headless
    and shows once in Jupyter).
    """
    pairs = [(label, traces[0]) for label, traces in labelled_traces(runs, allow_groups=False)]
    paths = {label: _paths_of(label, trace) for label, trace in pairs}
    true_front = true_front_points(pareto_front)
    if true_front is not None and true_front.shape[1] != 2:
        raise ValueError(f"pareto_front must have 2 columns for plot_trajectories, got shape {true_front.shape}")

    figure, (ax,) = new_figure(1, width_per_axes=5.6, height=4.6)
    handles = []
    if true_front is not None:
        order = np.argsort(true_front[:, 0], kind="stable")
        ax.plot(true_front[order, 0], true_front[order, 1], color="black", linewidth=1.0, alpha=0.7)
        handles.append(Line2D([], [], color="black", label="true front"))
    for i, (label, trace) in enumerate(pairs):
        color = f"C{i % 10}"
        F = paths[label]
        chosen = check_indices(points, F.shape[1], "points", f"run {label!r} with {F.shape[1]} points")
        for k in chosen:
            ax.plot(F[:, k, 0], F[:, k, 1], color=color, linewidth=0.9, alpha=0.7)
        ax.scatter(F[0, chosen, 0], F[0, chosen, 1], s=22, facecolors="none", edgecolors=color)
        ax.scatter(F[-1, chosen, 0], F[-1, chosen, 1], s=16, color=color)
        count = "1 point" if len(chosen) == 1 else f"{len(chosen)} points"
        handles.append(Line2D([], [], color=color, label=f"{label} ({count})"))
    handles.append(Line2D([], [], color="gray", marker="o", markerfacecolor="none", linestyle="none", label="start"))
    handles.append(Line2D([], [], color="gray", marker="o", linestyle="none", label="end"))
    ax.set_xlabel("f1")
    ax.set_ylabel("f2")
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize=9, loc="best")
    if title:
        ax.set_title(title)
    return figure
