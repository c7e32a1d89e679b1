"""Objective-space plots of fronts, on pymoo's ``Scatter``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from pymoo.visualization.scatter import Scatter


def plot_fronts(
    fronts: Mapping[str, np.ndarray],
    pareto_front: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Draw several algorithms' fronts, and the true front when given, in one pymoo ``Scatter``.

    ``fronts`` maps a label to an (n × m) array of objective vectors, m = 2 or 3. Rows that
    are not finite are left out. Each front gets its own hollow marker, larger for earlier
    entries, so fronts that coincide stay visible, and its legend entry gives the number of
    distinct points when duplicates were collapsed. Returns the matplotlib figure, which works
    headless (save it) and in Jupyter, where an unreferenced pymoo plot would show nothing.
    """
    plot = Scatter(title=title, legend=True)
    if pareto_front is not None:
        plot.add(np.asarray(pareto_front), plot_type="line", color="black", alpha=0.6, label="true front")
    for i, (label, F) in enumerate(fronts.items()):
        F = np.atleast_2d(np.asarray(F, dtype=float))
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
    plot.do()
    return plot.fig


_MARKERS = ("o", "s", "^", "D", "v", "P")
