"""Weight schedules: when a weighting is solved, and what happens to λ in between.

A schedule follows the ``init`` / ``update`` pattern of optax transformations: ``init`` makes a
state for K points and m objectives, ``needs_gramian`` returns whether the next
update solves a weighting that needs the Gramian (and so the per-objective Jacobian), and
``update`` returns the weights λ (K × m) for this iteration together with the next state.

``update`` also takes an optional :class:`~pmo_grad.weighting.context.WeightingContext` with
the objective values (and preference vectors) of the points. Weightings that read them
(:class:`~pmo_grad.weighting.context.ContextWeighting`) get it at each refresh, and schedules
whose weights do not depend on it ignore it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Protocol

import numpy as np

from pmo_grad.weighting.context import WeightingContext, needs_gramian, solve_weighting

Weighting = Callable[[np.ndarray], np.ndarray]
"""A map from Gramians (K × m × m) to weights (K × m) on the simplex, or a
:class:`~pmo_grad.weighting.context.ContextWeighting`, which reads the objective values too."""


@dataclass(frozen=True)
class ScheduleState:
    """State of a weight schedule.

    Attributes
    ----------
    step:
        Number of updates made so far (the iteration index t of the next update).
    weights:
        Weights λ (K × m) used in the last update, ``None`` before the first one.
    solved_weights:
        Weights returned by the weighting at the last refresh, before smoothing. For the
        min-norm weighting these give the Pareto-stationarity of that refresh point.
    """

    step: int
    weights: np.ndarray | None = None
    solved_weights: np.ndarray | None = None


class WeightSchedule(Protocol):
    """Protocol shared by all schedules (see the module docstring)."""

    def init(self, n_points: int, n_obj: int) -> ScheduleState: ...

    def needs_gramian(self, state: ScheduleState) -> bool: ...

    def update(
        self, state: ScheduleState, gramian: np.ndarray | None, context: WeightingContext | None = None
    ) -> tuple[np.ndarray, ScheduleState]: ...


class Periodic:
    """Solve a weighting every ``q`` iterations and reuse its weights in between.

    At iterations t with t mod q = 0 (refreshes) the weighting is solved on the Gramian
    J Jᵀ of the current point, giving λ_new; with smoothing α the weights become

        λ_t = α · λ_{t−1} + (1 − α) · λ_new        (λ_t = λ_new at the first refresh),

    and for t mod q ≠ 0 the schedule returns λ_{t−1} unchanged, so no Gramian is needed.
    With q = 1 and α = 0 this is the plain weighting solved at every iteration (MGDA).

    A :class:`~pmo_grad.weighting.context.ContextWeighting` is solved on the Gramian and the
    context passed to ``update``. When it declares ``needs_gramian = False`` (the Tchebycheff
    and PBI weightings, which read only F), :meth:`needs_gramian` is False on refreshes too,
    so the algorithm forms no Jacobian for them.

    Parameters
    ----------
    weighting:
        Gramian → weights map, for example :class:`pmo_grad.weighting.MinNorm`, or a
        context weighting.
    q:
        Period in iterations, an integer ≥ 1.
    alpha:
        Smoothing factor α in [0, 1]; 0 keeps the newly solved weights as they are.
    """

    def __init__(self, weighting: Weighting, q: int = 1, alpha: float = 0.0) -> None:
        if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 1:
            raise ValueError(f"q must be an integer >= 1 (the weight period in iterations), got {q!r}")
        alpha = float(alpha)
        if not math.isfinite(alpha) or not 0.0 <= alpha <= 1.0:
            raise ValueError(
                f"alpha must lie in [0, 1] (0 disables smoothing, larger values move λ more slowly, "
                f"and 1 keeps the first solved weights for the whole run), got {alpha!r}"
            )
        self.weighting = weighting
        self.q = int(q)
        self.alpha = alpha

    def init(self, n_points: int, n_obj: int) -> ScheduleState:
        return ScheduleState(step=0)

    def is_refresh(self, state: ScheduleState) -> bool:
        """Return whether the next update solves the weighting (t mod q = 0)."""
        return state.step % self.q == 0

    def needs_gramian(self, state: ScheduleState) -> bool:
        return self.is_refresh(state) and needs_gramian(self.weighting)

    def update(
        self, state: ScheduleState, gramian: np.ndarray | None, context: WeightingContext | None = None
    ) -> tuple[np.ndarray, ScheduleState]:
        if not self.is_refresh(state):
            if state.weights is None:
                raise RuntimeError("Periodic.update reached a reuse step before the first refresh")
            return state.weights, replace(state, step=state.step + 1)

        if gramian is None and needs_gramian(self.weighting):
            raise ValueError(
                f"iteration {state.step} is a refresh step of Periodic(q={self.q}); pass the Gramian"
            )
        solved = solve_weighting(self.weighting, gramian, context)
        if state.weights is None or self.alpha == 0.0:
            weights = solved
        else:
            weights = self.alpha * state.weights + (1.0 - self.alpha) * solved
        return weights, ScheduleState(step=state.step + 1, weights=weights, solved_weights=solved)

    def __repr__(self) -> str:
        return f"Periodic({self.weighting!r}, q={self.q}, alpha={self.alpha})"


class Fixed:
    """Constant preference weights, the same for every point and iteration (linear scalarization).

    The weights w are validated (finite, non-negative, not all zero) and normalized to the
    simplex, λ = w / Σ w, so step sizes mean the same as for the min-norm weighting.
    ``None`` gives equal weights 1/m once the number of objectives m is known.
    """

    def __init__(self, weights: np.ndarray | list[float] | None = None) -> None:
        self.weights: np.ndarray | None = None
        if weights is None:
            return
        w = np.asarray(weights, dtype=float)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"weights must be a non-empty 1-D sequence (one per objective), got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be finite, non-negative and not all zero, got {w.tolist()}")
        self.weights = w / w.sum()

    def init(self, n_points: int, n_obj: int) -> ScheduleState:
        weights = self.weights if self.weights is not None else np.full(n_obj, 1.0 / n_obj)
        if n_obj != weights.size:
            raise ValueError(
                f"{weights.size} weights given for a problem with {n_obj} objectives; pass one weight per objective"
            )
        return ScheduleState(step=0, weights=np.tile(weights, (n_points, 1)))

    def needs_gramian(self, state: ScheduleState) -> bool:
        return False

    def update(
        self, state: ScheduleState, gramian: np.ndarray | None, context: WeightingContext | None = None
    ) -> tuple[np.ndarray, ScheduleState]:
        return state.weights, replace(state, step=state.step + 1)

    def __repr__(self) -> str:
        return "Fixed(equal)" if self.weights is None else f"Fixed({self.weights.tolist()})"
