"""The estimators of :mod:`pmo_grad.estimators` on a network problem, with tensors on the device.

:func:`network_estimator` turns the estimator a user configured (``FullData()``,
``Minibatch(b)``, ``Recursive()``) into its torch counterpart for a
:class:`pmo_grad.problems.neural.MultiTaskProblem`. Each counterpart serves the same two
requests as the numpy estimators, for the single network of the run:

* ``jacobian(t, rng, seed, scale)``: per-task gradients (an object with ``gramian()``,
  ``direction(λ)``, ``losses``);
* ``weighted_gradient(λ, t, rng, seed, scale)``: the step direction for frozen weights λ, from
  weighted backward passes only.

Sample indices come from the algorithm's numpy generator (``rng``), as for analytic problems;
``seed`` seeds the random layers of the forward passes. Costs use the units of
:class:`pmo_grad.estimators.base.Cost` with K = 1.
"""

from __future__ import annotations

import numpy as np
import torch

from pmo_grad.estimators.base import Cost
from pmo_grad.estimators.full import FullData
from pmo_grad.estimators.minibatch import Minibatch, draw_samples
from pmo_grad.estimators.recursive import Recursive
from pmo_grad.problems.jacobian_engines import RepresentationEngine
from pmo_grad.problems.task_gradients import TaskGradients, add_directions


def _check_batch_fits(problem, batch_size: int, replace: bool) -> None:
    """Raise ValueError when ``batch_size`` samples cannot be drawn without replacement."""
    if not replace and batch_size > problem.n_samples:
        raise ValueError(
            f"batch_size {batch_size} exceeds the network problem's {problem.n_samples} training samples; "
            "lower it or pass replace=True"
        )


class NetworkFullData:
    """Gradients over all n training samples, accumulated over micro-batches."""

    def __init__(self, problem) -> None:
        self.problem = problem

    def jacobian(self, t: int, rng: np.random.Generator, seed: int, scale: float):
        grads = self.problem.task_gradients(None, seed=seed, scale=scale)
        return grads, Cost(n_grad=1, n_sample_grads=self.problem.n_obj * self.problem.n_samples)

    def weighted_gradient(self, weights, t: int, rng: np.random.Generator, seed: int, scale: float):
        direction, losses = self.problem.weighted_gradient(None, weights, seed=seed, scale=scale)
        return direction, losses, Cost(n_weighted_grad=1, n_sample_grads=self.problem.n_samples)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class NetworkMinibatch:
    """Gradients averaged over b samples drawn anew at every request."""

    def __init__(self, problem, batch_size: int, replace: bool) -> None:
        _check_batch_fits(problem, batch_size, replace)
        self.problem = problem
        self.batch_size = batch_size
        self.replace = replace

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        return draw_samples(rng, self.problem.n_samples, self.batch_size, self.replace)

    def jacobian(self, t, rng, seed, scale):
        grads = self.problem.task_gradients(self._draw(rng), seed=seed, scale=scale)
        return grads, Cost(n_grad=1, n_sample_grads=self.problem.n_obj * self.batch_size)

    def weighted_gradient(self, weights, t, rng, seed, scale):
        direction, losses = self.problem.weighted_gradient(self._draw(rng), weights, seed=seed, scale=scale)
        return direction, losses, Cost(n_weighted_grad=1, n_sample_grads=self.batch_size)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class NetworkRecursive:
    """SPIDER/SARAH on a network: full data every ``period`` steps, corrected differences in between.

    Between refreshes, with A drawn anew (|A| = ``batch_size``),

        u_t = u_{t−1} + (1/|A|) Σ_{j∈A} [∇ℓ_j(θ_t) − ∇ℓ_j(θ_{t−1})],

    where θ_{t−1} is a parameter snapshot evaluated through ``torch.func.functional_call`` on
    the same samples, in the same training mode and with the same dropout seed as θ_t, so both
    points see identical dropout masks; batch-norm layers normalize each point's batch with
    that point's own batch statistics, as in the forward pass at θ_t, and the running
    statistics are not updated by the pass at θ_{t−1}. With weights frozen since the last
    refresh, the recursion runs on the weighted direction (two weighted backward passes per
    step), as :class:`pmo_grad.estimators.Recursive` does. Under a process group both points
    use the same shard of A, and the difference ∇ℓ(θ_t) − ∇ℓ(θ_{t−1}) travels in one collective.
    """

    def __init__(self, problem, batch_size: int, period: int, replace: bool) -> None:
        if isinstance(problem.engine, RepresentationEngine):
            raise ValueError(
                "Recursive() needs parameter gradients at two points; the representation engine (MGDA-UB) "
                "gives gradients with respect to features that change between the points. Use engine='batched'"
            )
        if problem.precision is not None and problem.precision.scaler is not None:
            raise ValueError(
                "Recursive() adds gradients across steps, which a GradScaler's changing loss scale would corrupt; "
                "use MixedPrecision(torch.bfloat16) without a scaler"
            )
        _check_batch_fits(problem, batch_size, replace)
        self.problem = problem
        self.batch_size = batch_size
        self.period = period
        self.replace = replace
        self.previous: dict[str, torch.Tensor] | None = None
        self.jacobian_estimate = None
        self.weighted_estimate: list | None = None
        self.weights: torch.Tensor | None = None

    def jacobian(self, t, rng, seed, scale):
        problem = self.problem
        m = problem.n_obj
        if t % self.period == 0 or self.jacobian_estimate is None or self.previous is None:
            grads = problem.task_gradients(None, seed=seed, scale=scale)
            cost = Cost(n_grad=1, n_sample_grads=m * problem.n_samples)
        else:
            A = draw_samples(rng, problem.n_samples, self.batch_size, self.replace)
            change = problem.task_gradients_change(A, self.previous, seed=seed, scale=scale)
            grads = self.jacobian_estimate + change
            grads.losses = change.losses
            cost = Cost(n_grad=1, n_sample_grads=2 * m * len(A))
        self.jacobian_estimate = grads.detached()
        self.weighted_estimate, self.weights = None, None
        self.previous = problem.snapshot()
        return grads, cost

    def weighted_gradient(self, weights, t, rng, seed, scale):
        problem = self.problem
        lam = torch.as_tensor(np.asarray(weights, dtype=float), dtype=problem.loss_dtype, device=problem.device)
        if self.jacobian_estimate is not None:
            before_estimate = self.jacobian_estimate.direction(lam)
        elif self.weighted_estimate is not None and self.weights is not None and torch.equal(self.weights, lam):
            before_estimate = self.weighted_estimate
        else:
            before_estimate = None
        if t % self.period == 0 or before_estimate is None or self.previous is None:
            direction, losses = problem.weighted_gradient(None, lam, seed=seed, scale=scale)
            cost = Cost(n_weighted_grad=1, n_sample_grads=problem.n_samples)
        else:
            A = draw_samples(rng, problem.n_samples, self.batch_size, self.replace)
            change, losses = problem.weighted_gradient_change(A, lam, self.previous, seed=seed, scale=scale)
            direction = add_directions(before_estimate, change)
            cost = Cost(n_weighted_grad=1, n_sample_grads=2 * len(A))
        self.jacobian_estimate = None
        self.weighted_estimate, self.weights = direction, lam
        self.previous = problem.snapshot()
        return direction, losses, cost

    def state_dict(self) -> dict:
        return {
            "previous": self.previous,
            "jacobian_rows": None if self.jacobian_estimate is None else self.jacobian_estimate.rows,
            "jacobian_losses": None if self.jacobian_estimate is None else self.jacobian_estimate.losses,
            "weighted": self.weighted_estimate,
            "weights": self.weights,
        }

    def load_state_dict(self, state: dict) -> None:
        self.previous = state["previous"]
        rows = state["jacobian_rows"]
        self.jacobian_estimate = None if rows is None else TaskGradients(self.problem.split, rows, state["jacobian_losses"])
        self.weighted_estimate = state["weighted"]
        self.weights = state["weights"]


def _check_shardable(problem, size: int, what: str) -> None:
    """Raise unless every rank of the problem's process group gets at least one of ``size`` samples."""
    comm = problem.comm
    if comm is not None and size < comm.world_size:
        raise ValueError(
            f"{what} has {size} samples but the run has {comm.world_size} ranks, so some ranks would get none; "
            f"use a batch of at least {comm.world_size} samples or fewer ranks"
        )


def network_estimator(estimator, problem, period: int | None):
    """Return the torch counterpart of ``estimator`` for the network problem ``problem``.

    Under a process group every batch is split among the ranks, so it must hold at least one
    sample per rank.
    """
    _check_shardable(problem, problem.n_samples, "the training set")
    if isinstance(estimator, FullData):
        return NetworkFullData(problem)
    if isinstance(estimator, Minibatch):
        _check_shardable(problem, estimator.batch_size, f"Minibatch({estimator.batch_size})")
        return NetworkMinibatch(problem, estimator.batch_size, estimator.replace)
    if isinstance(estimator, Recursive):
        batch_size = estimator.batch_size if estimator.batch_size is not None else problem.default_batch_size()
        q = estimator.period if estimator.period is not None else (period or problem.default_batch_size())
        _check_shardable(problem, batch_size, f"the recursive estimator's batch ({batch_size})")
        return NetworkRecursive(problem, batch_size, int(q), estimator.replace)
    raise TypeError(
        f"{type(estimator).__name__} has no network implementation; on a MultiTaskProblem use FullData(), "
        "Minibatch(b) or Recursive()"
    )
