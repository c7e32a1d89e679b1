"""Indicators: Pareto-stationarity, guarded hypervolume and IGD, exact reference hypervolumes."""

from pmo_grad.indicators.quality import hypervolume, igd
from pmo_grad.indicators.stationarity import pareto_stationarity, stationarity_from_gramian
from pmo_grad.indicators.true_front import true_hypervolume

__all__ = ["hypervolume", "igd", "pareto_stationarity", "stationarity_from_gramian", "true_hypervolume"]
