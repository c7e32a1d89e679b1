"""The pymoo ``Algorithm`` shell shared by all gradient methods.

A run keeps a population of K independent trajectories. One iteration, for all K points at once:

1. ask the weight schedule whether this is a refresh. A refresh forms the Jacobians J
   (K × m × d) and their Gramians J Jᵀ and solves for new weights. Otherwise the weights are
   reused and only the weighted gradients λᵀJ are formed (one reverse pass where the problem
   allows it);
2. direction D = λᵀJ (K × d);
3. the step rule moves every point to P(X − η D) inside [xl, xu]; pymoo evaluates F there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from pymoo.core.algorithm import Algorithm
from pymoo.core.population import Population
from pymoo.core.sampling import Sampling
from pymoo.operators.sampling.lhs import LHS

from pmo_grad.algorithms.checkpoint import Checkpoint
from pmo_grad.algorithms.data_parallel import load_checkpoint, prepare_ranks, save_checkpoint, silence_display
from pmo_grad.algorithms.display import GradientOutput
from pmo_grad.algorithms.step_rules import ConstantStep, StepRule, check_step_rule
from pmo_grad.algorithms.torch_step import TorchOptimizer
from pmo_grad.problems.bounds import blocked_coordinates
from pmo_grad.algorithms.termination import default_gradient_termination
from pmo_grad.indicators.stationarity import stationarity_from_gramian
from pmo_grad.estimators.base import Cost, Estimator
from pmo_grad.estimators.full import FullData
from pmo_grad.problems.support import check_supported, problem_name
from pmo_grad.weighting.context import WeightingContext
from pmo_grad.weighting.gramian import gramian
from pmo_grad.weighting.min_norm import MinNorm
from pmo_grad.weighting.settled import IgnoreSettled, settled_objectives
from pmo_grad.weighting.schedule import Periodic, ScheduleState, WeightSchedule

logger = logging.getLogger(__name__)


class NonFiniteObjectiveError(FloatingPointError):
    """The problem returned NaN or infinite objective values at a point inside its box."""


def is_network_problem(problem) -> bool:
    """Tell whether ``problem`` is a network problem (a :class:`pmo_grad.problems.neural.MultiTaskProblem`)."""
    return bool(getattr(problem, "is_network", False))


def _check_pop_size(pop_size: int) -> int:
    if isinstance(pop_size, bool) or not isinstance(pop_size, (int, np.integer)) or pop_size < 1:
        raise ValueError(f"pop_size must be an integer >= 1 (the number of trajectories), got {pop_size!r}")
    return int(pop_size)


_STATIONARITY_WEIGHTING = IgnoreSettled(MinNorm())


def _solves_min_norm(schedule: WeightSchedule) -> bool:
    """Tell whether the schedule's refresh weights solve the stationarity problem, so that λᵀGλ is the measure."""
    if not isinstance(schedule, Periodic):
        return False
    weighting = schedule.weighting
    return isinstance(weighting, IgnoreSettled) and isinstance(weighting.inner, MinNorm)


def _state_rows(state: ScheduleState, rows: np.ndarray) -> ScheduleState:
    """Return the schedule state restricted to the points ``rows``."""
    return replace(
        state,
        weights=None if state.weights is None else state.weights[rows],
        solved_weights=None if state.solved_weights is None else state.solved_weights[rows],
    )


def _merge_state_rows(state: ScheduleState, row_state: ScheduleState, rows: np.ndarray) -> ScheduleState:
    """Return ``state`` with the points ``rows`` taken from ``row_state`` (same step)."""
    merged = {}
    for name in ("weights", "solved_weights"):
        full, part = getattr(state, name), getattr(row_state, name)
        if full is None or part is None:
            merged[name] = full
            continue
        full = full.copy()
        full[rows] = part
        merged[name] = full
    return replace(state, **merged)


class GradientAlgorithm(Algorithm):
    """A population of K independent gradient trajectories as a pymoo algorithm.

    Parameters
    ----------
    schedule:
        Weight schedule (for example ``Periodic(MinNorm(), q)`` or ``Fixed(w)``).
    pop_size:
        Number of trajectories K.
    sampling:
        pymoo sampling of the start points, or the start points themselves (an (n × d) array
        or a pymoo ``Population``, whose n then overrides ``pop_size``). Latin hypercube by
        default, which spreads the start points, and so the points reached on the front, more
        evenly than uniform sampling. Start points outside [xl, xu] are clipped to the box.
    step:
        Step rule (``ConstantStep``, ``DecayingStep``, ``ArmijoStep``); ``ConstantStep(0.1)``
        by default. On a network problem: a :class:`TorchOptimizer` (Adam with learning rate
        1e-3 by default), or ``ConstantStep(η)`` for plain SGD.
    estimator:
        Where gradients come from: ``FullData()`` (the default), or for a finite-sum problem
        ``Minibatch(b)``, ``Recursive()`` or ``Tracking()`` (see :mod:`pmo_grad.estimators`).
        ``singular_offset`` and ``check_gradient`` configure the default ``FullData``.
    singular_offset:
        Relative offset used for one-sided derivatives at singular points on the bounds
        (see :mod:`pmo_grad.problems.gradient`).
    check_gradient:
        Compare the first Jacobian with finite differences of F (see
        :class:`pmo_grad.problems.ProblemGradient`).
    checkpoint:
        A :class:`Checkpoint` (network problems): save the run every few generations and
        resume from the file when it exists.

    On a :class:`pmo_grad.problems.neural.MultiTaskProblem` the run trains the one network
    (``pop_size`` and ``sampling`` do not apply: the model's parameters are the start point);
    parameters and data stay on the problem's device, and ``res.model`` is the trained model.
    Under a ``torch.distributed`` process group every rank runs ``minimize`` with the same
    arguments and the run is data-parallel (see :mod:`pmo_grad.algorithms.data_parallel`).

    Counters (``algorithm.counters``), each summed over the K points:

    - ``n_eval``: F evaluations, pymoo's evaluator count, Armijo trials included;
    - ``n_grad``: Jacobian evaluations;
    - ``n_weighted_grad``: weighted-gradient evaluations that formed no Jacobian;
    - ``n_weight_solves``: weighting solves;
    - ``n_check_evals``: F evaluations made once to find and check the gradient source;
    - on network problems also ``n_backward`` (backward calls through the network; a batched
      call over several tasks counts once), ``n_head_backward`` (backward calls through one
      task's own parameters only, see :meth:`MultiTaskProblem.weighted_gradient`) and
      ``n_skipped`` (steps skipped for non-finite values). In a data-parallel run the
      backward counts are those of the calling rank, and the sample counts are global.
    """

    def __init__(
        self,
        schedule: WeightSchedule,
        pop_size: int | None = None,
        sampling: Sampling | np.ndarray | Population | None = None,
        step: StepRule | TorchOptimizer | None = None,
        estimator: Estimator | None = None,
        singular_offset: float = 1e-8,
        check_gradient: bool = True,
        checkpoint: Checkpoint | None = None,
        output=None,
        **kwargs,
    ) -> None:
        super().__init__(output=output if output is not None else GradientOutput(), **kwargs)
        self.schedule = schedule
        self._pop_size_given = pop_size is not None
        self._sampling_given = sampling is not None
        self.pop_size = _check_pop_size(pop_size if pop_size is not None else 100)
        self.sampling = sampling if sampling is not None else LHS()
        self._step_given = step
        if isinstance(step, TorchOptimizer):
            self.step_rule = step
        else:
            self.step_rule = check_step_rule(step) if step is not None else ConstantStep(0.1)
        if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"checkpoint must be a pmo_grad Checkpoint or None, got {type(checkpoint).__name__}")
        self.checkpoint = checkpoint
        self.network = None
        self.check_gradient = bool(check_gradient)
        self.step_state = None
        if not 0.0 < float(singular_offset) < 0.5:
            raise ValueError(f"singular_offset must lie in (0, 0.5), got {singular_offset!r}")
        self.singular_offset = float(singular_offset)
        self.estimator = estimator if estimator is not None else FullData(self.singular_offset, self.check_gradient)
        self.estimator_state = None
        self.schedule_state: ScheduleState | None = None
        self._previous_schedule_state: ScheduleState | None = None
        self.weights: np.ndarray | None = None
        self.jacobian: np.ndarray | None = None
        self._projected_jacobian: np.ndarray | None = None
        self._jacobian_iter: int | None = None
        self._stationarity: np.ndarray | None = None
        self._stationarity_iter: int | None = None
        self._counts = {"n_grad": 0, "n_weighted_grad": 0, "n_weight_solves": 0, "n_sample_grads": 0}

    # ----------------------------------------------------------------- pymoo hooks

    def setup(self, problem, **kwargs) -> "GradientAlgorithm":
        if self.termination is None and kwargs.get("termination") is None:
            self.termination = self._default_termination()
        super().setup(problem, **kwargs)
        if self.network is not None:
            comm = problem.comm
            if comm is not None:
                silence_display(self, comm)
            if self.checkpoint is not None:
                state = load_checkpoint(self.checkpoint, problem.device, comm)
                if state is not None:
                    self._restore(state)
        return self

    def _default_termination(self):
        """Return the termination used when none is given (see :func:`default_gradient_termination`)."""
        return default_gradient_termination()

    def _setup(self, problem, **kwargs) -> None:
        if is_network_problem(problem):
            self._setup_network(problem)
            return
        if isinstance(self.step_rule, TorchOptimizer):
            raise TypeError(
                f"TorchOptimizer steps train networks (MultiTaskProblem); problem {problem_name(problem)} takes a "
                "step rule such as ConstantStep(0.1) or ArmijoStep()"
            )
        if self.checkpoint is not None:
            raise TypeError(
                "checkpoints are supported for network problems (MultiTaskProblem); runs on pymoo problems are "
                "short enough to repeat"
            )
        check_supported(problem, type(self).__name__)
        self.estimator_state = self.estimator.init(problem, self.pop_size, self._estimator_period(problem))

    def _setup_network(self, problem) -> None:
        from pmo_grad.algorithms.network import NetworkRun

        name = type(self).__name__
        if self._pop_size_given and self.pop_size != 1:
            raise ValueError(
                f"{name} trains one network per run, so pop_size must be 1 or left out on a MultiTaskProblem, "
                f"got {self.pop_size}; run several seeds for several networks"
            )
        if self._sampling_given:
            raise ValueError(
                f"{name} starts a network from the model's current parameters; sampling does not apply to a "
                "MultiTaskProblem. Initialize the model as you want it before the run"
            )
        self.pop_size = 1
        if problem.comm is not None:
            prepare_ranks(self, problem, problem.comm)
        self.network = NetworkRun(problem, self.estimator, self._step_given, self._estimator_period(problem), self.random_state)
        self._counts.update(n_backward=0, n_head_backward=0, n_skipped=0)
        self._evaluated_gen: int | None = None

    def _initialize_infill(self) -> Population:
        if self.network is not None:
            self.network.generation = self.n_iter
            self._evaluated_gen = self.n_iter
            return self._network_population(self.network.evaluation(), count_eval=True)
        # Population subclasses ndarray, so it is checked first.
        if isinstance(self.sampling, Population):
            X = self.sampling.get("X")
        elif isinstance(self.sampling, np.ndarray):
            X = self.sampling
        else:
            X = self.sampling.do(self.problem, self.pop_size, random_state=self.random_state).get("X")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.problem.n_var or len(X) == 0:
            raise ValueError(
                f"start points must have shape (n, n_var) = (n, {self.problem.n_var}) with n >= 1, got {X.shape}"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("start points contain NaN or infinite values; give finite points inside [xl, xu]")
        clipped = np.clip(X, self.problem.xl, self.problem.xu)
        if np.any(clipped != X):
            logger.warning("%d start point(s) lay outside [xl, xu] and were clipped to the box",
                           int(np.any(clipped != X, axis=1).sum()))
        return Population.new(X=clipped)

    def _initialize_advance(self, infills=None, **kwargs) -> None:
        self._check_objectives(infills)
        self.schedule_state = self.schedule.init(len(infills), self.problem.n_obj)
        if self.network is None:
            self.step_state = self.step_rule.init(len(infills))

    def _infill(self) -> Population:
        if self.network is not None:
            return self._network_infill()
        X, F = self.pop.get("X", "F")
        D, settled = self._direction(X, F)
        t = self.schedule_state.step - 1
        result = self.step_rule(
            X, F, D, t, self.problem.xl, self.problem.xu, self._evaluate_points, self.step_state, settled=settled
        )
        self.step_state = result.state
        off = Population.new(X=result.X)
        if result.F is not None:
            self._set_evaluated(off, result.F)
        return off

    def _advance(self, infills=None, **kwargs) -> None:
        self._check_objectives(infills)
        self.pop = infills

    # ----------------------------------------------------------------- networks

    def _network_population(self, F: np.ndarray, count_eval: bool) -> Population:
        pop = self.network.individual(F)
        for ind in pop:
            ind.evaluated.update(self.evaluator.evaluate_values_of)
        if count_eval:
            self.evaluator.n_eval += 1
        return pop

    def _network_infill(self) -> Population:
        """Make one training step; F is the evaluation losses, refreshed every ``eval_every`` generations."""
        run = self.network
        run.generation = self.n_iter
        backward_before, head_before = self.problem.n_backward, self.problem.n_head_backward
        weights, state, cost, refresh = run.step(self.schedule, self.schedule_state, self.random_state)
        self._add_cost(cost)
        self._counts["n_backward"] += self.problem.n_backward - backward_before
        self._counts["n_head_backward"] += self.problem.n_head_backward - head_before
        self._counts["n_skipped"] = run.n_skipped
        self._previous_schedule_state = self.schedule_state
        self.schedule_state = state
        if weights is not None:
            if not np.all(np.isfinite(weights)):
                raise FloatingPointError(
                    f"{type(self).__name__} produced non-finite weights {weights} at iteration {self.n_iter}; "
                    "this is a bug in the weighting, please report it with the problem and seed"
                )
            self.weights = weights
        if refresh:
            self._counts["n_weight_solves"] += 1
            self._jacobian_iter = self.n_iter
            G = run.gramian
            solved = state.solved_weights if state.solved_weights is not None and _solves_min_norm(self.schedule) \
                else _STATIONARITY_WEIGHTING(G)
            self._stationarity = np.maximum(stationarity_from_gramian(G, solved), 0.0)
            self._stationarity_iter = self.n_iter
        every = self.problem.eval_every
        if every is not None and self.n_iter % every == 0:
            self._evaluated_gen = self.n_iter
            return self._network_population(run.evaluation(), count_eval=True)
        return self._network_population(self.pop.get("F")[0], count_eval=False)

    def _post_advance(self) -> None:
        if self.network is not None and self.checkpoint is not None and self.n_iter % self.checkpoint.every == 0:
            save_checkpoint(self.checkpoint, self._checkpoint_state, self.problem.comm)
        super()._post_advance()

    def _finalize(self) -> None:
        if self.network is None:
            return
        if self._evaluated_gen != self.n_iter - 1:
            self.network.generation = self.n_iter - 1
            self.pop = self._network_population(self.network.evaluation(), count_eval=True)
            self._evaluated_gen = self.n_iter - 1
            self._set_optimum()
        if self.checkpoint is not None:
            completed = self.n_iter - 1
            save_checkpoint(self.checkpoint, lambda: self._checkpoint_state(completed=completed), self.problem.comm)
        self.problem.model.eval()

    def result(self):
        res = super().result()
        if self.network is not None:
            res.model = self.problem.model
        return res

    def _checkpoint_state(self, completed: int | None = None) -> dict:
        state = self.schedule_state
        return {
            "algorithm": type(self).__name__,
            "schedule": repr(self.schedule),
            "seed": self.seed,
            "n_iter": self.n_iter if completed is None else completed,
            "schedule_state": {"step": state.step, "weights": state.weights, "solved_weights": state.solved_weights},
            "weights": self.weights,
            "counts": dict(self._counts),
            "n_eval": int(self.evaluator.n_eval),
            "F": self.pop.get("F")[0],
            "evaluated_gen": self._evaluated_gen,
            "stationarity": (self._stationarity, self._stationarity_iter, self._jacobian_iter),
            "numpy_rng": self.random_state.bit_generator.state,
            "network": self.network.state_dict(),
        }

    def _restore(self, state: dict) -> None:
        """Continue the run saved in ``state`` (see :class:`Checkpoint`)."""
        name = type(self).__name__
        if state["algorithm"] != name or state["schedule"] != repr(self.schedule):
            raise ValueError(
                f"checkpoint {self.checkpoint.path} was written by {state['algorithm']} with schedule {state['schedule']}, "
                f"not by {name} with {self.schedule!r}; resume with the same algorithm settings, or use another path"
            )
        if state["seed"] != self.seed:
            raise ValueError(
                f"checkpoint {self.checkpoint.path} was written by a run with seed {state['seed']!r}, and this run has "
                f"seed {self.seed!r}; give each seed its own checkpoint path, for example f'run_seed{{seed}}.pt'"
            )
        self.network.load_state_dict(state["network"])
        saved = state["schedule_state"]
        self.schedule_state = ScheduleState(step=saved["step"], weights=saved["weights"], solved_weights=saved["solved_weights"])
        self.weights = state["weights"]
        self._counts.update(state["counts"])
        self.evaluator.n_eval = state["n_eval"]
        self._stationarity, self._stationarity_iter, self._jacobian_iter = state["stationarity"]
        self.random_state.bit_generator.state = state["numpy_rng"]
        self._evaluated_gen = state["evaluated_gen"]
        self.start_time = time.time()
        self.pop = self._network_population(np.asarray(state["F"], dtype=float), count_eval=False)
        self._set_optimum()
        self.is_initialized = True
        # As after any generation, the termination is updated at the completed generation before
        # n_iter moves on, so a run that already reached it returns the saved result unchanged.
        self.n_iter = state["n_iter"]
        self.termination.update(self)
        self.n_iter += 1
        if self.termination.has_terminated():
            logger.warning("checkpoint %s is at generation %d, where this run's termination is already met; "
                           "returning the saved result unchanged", self.checkpoint.path, state["n_iter"])
            self.problem.model.eval()
        else:
            logger.info("resumed %s from %s after generation %d", name, self.checkpoint.path, state["n_iter"])

    # ----------------------------------------------------------------- iteration parts

    def _weighting_context(self, F: np.ndarray) -> WeightingContext:
        """Return what a context weighting may read besides the Gramian: here the objective values F."""
        return WeightingContext(objectives=F)

    def _direction(self, X: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the direction λᵀJ of every point and the settled-objective mask, and advance the schedule.

        Coordinates that every gradient pushes through a bound are removed from J (and from D)
        first, see :func:`blocked_coordinates`. The mask (K × m) is None on steps that form no
        Jacobian: reuse steps, and refreshes of weightings that read only F.
        """
        state = self.schedule_state
        self._previous_schedule_state = state
        settled = None
        t = state.step
        context = self._weighting_context(F)
        if self.schedule.needs_gramian(state):
            J, self.estimator_state, cost = self.estimator.jacobian(self.estimator_state, X, t, self.random_state)
            self._add_cost(cost)
            self._record_jacobian(J)
            J = self._project(X, J)
            G = gramian(J)
            weights, state = self.schedule.update(state, G, context)
            J, G, weights, state = self._fix_outward_coordinates(X, J, G, weights, state, context)
            self._counts["n_weight_solves"] += len(X)
            if state.solved_weights is not None and _solves_min_norm(self.schedule):
                self._stationarity = np.maximum(stationarity_from_gramian(G, state.solved_weights), 0.0)
                self._stationarity_iter = self.n_iter
            settled = settled_objectives(G)
            D = np.einsum("ks,ksd->kd", weights, J)
        else:
            if isinstance(self.schedule, Periodic) and self.schedule.is_refresh(state):
                self._counts["n_weight_solves"] += len(X)
            weights, state = self.schedule.update(state, None, context)
            D, J, self.estimator_state, cost = self.estimator.weighted_gradient(
                self.estimator_state, X, weights, t, self.random_state
            )
            self._add_cost(cost)
            if J is not None:
                self._record_jacobian(J)
                self._project(X, J)
            D = np.where(blocked_coordinates(X, self.problem.xl, self.problem.xu, D), 0.0, D)
        self.schedule_state = state
        self.weights = weights
        if not np.all(np.isfinite(weights)):
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite weights {weights} at iteration {self.n_iter}; "
                "this is a bug in the weighting, please report it with the problem and seed"
            )
        return D, settled

    def _fix_outward_coordinates(self, X, J, G, weights, state, context: WeightingContext, max_rounds: int = 3):
        """Re-solve the refresh for points whose direction still pushes a coordinate through a bound.

        :func:`blocked_coordinates` removes the coordinates that every gradient pushes out. A
        coordinate on a bound where the gradients disagree can still get an outward direction
        component, which the projection then cuts off (x1 = 0 on ZDT1, where ∂f2/∂x1 → −∞
        balances ∂f1/∂x1 = 1). Such coordinates are fixed as well and the weights of those points
        are solved again on the rest, for at most ``max_rounds`` rounds. A weighting gives each
        point its weights from that point's Gramian and from the objective values, which the
        re-solve leaves unchanged, so the other points keep their weights. Each re-solved point
        counts as a weight solve.
        """
        xl, xu = self.problem.xl, self.problem.xu
        for _ in range(max_rounds):
            D = np.einsum("ks,ksd->kd", weights, J)
            outward = blocked_coordinates(X, xl, xu, D) & np.any(J != 0.0, axis=1)
            rows = np.flatnonzero(outward.any(axis=1))
            if rows.size == 0:
                break
            J = J.copy()
            J[rows] = np.where(outward[rows][:, None, :], 0.0, J[rows])
            G = G.copy()
            G[rows] = gramian(J[rows])
            row_weights, row_state = self.schedule.update(
                _state_rows(self._previous_schedule_state, rows), G[rows], context.select(rows)
            )
            weights = weights.copy()
            weights[rows] = row_weights
            state = _merge_state_rows(state, row_state, rows)
            self._counts["n_weight_solves"] += len(rows)
        self._projected_jacobian = J
        return J, G, weights, state

    def _project(self, X: np.ndarray, J: np.ndarray) -> np.ndarray:
        """Return J without the columns blocked by the box, and keep it for the stationarity measure."""
        J = np.where(blocked_coordinates(X, self.problem.xl, self.problem.xu, J)[:, None, :], 0.0, J)
        self._projected_jacobian = J
        return J

    def _add_cost(self, cost: Cost) -> None:
        self._counts["n_grad"] += cost.n_grad
        self._counts["n_weighted_grad"] += cost.n_weighted_grad
        self._counts["n_sample_grads"] += cost.n_sample_grads

    def _estimator_period(self, problem) -> int | None:
        """Return the refresh period offered to the estimator: the weight period q when it exceeds 1."""
        q = getattr(self.schedule, "q", 1)
        return q if q > 1 else None

    def _record_jacobian(self, J: np.ndarray) -> None:
        self.jacobian = J
        self._jacobian_iter = self.n_iter

    def _evaluate_points(self, X: np.ndarray) -> np.ndarray:
        """Evaluate F at X through pymoo's evaluator, so the evaluations are counted in n_eval."""
        pop = self.evaluator.eval(self.problem, Population.new(X=X), algorithm=self)
        F = pop.get("F")
        self._check_objectives(pop)
        return F

    def _set_evaluated(self, pop: Population, F: np.ndarray) -> None:
        """Store already computed F in ``pop`` so that pymoo's evaluator skips and does not recount it."""
        n = len(pop)
        pop.set("F", F, "G", np.zeros((n, 0)), "H", np.zeros((n, 0)))
        for ind in pop:
            ind.evaluated.update(self.evaluator.evaluate_values_of)

    def _check_objectives(self, pop: Population) -> None:
        F = pop.get("F")
        bad = ~np.all(np.isfinite(F), axis=1)
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            raise NonFiniteObjectiveError(
                f"problem {problem_name(self.problem)} returned non-finite objectives F = {F[k]} at "
                f"x = {np.array2string(pop.get('X')[k], precision=4, threshold=8)} (point {k}, "
                f"iteration {self.n_iter}). Check the problem's formula there, or shrink its bounds."
            )

    # ----------------------------------------------------------------- public state

    @property
    def counters(self) -> Mapping[str, int]:
        """Work done so far: F evaluations, Jacobian and weighted-gradient evaluations, weight solves."""
        gradient = getattr(self.estimator_state, "gradient", None)
        checks = gradient.n_check_evals if gradient is not None else 0
        n_eval = int(self.evaluator.n_eval) if self.evaluator is not None else 0
        return {"n_eval": n_eval, **self._counts, "n_check_evals": checks}

    @property
    def stationarity(self) -> np.ndarray | None:
        """Pareto-stationarity of each point at the last Jacobian, or None if none was formed.

        The measure is min_λ ‖λᵀJ̃‖² over the simplex of the objectives that are not settled,
        where J̃ is the Jacobian without the coordinates blocked by the box: the measure that
        the default MGDA and PSMGD weighting drives to zero. It comes from the refresh solve
        when the schedule solves that problem, else it is computed on request (and cached per
        Jacobian).
        """
        if self.network is not None:
            return self._stationarity
        if self._projected_jacobian is None:
            return None
        if self._stationarity is None or self._stationarity_iter != self._jacobian_iter:
            G = gramian(self._projected_jacobian)
            self._stationarity = np.maximum(stationarity_from_gramian(G, _STATIONARITY_WEIGHTING(G)), 0.0)
            self._stationarity_iter = self._jacobian_iter
        return self._stationarity

    @property
    def stationarity_iter(self) -> int | None:
        """Iteration at which the Jacobian behind :attr:`stationarity` was formed."""
        return self._jacobian_iter

    def __repr__(self) -> str:
        return f"{type(self).__name__}(pop_size={self.pop_size}, schedule={self.schedule!r}, step={self.step_rule!r})"
