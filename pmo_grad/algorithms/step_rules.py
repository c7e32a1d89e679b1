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


def _growth_factors(grow: float, shrink: float) -> tuple[float, float]:
    """Return (grow, shrink) as floats, checked: grow finite and > 1, shrink in (0, 1)."""
    grow_value, shrink_value = float(grow), float(shrink)
    if not math.isfinite(grow_value) or grow_value <= 1.0:
        raise ValueError(f"grow must be a finite number > 1, got {grow!r}")
    if not 0.0 < shrink_value < 1.0:
        raise ValueError(f"shrink must lie in (0, 1), got {shrink!r}")
    return grow_value, shrink_value


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


@dataclass(frozen=True)
class AdaptiveStepState:
    """Step size η_k of every point (K,) and the direction each point took last (K × d)."""

    lr: np.ndarray
    direction: np.ndarray | None = None


class AdaptiveStep:
    """One step size per point that shrinks when the point turns back and grows while it keeps going.

    Each point k moves to P(x_k − η_k d_k). After the first iteration, with d_k the new and d'_k
    the previous direction of the point,

        η_k ← min(γ_up · η_k, η_max)   if ⟨d_k, d'_k⟩ > 0,
        η_k ← γ_down · η_k          if ⟨d_k, d'_k⟩ < 0,

    and η_k stays as it is when the product is 0 (a zero direction). This is the "bold driver"
    heuristic of neural-network training applied to each trajectory on its own, with the sign of
    the direction change in place of a loss comparison, so it costs no F evaluation. A
    point that oscillates across its target (the ray of a Tchebycheff or EPO preference, or the
    balance point between two neighbours in hypervolume ascent) takes geometrically shorter
    steps, while the other points keep theirs. The rule does not require any objective to
    decrease, which suits methods whose directions may raise some objectives.

    Parameters
    ----------
    lr:
        Start step size η₀ > 0.
    max_lr:
        Largest step size η_max ≥ η₀; ``None`` means η₀. A larger cap lets points that sit on
        a plateau, where the gradients are tiny, speed up geometrically.
    grow:
        Factor γ_up > 1 applied while consecutive directions agree.
    shrink:
        Factor γ_down in (0, 1) applied when a point turns back.
    """

    def __init__(
        self, lr: float = 0.1, max_lr: float | None = None, grow: float = 1.2, shrink: float = 0.5,
        normalize: bool = False,
    ) -> None:
        self.normalize = bool(normalize)
        self.lr = _positive("lr", lr)
        self.max_lr = self.lr if max_lr is None else _positive("max_lr", max_lr)
        if self.max_lr < self.lr:
            raise ValueError(f"max_lr must be >= lr = {self.lr:g}, got {max_lr!r}")
        self.grow, self.shrink = _growth_factors(grow, shrink)

    def init(self, n_points: int) -> AdaptiveStepState:
        return AdaptiveStepState(lr=np.full(n_points, self.lr))

    def __call__(self, X, F, D, t, xl, xu, evaluate, state=None, settled=None) -> StepResult:
        if state is None:
            state = self.init(len(X))
        lr = state.lr
        if state.direction is not None:
            agreement = np.einsum("kd,kd->k", D, state.direction)
            lr = np.where(agreement > 0, np.minimum(lr * self.grow, self.max_lr), lr)
            lr = np.where(agreement < 0, lr * self.shrink, lr)
        if self.normalize:
            norms = np.linalg.norm(D, axis=1, keepdims=True)
            move = np.divide(D, norms, out=np.zeros_like(D), where=norms > 0)
        else:
            move = D
        X_new = project(X - lr[:, None] * move, xl, xu)
        return StepResult(X_new, None, AdaptiveStepState(lr=lr, direction=D.copy()))

    def __repr__(self) -> str:
        return (f"AdaptiveStep(lr={self.lr:g}, max_lr={self.max_lr:g}, grow={self.grow:g}, shrink={self.shrink:g}, "
                f"normalize={self.normalize})")


@dataclass(frozen=True)
class RpropStepState:
    """Step size of every point and coordinate (K × d) and the last direction (K × d)."""

    lr: np.ndarray
    direction: np.ndarray | None = None


class RpropStep:
    """Sign steps with one step size per point and coordinate (resilient propagation, Rprop).

    Each coordinate j of point k moves by η_kj against the sign of its direction component,
    x_kj ← P(x_kj − η_kj · sign(d_kj)), and after the first iteration

        η_kj ← min(γ_up · η_kj, η_max)   if d_kj · d'_kj > 0,
        η_kj ← max(γ_down · η_kj, η_min) if d_kj · d'_kj < 0,

    with d' the previous direction of the point. The move ignores the magnitude of d, so a
    point crosses a plateau, where the gradients are tiny, as fast as a region where they are
    huge (ZDT1 near x1 = 0). A coordinate that oscillates around its optimum gets shorter
    steps while the others keep theirs. Since Σ_j d_kj · sign(d_kj) = ‖d_k‖₁ > 0, the move
    lowers the weighted objective Σ_s λ_ks f_s to first order. Units: η in variable units.

    Parameters
    ----------
    lr:
        Start step size η₀ > 0 of every coordinate.
    max_lr:
        Largest step size η_max ≥ η₀; ``None`` means 10 η₀.
    min_lr:
        Smallest step size η_min in [0, η₀].
    grow, shrink:
        Factors γ_up > 1 and γ_down in (0, 1).
    """

    def __init__(
        self, lr: float = 0.01, max_lr: float | None = None, min_lr: float = 0.0, grow: float = 1.2, shrink: float = 0.5
    ) -> None:
        self.lr = _positive("lr", lr)
        self.max_lr = 10.0 * self.lr if max_lr is None else _positive("max_lr", max_lr)
        if self.max_lr < self.lr:
            raise ValueError(f"max_lr must be >= lr = {self.lr:g}, got {max_lr!r}")
        self.min_lr = float(min_lr)
        if not 0.0 <= self.min_lr <= self.lr:
            raise ValueError(f"min_lr must lie in [0, lr = {self.lr:g}], got {min_lr!r}")
        self.grow, self.shrink = _growth_factors(grow, shrink)

    def init(self, n_points: int) -> None:
        # The number of variables is known only at the first step.
        return None

    def __call__(self, X, F, D, t, xl, xu, evaluate, state=None, settled=None) -> StepResult:
        if state is None:
            lr = np.full(D.shape, self.lr)
        else:
            lr = state.lr
            agreement = D * state.direction
            lr = np.where(agreement > 0, np.minimum(lr * self.grow, self.max_lr), lr)
            lr = np.where(agreement < 0, np.maximum(lr * self.shrink, self.min_lr), lr)
        X_new = project(X - lr * np.sign(D), xl, xu)
        return StepResult(X_new, None, RpropStepState(lr=lr, direction=D.copy()))

    def __repr__(self) -> str:
        return (f"RpropStep(lr={self.lr:g}, max_lr={self.max_lr:g}, min_lr={self.min_lr:g}, grow={self.grow:g}, "
                f"shrink={self.shrink:g})")


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
