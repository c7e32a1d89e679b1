"""Plots of fronts and runs."""

from pmo_grad.visualization.fronts import plot_fronts

__all__ = ["plot_fronts"]
