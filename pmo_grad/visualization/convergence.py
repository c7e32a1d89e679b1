"""Convergence plots: HV, IGD and Pareto-stationarity against a cost axis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pmo_grad.visualization.recorder import RunTrace
from pmo_grad.visualization.runs import Run, labelled_traces, new_figure

COST_AXES: dict[str, str] = {
    "n_eval": "F evaluations",
    "n_grad": "Jacobian evaluations",
    "n_weighted_grad": "weighted-gradient evaluations",
    "n_sample_grads": "per-sample gradient evaluations",
    "n_weight_solves": "weight solves",
    "seconds": "wall time (s)",
    "n_gen": "generation",
}
"""Accepted ``x`` axes of :func:`plot_convergence` and their axis labels."""

METRICS: dict[str, tuple[str, bool]] = {
    "hv": ("HV", False),
    "igd": ("IGD", True),
    "stationarity": ("mean Pareto-stationarity", True),
    "stationarity_max": ("max Pareto-stationarity", True),
}
"""Accepted metrics of :func:`plot_convergence`: axis label and whether the y axis is logarithmic."""

DEFAULT_METRICS = ("hv", "igd", "stationarity")


def _x_values(label: str, trace: RunTrace, x: str) -> np.ndarray:
    try:
        values = trace.column(x)
    except KeyError:
        raise ValueError(
            f"run {label!r} ({trace.algorithm}) has no counter {x!r}, so it cannot be drawn against "
            f"{COST_AXES[x]}. Compare it on x='n_eval' or x='seconds', or leave it out of this plot."
        ) from None
    if x != "seconds" and len(values) > 1 and not np.any(values):
        raise ValueError(
            f"run {label!r} ({trace.algorithm}) counted no {x!r} ({COST_AXES[x]}): it stays 0, so every point "
            "would sit at x = 0. Per-sample gradients are counted on finite-sum problems only; compare on "
            "x='n_eval', x='n_grad' or x='seconds'."
        )
    if x == "seconds" and not np.any(np.isfinite(values)):
        raise ValueError(
            f"run {label!r} has no wall times: it was built from a saved history, which stores none. "
            "Record the run with minimize(..., callback=RunRecorder(...)) to plot it against seconds."
        )
    return values.astype(float)


def _chosen_metrics(pairs: list[tuple[str, list[RunTrace]]], metrics: Sequence[str] | None) -> list[str]:
    def measured(metric: str) -> bool:
        return any(np.any(np.isfinite(t.column(metric))) for _, traces in pairs for t in traces)

    if metrics is None:
        chosen = [m for m in DEFAULT_METRICS if measured(m)]
        if not chosen:
            raise ValueError(
                "no run recorded HV, IGD or Pareto-stationarity. Give RunRecorder a ref_point (HV), "
                "a pareto_front (IGD) or stationarity='exact' for algorithms without their own measure"
            )
        return chosen
    if isinstance(metrics, str):
        metrics = [metrics]
    chosen = list(metrics)
    if not chosen:
        raise ValueError(f"metrics is empty; choose from {', '.join(METRICS)}")
    for metric in chosen:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
        if not measured(metric):
            hint = {
                "hv": "pass ref_point to RunRecorder",
                "igd": "pass pareto_front to RunRecorder",
            }.get(metric, "use RunRecorder(stationarity='exact') or a pmo_grad gradient method")
            raise ValueError(f"no run recorded {metric!r}; {hint}")
    return chosen


def plot_convergence(
    runs: Mapping[str, Run | Sequence[Run]],
    x: str = "n_eval",
    metrics: Sequence[str] | None = None,
    title: str | None = None,
    log_floor: float = 1e-16,
) -> Figure:
    """Draw HV, IGD and mean Pareto-stationarity of recorded runs against a cost axis.

    ``runs`` maps a label to one recorded run (a :class:`RunTrace`, a :class:`RunRecorder` or
    the pymoo ``Result`` of a run recorded by one), or to a list of them, for example one per
    seed. The runs of one label share a color. ``x`` is one of :data:`COST_AXES`: the
    algorithm's cumulative counters (``n_eval``, ``n_grad``, ``n_sample_grads``, …),
    ``seconds`` or ``n_gen``. ``metrics`` picks panels from :data:`METRICS`; by default every
    one of HV, IGD and mean stationarity that some run recorded. A panel names the runs that
    did not record its metric.

    IGD and stationarity use a log scale, on which values at or below ``log_floor`` (zero,
    when a point is exactly stationary) are drawn at ``log_floor``, and the axis label states it.

    Returns a ``matplotlib.figure.Figure`` with one axes per metric and a legend with one
    entry per label. It is not registered with pyplot, so it works headless
    (``fig.savefig``) and Jupyter shows it once when it is the cell's last value.
    """
    if x not in COST_AXES:
        raise ValueError(f"unknown x axis {x!r}; choose from {', '.join(COST_AXES)}")
    if not (np.isfinite(log_floor) and log_floor > 0):
        raise ValueError(f"log_floor must be a positive finite number, got {log_floor!r}")
    pairs = labelled_traces(runs, allow_groups=True)
    x_by_label = {label: [_x_values(label, t, x) for t in traces] for label, traces in pairs}
    chosen = _chosen_metrics(pairs, metrics)

    figure, axes = new_figure(len(chosen), width_per_axes=4.4 if len(chosen) > 1 else 5.6, height=3.9)
    for ax, metric in zip(axes, chosen):
        name, log_scale = METRICS[metric]
        clipped = False
        missing = []
        for i, (label, traces) in enumerate(pairs):
            color = f"C{i % 10}"
            for trace, xs in zip(traces, x_by_label[label]):
                ys = trace.column(metric).astype(float)
                if not np.any(np.isfinite(ys)):
                    missing.append(label)
                    continue
                if log_scale:
                    clipped |= bool(np.any(ys[np.isfinite(ys)] <= log_floor))
                    ys = np.where(np.isfinite(ys), np.maximum(ys, log_floor), np.nan)
                ax.plot(xs, ys, color=color, linewidth=1.3, alpha=0.85 if len(traces) > 1 else 1.0)
        if log_scale:
            ax.set_yscale("log")
        ax.set_ylabel(f"{name}\n(≤ {log_floor:g} drawn at {log_floor:g})" if clipped else name)
        ax.set_xlabel(COST_AXES[x])
        ax.grid(True, alpha=0.3)
        if missing:
            ax.text(
                0.98, 0.02, "not recorded: " + ", ".join(dict.fromkeys(missing)),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="dimgray",
            )

    handles = [
        Line2D([], [], color=f"C{i % 10}", linewidth=1.5,
               label=label if len(traces) == 1 else f"{label} ({len(traces)} runs)")
        for i, (label, traces) in enumerate(pairs)
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=9)
    if title:
        figure.suptitle(title)
    return figure
