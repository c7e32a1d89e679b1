"""Objective-space plots of fronts, on pymoo's ``Scatter``."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from pymoo.core.result import Result
from pymoo.visualization.scatter import Scatter

from pmo_grad.visualization.runs import true_front_points

_MARKERS = ("o", "s", "^", "D", "v", "P")


def _front_array(label: str, front: np.ndarray | Result) -> np.ndarray:
    """Return the objective vectors of one front entry as an (n × m) float array."""
    if isinstance(front, Result):
        if front.F is None:
            raise ValueError(f"the result {label!r} has no objective vectors (res.F is None)")
        front = front.F
    try:
        F = np.atleast_2d(np.asarray(front, dtype=float))
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"front {label!r} must be an (n × m) array of objective vectors or a pymoo Result, "
            f"got a {type(front).__name__}"
        ) from exc
    if F.ndim != 2:
        raise ValueError(f"front {label!r} must be an (n × m) array, got shape {F.shape}")
    return F


def plot_fronts(
    fronts: Mapping[str, np.ndarray | Result],
    pareto_front: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Draw several algorithms' fronts, and the true front when given, in one pymoo ``Scatter``.

    ``fronts`` maps a label to an (n × m) array of objective vectors or to a pymoo ``Result``
    (its ``res.F``), with m = 2 or 3 for all of them. ``pareto_front`` is the true front as an
    (n × m) array, for example ``problem.pareto_front()``. It is drawn as a line for two
    objectives and as small grey points for three. Rows that are not finite are left out. Each
    front gets its own hollow marker, larger for earlier entries, so fronts that coincide stay
    visible. Its legend entry gives the number of distinct points when duplicates were collapsed.

    Returns the matplotlib figure, closed in pyplot so that Jupyter shows it once when it is
    the cell's last value (an unreferenced pymoo plot shows nothing there). Save it with
    ``fig.savefig``; it needs no display.
    """
    if not isinstance(fronts, Mapping):
        raise TypeError(
            f"fronts must be a mapping from a label to objective vectors, for example {{'PSMGD': res.F}}, "
            f"got a {type(fronts).__name__}"
        )
    arrays = {str(label): _front_array(str(label), F) for label, F in fronts.items()}
    true_front = true_front_points(pareto_front)
    if not arrays and true_front is None:
        raise ValueError("nothing to draw: fronts is empty and no pareto_front was given")

    widths = {F.shape[1] for F in arrays.values()}
    if true_front is not None:
        widths.add(true_front.shape[1])
    if len(widths) > 1:
        shapes = ", ".join(f"{label}: {F.shape[1]}" for label, F in arrays.items())
        extra = f", true front: {true_front.shape[1]}" if true_front is not None else ""
        raise ValueError(f"all fronts must have the same number of objectives, got {shapes}{extra}")
    n_obj = widths.pop()
    if n_obj not in (2, 3):
        raise ValueError(f"plot_fronts draws 2 or 3 objectives, got {n_obj}; for more, use pymoo's PCP or Radviz")

    plot = Scatter(title=title, legend=True)
    drawn = 0
    if true_front is not None:
        if n_obj == 2:
            order = np.argsort(true_front[:, 0], kind="stable")
            plot.add(true_front[order], plot_type="line", color="black", alpha=0.6, label="true front")
        else:
            plot.add(true_front, s=4, color="grey", alpha=0.35, label="true front")
        drawn += 1
    for i, (label, F) in enumerate(arrays.items()):
        F = F[np.all(np.isfinite(F), axis=1)]
        if not len(F):
            continue
        distinct = len(np.unique(F, axis=0))
        if distinct < len(F):
            label = f"{label} ({distinct} distinct of {len(F)})"
        plot.add(
            F,
            s=60.0 / (1 + i),
            marker=_MARKERS[i % len(_MARKERS)],
            facecolors="none",
            edgecolors=f"C{i}",
            label=label,
        )
        drawn += 1
    if drawn == 0:
        raise ValueError("nothing to draw: no front has a finite objective vector")
    plot.do()
    plt.close(plot.fig)
    return plot.fig
