"""Plots of fronts and runs, and the callback that records runs for them.

Every plot function returns a ``matplotlib.figure.Figure`` that is not left open in pyplot:
save it with ``fig.savefig`` (no display needed), or leave it as the last value of a Jupyter
cell, which shows it once.
"""

from pmo_grad.visualization.convergence import COST_AXES, METRICS, plot_convergence
from pmo_grad.visualization.fronts import plot_fronts
from pmo_grad.visualization.recorder import RunRecorder, RunTrace
from pmo_grad.visualization.trajectories import plot_trajectories
from pmo_grad.visualization.weights import plot_weights

__all__ = [
    "COST_AXES",
    "METRICS",
    "RunRecorder",
    "RunTrace",
    "plot_convergence",
    "plot_fronts",
    "plot_trajectories",
    "plot_weights",
]
