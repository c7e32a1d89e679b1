"""One network trained by a gradient algorithm: the torch side of :class:`GradientAlgorithm`.

On a :class:`pmo_grad.problems.neural.MultiTaskProblem` an iteration is

1. a refresh (the schedule requests new weights): per-task gradients from the estimator, the
   Gramian on the device (the m × m matrix is the only thing copied to the host), the weight
   solve, and the direction λᵀJ on shared parameters (own-task gradients on task-specific ones);
   or a reuse step: the direction for the frozen λ from the estimator's weighted backward pass;
2. a check that every loss and gradient is finite;
3. the optimizer step, θ.grad ← direction, through the ``GradScaler`` when the problem has one.

Nothing leaves the device but the Gramian, the m losses of the step's batch, and the flat
parameter vector when pymoo's population (``res.X``, callbacks, history) asks for it.

Under a process group the problem's gradient calls are collectives that return the global
gradients on every rank, so every rank solves the same weights and takes the same step; a
non-finite value on any rank makes every rank raise (or skip the step) together.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from pymoo.core.individual import Individual
from pymoo.core.population import Population

from pmo_grad.algorithms.torch_step import torch_step
from pmo_grad.estimators.base import Cost
from pmo_grad.estimators.network import network_estimator
from pmo_grad.problems.neural import NonFiniteLossError
from pmo_grad.problems.task_gradients import SHARED, direction_is_finite
from pmo_grad.weighting.schedule import ScheduleState

logger = logging.getLogger(__name__)


class NetworkIndividual(Individual):
    """A pymoo individual whose X is the network's flat parameter vector, copied to numpy on first access."""

    def __init__(self, vector: torch.Tensor, **kwargs) -> None:
        super().__init__(**kwargs)
        self._vector = vector

    @property
    def X(self) -> np.ndarray:
        if self._vector is not None:
            self._X = self._vector.detach().double().cpu().numpy()
            self._vector = None
        return self._X

    @X.setter
    def X(self, value: np.ndarray) -> None:
        self._X = value
        self._vector = None


MAX_CONSECUTIVE_SKIPS = 10
"""A run with ``nonfinite="skip"`` raises after this many skipped steps in a row."""


class NetworkRun:
    """State of one network run: estimator, optimizer, the torch generator of forward seeds, counters."""

    def __init__(self, problem, estimator, step, period: int | None, rng: np.random.Generator) -> None:
        self.problem = problem
        self.estimator = network_estimator(estimator, problem, period)
        self.step_config = torch_step(step)
        self.optimizer, self.scheduler = self.step_config.make(list(problem.split.params))
        self.generator = torch.Generator()
        self.generator.manual_seed(int(rng.integers(0, 2**62)))
        self.n_skipped = 0
        self.consecutive_skips = 0
        self.generation = 0
        self.batch_losses: np.ndarray | None = None
        self.gramian: np.ndarray | None = None
        precision = problem.precision
        self.scaler = precision.scaler if precision is not None else None
        problem.model.train()

    # ----------------------------------------------------------------- one step

    def _seed(self) -> int:
        return int(torch.randint(0, 2**62, (1,), generator=self.generator))

    def step(self, schedule, state: ScheduleState, rng: np.random.Generator) -> tuple[np.ndarray | None, ScheduleState, Cost, bool]:
        """Make one step; return the weights (1 × m), the next schedule state, the cost and whether it was a refresh.

        A skipped step returns the state it was given, so the next iteration repeats it.
        """
        problem = self.problem
        t = state.step
        problem.begin_step()
        saved_estimator = self.estimator.state_dict()
        scale = problem.precision.scale(problem.device) if problem.precision is not None else 1.0
        seed = self._seed()
        refresh = schedule.needs_gramian(state)
        if refresh:
            grads, cost = self.estimator.jacobian(t, rng, seed, scale)
            losses = grads.losses
            bad = grads.nonfinite_task()
            if bad is not None:
                return self._non_finite(bad, losses, t, state, saved_estimator, cost)
            G = grads.gramian().double().cpu().numpy()[None]
            weights, new_state = schedule.update(state, G)
            self.gramian = G
            direction = grads.direction(torch.as_tensor(weights[0], dtype=problem.loss_dtype, device=problem.device))
        else:
            weights, new_state = schedule.update(state, None)
            direction, losses, cost = self.estimator.weighted_gradient(weights[0], t, rng, seed, scale)
        if not (bool(torch.isfinite(losses).all()) and direction_is_finite(direction)):
            bad = self._nonfinite_in(direction, losses, weights[0])
            return self._non_finite(bad if bad is not None else 0, losses, t, state, saved_estimator, cost)
        self.batch_losses = losses.detach().double().cpu().numpy()
        self._apply(direction)
        self.consecutive_skips = 0
        return weights, new_state, cost, refresh

    def _nonfinite_in(self, direction, losses: torch.Tensor, weights: np.ndarray) -> int | None:
        """Return a task to blame for a non-finite loss or direction, or None when all is finite."""
        bad = torch.nonzero(~torch.isfinite(losses)).flatten().tolist()
        if bad:
            return bad[0]
        for d, owner in zip(direction, self.problem.split.owner):
            if d is not None and owner >= 0 and not bool(torch.isfinite(d).all()):
                return owner
        if direction_is_finite(direction):
            return None
        return int(np.argmax(weights))

    def _non_finite(self, task: int, losses: torch.Tensor, t: int, state, saved_estimator, cost):
        """Raise, or skip the step, for a non-finite loss or gradient of ``task`` at step ``t``."""
        problem = self.problem
        problem.abort_step()
        self.estimator.load_state_dict(saved_estimator)
        name = problem.task_names[task]
        loss_values = ", ".join(f"{n}={v:.4g}" for n, v in zip(problem.task_names, losses.detach().double().cpu().tolist()))
        comm = problem.comm
        if comm is not None and comm.last_nonfinite_ranks:
            loss_values += f"; the non-finite values came from rank(s) {comm.last_nonfinite_ranks} of {comm.world_size}"
        overflow = self.scaler is not None and bool(torch.isfinite(losses).all())
        where = f"generation {self.generation} (step {t})"
        if not overflow and problem.nonfinite != "skip":
            raise NonFiniteLossError(
                f"task {name!r} has a non-finite loss or gradient at {where} (losses: {loss_values}); the parameters "
                "were left unchanged. Lower the learning rate, check the data and the loss of that task, or pass "
                "nonfinite='skip' to MultiTaskProblem to skip such steps"
            )
        self.n_skipped += 1
        self.consecutive_skips += 1
        if self.consecutive_skips > MAX_CONSECUTIVE_SKIPS:
            raise NonFiniteLossError(
                f"{self.consecutive_skips} steps in a row were skipped up to {where}: task {name!r} keeps a "
                f"non-finite loss or gradient (losses: {loss_values}), so the run cannot make progress. Check the "
                "data and the loss of that task, or lower the learning rate (or the GradScaler's initial scale)"
            )
        if overflow:
            self._skip_scaled_step()
            logger.info("%s: the scaled gradient of task %s overflowed; the GradScaler skips the step and lowers "
                        "its scale", where, name)
        elif self.consecutive_skips <= 3 or self.n_skipped % 100 == 0:
            logger.warning("%s skipped (%d skipped in all): task %s has a non-finite loss or gradient (losses: %s)",
                           where, self.n_skipped, name, loss_values)
        return None, state, cost, False

    def _skip_scaled_step(self) -> None:
        """Hand the scaler an overflowed gradient, so that it skips the step and lowers its scale."""
        for p in self.problem.split.params:
            p.grad = torch.full_like(p, float("inf"))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)

    def _apply(self, direction) -> None:
        for p, d, owner in zip(self.problem.split.params, direction, self.problem.split.owner):
            p.grad = None if d is None else d.to(p.dtype)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    # ----------------------------------------------------------------- population

    def individual(self, F: np.ndarray) -> Population:
        """Return a one-point population at the current parameters with objectives F."""
        ind = NetworkIndividual(self.problem.parameter_vector())
        pop = Population(individuals=[ind])
        pop.set("F", F[None, :], "G", np.zeros((1, 0)), "H", np.zeros((1, 0)))
        return pop

    def evaluation(self) -> np.ndarray:
        return self.problem.checked_evaluation_losses(self.generation).double().cpu().numpy()

    # ----------------------------------------------------------------- checkpoints

    def state_dict(self) -> dict:
        state = {
            "model": self.problem.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "estimator": self.estimator.state_dict(),
            "generator": self.generator.get_state(),
            "n_skipped": self.n_skipped,
            "consecutive_skips": self.consecutive_skips,
            "shared_layout": [int(o) for o in self.problem.split.owner],
            "run": self.fingerprint(),
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        return state

    def fingerprint(self) -> dict:
        """Settings that a resumed run must share with the saved one: data, model layout, estimator, optimizer."""
        problem = self.problem
        return {
            "tasks": list(problem.task_names),
            "n_samples": int(problem.n_samples),
            "n_var": int(problem.n_var),
            "estimator": type(self.estimator).__name__ + repr(getattr(self.estimator, "batch_size", "")),
            "step": repr(self.step_config),
        }

    def load_state_dict(self, state: dict) -> None:
        saved, current = state["run"], self.fingerprint()
        changed = [key for key in current if saved.get(key) != current[key]]
        if changed:
            details = "; ".join(f"{key}: saved {saved.get(key)!r}, now {current[key]!r}" for key in changed)
            raise ValueError(
                f"the checkpoint was written by a run with other settings ({details}). Resume with the same data, "
                "model, estimator and optimizer, or give this run its own checkpoint path"
            )
        owner = [int(o) for o in self.problem.split.owner]
        if state["shared_layout"] != owner:
            raise ValueError(
                "the checkpoint was saved for a different split of the parameters into shared and task-specific "
                f"ones ({sum(o == SHARED for o in state['shared_layout'])} shared parameters there, "
                f"{sum(o == SHARED for o in owner)} here); resume with the same model and `shared` argument"
            )
        self.problem.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.estimator.load_state_dict(state["estimator"])
        self.generator.set_state(state["generator"])
        self.n_skipped = int(state["n_skipped"])
        self.consecutive_skips = int(state["consecutive_skips"])
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
