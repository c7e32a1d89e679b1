"""Display columns of gradient methods: pymoo's multi-objective columns plus counters and stationarity."""

from __future__ import annotations

import numpy as np
from pymoo.util.display.column import Column
from pymoo.util.display.multi import MultiObjectiveOutput

from pmo_grad.problems.finite_sum import FiniteSumProblem


class _CounterColumn(Column):
    def __init__(self, name: str, key: str, width: int = 8) -> None:
        super().__init__(name, width=width)
        self.key = key

    def update(self, algorithm) -> None:
        self.value = algorithm.counters[self.key]


class _StationarityColumn(Column):
    """Mean or max over the points of min_λ ‖λᵀJ‖² at the last Jacobian ("-" when none was formed)."""

    def __init__(self, name: str, reduce, width: int = 10) -> None:
        super().__init__(name, width=width)
        self.reduce = reduce

    def update(self, algorithm) -> None:
        values = algorithm.stationarity
        self.value = None if values is None else float(self.reduce(values))


class _BatchLossColumn(Column):
    """Mean over the tasks of the losses on the last step's batch (network problems)."""

    def update(self, algorithm) -> None:
        losses = getattr(algorithm.network, "batch_losses", None)
        self.value = None if losses is None else float(np.mean(losses))


class GradientOutput(MultiObjectiveOutput):
    """pymoo's multi-objective output with the counters and Pareto-stationarity of gradient methods.

    Columns: n_gen, n_eval (counted F evaluations), n_grad (Jacobian evaluations), n_wgrad
    (weighted gradients formed without a Jacobian) and n_wsolve (weight solves). On finite-sum
    problems n_sgrad (per-sample gradients) follows. stat_mean and stat_max give the
    Pareto-stationarity of the last Jacobian: with PSMGD that is the last refresh, and with a
    sampling estimator it is measured on the estimate. Network problems add n_bwd (backward
    calls) and batch_loss (mean task loss on the last step's batch). pymoo's IGD, GD and HV come last where
    the problem has a known Pareto front, or its ε-indicator otherwise.
    """

    def __init__(self) -> None:
        super().__init__()
        self.n_eval = _CounterColumn("n_eval", "n_eval")
        self.columns = [self.n_gen, self.n_eval]
        self.n_grad = _CounterColumn("n_grad", "n_grad")
        self.n_wgrad = _CounterColumn("n_wgrad", "n_weighted_grad")
        self.n_wsolve = _CounterColumn("n_wsolve", "n_weight_solves")
        self.n_sgrad = _CounterColumn("n_sgrad", "n_sample_grads", width=10)
        self.stat_mean = _StationarityColumn("stat_mean", np.mean)
        self.stat_max = _StationarityColumn("stat_max", np.max)

    def initialize(self, algorithm) -> None:
        self.columns += [self.n_grad, self.n_wgrad, self.n_wsolve]
        if isinstance(algorithm.problem, FiniteSumProblem):
            self.columns.append(self.n_sgrad)
        if getattr(algorithm.problem, "is_network", False):
            self.columns += [_CounterColumn("n_bwd", "n_backward"), _BatchLossColumn("batch_loss", width=11)]
        self.columns += [self.stat_mean, self.stat_max]
        super().initialize(algorithm)
