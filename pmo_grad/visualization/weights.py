"""Plots of the weights λ along trajectories, with the refresh steps marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pmo_grad.visualization.recorder import RunTrace
from pmo_grad.visualization.runs import Run, labelled_traces, new_figure


def check_indices(values: Sequence[int] | None, size: int, name: str, owner: str) -> list[int]:
    """Return ``values`` as a list of ints in [0, size), all of them for None, or raise ValueError."""
    if values is None:
        return list(range(size))
    if isinstance(values, (int, np.integer)):
        values = [values]
    chosen = list(values)
    if not chosen:
        raise ValueError(f"{name} is empty; give at least one index in [0, {size})")
    for value in chosen:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
            raise ValueError(f"{name} must be integers in [0, {size}) for {owner}, got {value!r}")
    return [int(v) for v in chosen]


def _weights_of(label: str, trace: RunTrace) -> np.ndarray:
    if trace.weights is None:
        raise ValueError(
            f"run {label!r} ({trace.algorithm}) has no weights; plot_weights needs a pmo_grad gradient method "
            "recorded with RunRecorder"
        )
    return trace.weights


def plot_weights(
    runs: Mapping[str, Run],
    points: Sequence[int] | int = 0,
    objectives: Sequence[int] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the weights λ_s of chosen trajectories against the generation, one axes per objective.

    ``runs`` maps a label to one recorded run (a :class:`RunTrace`, a :class:`RunRecorder` or
    the pymoo ``Result`` of a run recorded by one). ``points`` selects trajectories k of the
    population, ``objectives`` the objectives s (all by default). The weights of generation t
    are those of the step from t − 1 to t, so they are drawn as a step held over (t − 1, t].
    A dot marks each record at which the weights were solved again (a refresh). With PSMGD the
    line is flat between the dots, and the jump at a dot is how far λ moved during the period.

    Returns a ``matplotlib.figure.Figure`` (not registered with pyplot, so it works headless
    and shows once in Jupyter).
    """
    pairs = [(label, traces[0]) for label, traces in labelled_traces(runs, allow_groups=False)]
    weights = {label: _weights_of(label, trace) for label, trace in pairs}
    n_obj = {trace.n_obj for _, trace in pairs}
    if len(n_obj) > 1:
        raise ValueError(
            "all runs must have the same number of objectives, got "
            + ", ".join(f"{label}: {trace.n_obj}" for label, trace in pairs)
        )
    m = n_obj.pop()
    chosen_objectives = check_indices(objectives, m, "objectives", f"{m} objectives")
    chosen_points = {
        label: check_indices(points, weights[label].shape[1], "points", f"run {label!r} with {weights[label].shape[1]} points")
        for label, _ in pairs
    }

    figure, axes = new_figure(len(chosen_objectives), rows=True)
    handles = []
    color_index = 0
    for label, trace in pairs:
        for k in chosen_points[label]:
            color = f"C{color_index % 10}"
            color_index += 1
            for ax, s in zip(axes, chosen_objectives):
                values = weights[label][:, k, s]
                ax.step(trace.n_gen, values, where="pre", color=color, linewidth=1.3)
                refresh = trace.refresh & np.isfinite(values)
                ax.plot(trace.n_gen[refresh], values[refresh], linestyle="none", marker="o",
                        markersize=3.5, color=color)
            handles.append(Line2D([], [], color=color, label=f"{label}, point {k}"))

    for ax, s in zip(axes, chosen_objectives):
        ax.set_ylabel(f"λ of f{s + 1}")
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("generation")
    handles.append(Line2D([], [], color="black", marker="o", markersize=3.5, linestyle="none",
                          label="weights solved (refresh)"))
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), fontsize=9)
    if title:
        figure.suptitle(title)
    return figure
