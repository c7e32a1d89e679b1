"""Conversion of the run objects that the plot functions accept, and figure creation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from pymoo.core.problem import Problem
from pymoo.core.result import Result

from pmo_grad.visualization.recorder import RunRecorder, RunTrace

Run = Union[RunTrace, RunRecorder, Result]
"""A recorded run: a :class:`RunTrace`, the :class:`RunRecorder` that recorded it, or the
pymoo ``Result`` of ``minimize(..., callback=RunRecorder(...))``."""


def as_trace(run: Run, label: str = "run") -> RunTrace:
    """Return the :class:`RunTrace` of ``run``, or raise TypeError naming the fix."""
    if isinstance(run, RunTrace):
        return run
    if isinstance(run, RunRecorder):
        return run.trace
    if isinstance(run, Result):
        callback = getattr(run.algorithm, "callback", None)
        if isinstance(callback, RunRecorder):
            return callback.trace
        raise TypeError(
            f"the result {label!r} was not recorded: run minimize(..., callback=RunRecorder(...)), "
            "or build RunTrace.from_history(res.history, ...) from a run with save_history=True"
        )
    raise TypeError(
        f"run {label!r} is a {type(run).__name__}; expected a RunTrace, a RunRecorder or the pymoo Result "
        "of minimize(..., callback=RunRecorder(...))"
    )


def labelled_traces(runs: Mapping[str, Run | Sequence[Run]], allow_groups: bool) -> list[tuple[str, list[RunTrace]]]:
    """Return (label, traces) pairs; a label maps to one run, or to several (seeds) when ``allow_groups``."""
    if not isinstance(runs, Mapping):
        raise TypeError(
            f"runs must be a mapping from a label to a run, for example {{'PSMGD': recorder}}, "
            f"got a {type(runs).__name__}"
        )
    if not runs:
        raise ValueError("runs is empty; pass at least one labelled run, for example {'PSMGD': recorder}")
    pairs = []
    for label, value in runs.items():
        if isinstance(value, (list, tuple)):
            if not allow_groups:
                raise TypeError(
                    f"run {label!r} is a {type(value).__name__} of runs; this plot draws one run per label, "
                    "so give each run its own label"
                )
            if not value:
                raise ValueError(f"run {label!r} is an empty {type(value).__name__}; give at least one run")
            pairs.append((str(label), [as_trace(v, str(label)) for v in value]))
        else:
            pairs.append((str(label), [as_trace(value, str(label))]))
    return pairs


def true_front_points(pareto_front: np.ndarray | None) -> np.ndarray | None:
    """Return the true front as a validated (n × m) float array, or None."""
    if pareto_front is None:
        return None
    if isinstance(pareto_front, Problem):
        raise TypeError(
            f"pareto_front must be an (n × m) array; pass {type(pareto_front).__name__}'s "
            "problem.pareto_front() instead of the problem"
        )
    front = np.atleast_2d(np.asarray(pareto_front, dtype=float))
    if front.ndim != 2 or len(front) == 0 or not np.all(np.isfinite(front)):
        raise ValueError(
            f"pareto_front must be a non-empty (n × m) array of finite values, got shape {front.shape}"
        )
    return front


def new_figure(n_axes: int, width_per_axes: float = 4.2, height: float = 3.4, rows: bool = False) -> tuple[Figure, list]:
    """Return a figure with ``n_axes`` axes side by side (or stacked when ``rows``).

    The figure is made by pyplot, which loads the backend (in Jupyter that registers the
    figure display), and is closed in pyplot at once. So it renders headless
    (``fig.savefig``), and Jupyter shows it once when it is a cell's last value instead of
    once more at the end of the cell.
    """
    if rows:
        size = (width_per_axes * 1.5, height * n_axes * 0.75 + 0.6)
    else:
        size = (width_per_axes * n_axes, height)
    figure = plt.figure(figsize=size, layout="constrained")
    plt.close(figure)
    if rows:
        axes = figure.subplots(n_axes, 1, sharex=True, squeeze=False)[:, 0]
    else:
        axes = figure.subplots(1, n_axes, squeeze=False)[0]
    return figure, list(axes)
