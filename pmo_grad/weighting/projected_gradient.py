"""Weights that follow the min-norm problem by one projected-gradient step per iteration (MoCo)."""

from __future__ import annotations

import math

import numpy as np

from pmo_grad.weighting.context import WeightingContext
from pmo_grad.weighting.schedule import ScheduleState
from pmo_grad.weighting.simplex import project_to_simplex


class ProjectedGradientWeights:
    """One projected-gradient step on the min-norm objective per iteration.

    With G the Gramian of the current (tracked) gradients,

        λ_{t+1} = Π_Δ(λ_t − γ (G + ρ I) λ_t),      λ_0 = (1/m, …, 1/m),

    where Π_Δ is the Euclidean projection onto the simplex. ½ λᵀ(G + ρI)λ is the min-norm
    objective with a ridge ρ ≥ 0, so the weights drift towards the MGDA weights instead of
    jumping to the solution of one noisy Gramian. γ has units of 1/(gradient norm)², so it
    must be sized to the problem's gradients: γ ‖G‖ well below 2 keeps the step stable.
    """

    def __init__(self, gamma: float = 0.1, rho: float = 0.0) -> None:
        gamma, rho = float(gamma), float(rho)
        if not math.isfinite(gamma) or gamma <= 0:
            raise ValueError(f"gamma (the weight step size) must be a positive finite number, got {gamma!r}")
        if not math.isfinite(rho) or rho < 0:
            raise ValueError(f"rho (the ridge on the Gramian) must be a finite number >= 0, got {rho!r}")
        self.gamma = gamma
        self.rho = rho

    def init(self, n_points: int, n_obj: int) -> ScheduleState:
        return ScheduleState(step=0, weights=np.full((n_points, n_obj), 1.0 / n_obj))

    def needs_gramian(self, state: ScheduleState) -> bool:
        return True

    def update(
        self, state: ScheduleState, gramian: np.ndarray | None, context: WeightingContext | None = None
    ) -> tuple[np.ndarray, ScheduleState]:
        if gramian is None:
            raise ValueError("ProjectedGradientWeights needs the Gramian at every iteration")
        lam = state.weights
        gradient = np.einsum("kst,kt->ks", gramian, lam) + self.rho * lam
        weights = project_to_simplex(lam - self.gamma * gradient)
        return weights, ScheduleState(step=state.step + 1, weights=weights, solved_weights=None)

    def __repr__(self) -> str:
        return f"ProjectedGradientWeights(gamma={self.gamma:g}, rho={self.rho:g})"
