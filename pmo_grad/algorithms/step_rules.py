"""Step rules: how far each point moves along its direction, projected onto the box [xl, xu].

Every rule maps points X (K × d) and directions D (K × d) to X⁺ = P(X − η D), where P clips
each coordinate to [xl, xu], so no point outside the box is ever evaluated. η is in units of
(variable unit)² / (objective unit), because D is a combination of objective gradients.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np


logger = logging.getLogger(__name__)

Evaluate = Callable[[np.ndarray], np.ndarray]
"""Evaluates F (n × m) at points (n × d); each call counts as n F evaluations."""


@dataclass(frozen=True)
class StepResult:
    """New points, their F where the rule had to evaluate them (Armijo) or None, and the rule's next state."""

    X: np.ndarray
    F: np.ndarray | None = None
    state: Any = None


def project(X: np.ndarray, xl: np.ndarray, xu: np.ndarray) -> np.ndarray:
    """Return X clipped coordinate-wise to the box [xl, xu]."""
    return np.clip(X, xl, xu)


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


class StepRule(Protocol):
    """A step rule: ``init`` makes its state for K points, a call makes one step of all of them."""

    def init(self, n_points: int) -> Any: ...

    def __call__(
        self, X: np.ndarray, F: np.ndarray, D: np.ndarray, t: int,
        xl: np.ndarray, xu: np.ndarray, evaluate: Evaluate, state: Any,
        settled: np.ndarray | None = None,
    ) -> StepResult: ...


def check_step_rule(step: Any) -> Any:
    """Return ``step`` if it is a step rule, else raise a TypeError that shows how to make one."""
    if not (callable(step) and callable(getattr(step, "init", None))):
        hint = f"ConstantStep({step})" if isinstance(step, (int, float)) and not isinstance(step, bool) else "ConstantStep(0.1)"
        raise TypeError(
            f"step must be a step rule such as {hint}, DecayingStep(...) or ArmijoStep(), got {step!r}"
        )
    return step


class _Stateless:
    def init(self, n_points: int) -> None:
        return None


class ConstantStep(_Stateless):
    """X⁺ = P(X − η D) with a constant step size η > 0."""

    def __init__(self, lr: float = 0.1) -> None:
        self.lr = _positive("lr", lr)

    def __call__(self, X, F, D, t, xl, xu, evaluate, state=None, settled=None) -> StepResult:
        return StepResult(project(X - self.lr * D, xl, xu))

    def __repr__(self) -> str:
        return f"ConstantStep(lr={self.lr:g})"


class DecayingStep(_Stateless):
    """X⁺ = P(X − η_t D) with η_t = η₀ / (1 + t)^p, t the iteration index counted from 0.

    p = 1/2 is the classical choice for stochastic gradients; p in (1/2, 1] satisfies the
    Robbins–Monro conditions Σ η_t = ∞, Σ η_t² < ∞.
    """

    def __init__(self, lr: float = 0.1, power: float = 0.5) -> None:
        self.lr = _positive("lr", lr)
        self.power = float(power)
        if not math.isfinite(self.power) or self.power < 0:
            raise ValueError(f"power must be a finite number >= 0, got {power!r}")

    def __call__(self, X, F, D, t, xl, xu, evaluate, state=None, settled=None) -> StepResult:
        eta = self.lr / (1.0 + t) ** self.power
        return StepResult(project(X - eta * D, xl, xu))

    def __repr__(self) -> str:
        return f"DecayingStep(lr={self.lr:g}, power={self.power:g})"


class ArmijoStep:
    """Backtracking until every objective decreases sufficiently (multi-objective Armijo rule).

    For each point, starting at η = η_start, the trial x⁺ = P(x − η d) is accepted when

        f_s(x⁺) ≤ f_s(x) − c · ⟨d, x − x⁺⟩      for every objective s,

    (up to 4 ulp of f_s(x), the rounding of F itself), and otherwise η ← β η (β = ``shrink``).
    Settled objectives (zero projected gradient, see :mod:`pmo_grad.weighting.settled`) need
    only f_s(x⁺) ≤ f_s(x), because the direction leaves them unchanged to first order. Without the projection x − x⁺ = η d and the right
    side is f_s(x) − c η ‖d‖². For the MGDA direction ⟨∇f_s, d⟩ ≥ ‖d‖² for all s, so the rule
    accepts small enough steps. With frozen weights (PSMGD between refreshes) d need not
    decrease every objective, and such a point may find no step.

    Each point starts from its last accepted step grown by 1/β, capped at η₀ = ``lr``
    (η_start = η₀ at the first iteration), so a run does not backtrack from η₀ every time.
    A point that finds no step within ``max_backtracks`` reductions stays where it is for this
    iteration and starts again from η₀. Each trial costs one F evaluation per point still
    searching.
    """

    def __init__(self, lr: float = 1.0, shrink: float = 0.5, c: float = 1e-4, max_backtracks: int = 30) -> None:
        self.lr = _positive("lr", lr)
        self.shrink = float(shrink)
        if not 0.0 < self.shrink < 1.0:
            raise ValueError(f"shrink must lie in (0, 1), got {shrink!r}")
        self.c = float(c)
        if not 0.0 < self.c < 1.0:
            raise ValueError(f"c (the sufficient-decrease constant) must lie in (0, 1), got {c!r}")
        if isinstance(max_backtracks, bool) or not isinstance(max_backtracks, (int, np.integer)) or max_backtracks < 0:
            raise ValueError(f"max_backtracks must be an integer >= 0, got {max_backtracks!r}")
        self.max_backtracks = int(max_backtracks)

    def init(self, n_points: int) -> np.ndarray:
        """Return the step each point starts its first search from (η₀ for all)."""
        return np.full(n_points, self.lr)

    def __call__(self, X, F, D, t, xl, xu, evaluate, state=None, settled=None) -> StepResult:
        K = len(X)
        # Settled objectives (zero projected gradient) need only not increase.
        required = np.ones_like(F) if settled is None else (~settled).astype(float)
        start = self.init(K) if state is None else np.minimum(np.asarray(state) / self.shrink, self.lr)
        X_new = X.copy()
        F_new = F.copy()
        eta = start.copy()
        pending = np.arange(K)
        for _ in range(self.max_backtracks + 1):
            trial = project(X[pending] - eta[pending, None] * D[pending], xl, xu)
            F_trial = evaluate(trial)
            decrease = self.c * np.einsum("kd,kd->k", D[pending], X[pending] - trial)
            # Near a stationary point the required decrease falls below the rounding of F itself.
            rounding = 4.0 * np.finfo(float).eps * np.abs(F[pending])
            ok = np.all(F_trial <= F[pending] - required[pending] * decrease[:, None] + rounding, axis=1)
            done = pending[ok]
            X_new[done], F_new[done] = trial[ok], F_trial[ok]
            pending = pending[~ok]
            if pending.size == 0:
                break
            eta[pending] *= self.shrink
        if pending.size:
            logger.debug("Armijo: %d point(s) found no sufficient decrease and stay in place", pending.size)
            # A failed search starts again from η₀ (after the growth by 1/β in the next call).
            eta[pending] = self.lr * self.shrink
        return StepResult(X_new, F_new, eta)

    def __repr__(self) -> str:
        return f"ArmijoStep(lr={self.lr:g}, shrink={self.shrink:g}, c={self.c:g}, max_backtracks={self.max_backtracks})"
