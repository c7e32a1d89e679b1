"""Stochastic multi-gradient methods: SMGD, STIMULUS and MoCo, as compositions of the shared parts.

Each is the :class:`GradientAlgorithm` shell with an estimator and a weight schedule:

==========  ======================================  =============================================
method      estimator                               weights
==========  ======================================  =============================================
SMGD        ``Minibatch(b)``                        min-norm at every iteration
STIMULUS    ``Recursive()`` (SPIDER, period q)      min-norm at every iteration
MoCo        ``Tracking(Minibatch(b), beta)``        one projected-gradient step per iteration
==========  ======================================  =============================================

PSMGD with a minibatch or recursive estimator (PSMGD-VR) is :class:`pmo_grad.PSMGD` with
``estimator=Minibatch(b)`` or ``estimator=Recursive()``.
"""

from __future__ import annotations

from pmo_grad.algorithms.base import GradientAlgorithm
from pmo_grad.algorithms.mgda import default_min_norm
from pmo_grad.estimators.minibatch import Minibatch
from pmo_grad.estimators.recursive import Recursive
from pmo_grad.estimators.tracking import Tracking
from pmo_grad.weighting.projected_gradient import ProjectedGradientWeights
from pmo_grad.weighting.schedule import Periodic


class SMGD(GradientAlgorithm):
    """Stochastic MGDA: min-norm weights solved from a fresh minibatch Jacobian at every iteration.

    The direction λ*(Ĵ)ᵀĴ is a biased estimate of the full-data MGDA direction, because the
    min-norm weights are a non-linear function of the noisy Jacobian Ĵ; with a constant batch
    size the bias does not vanish as the iterates converge.
    """

    def __init__(self, batch_size: int = 32, replace: bool = False, **kwargs) -> None:
        super().__init__(
            schedule=Periodic(default_min_norm(), q=1),
            estimator=Minibatch(batch_size, replace=replace),
            **kwargs,
        )


class STIMULUS(GradientAlgorithm):
    """Min-norm weights at every iteration from SPIDER/SARAH per-objective gradient estimates.

    The estimator takes a full-data Jacobian every ``period`` iterations (⌈√n⌉ by default)
    and recursive corrections on ⌈√n⌉ samples in between. The weights are solved from the
    estimate at every iteration.
    """

    def __init__(self, batch_size: int | None = None, period: int | None = None, **kwargs) -> None:
        super().__init__(
            schedule=Periodic(default_min_norm(), q=1),
            estimator=Recursive(batch_size=batch_size, period=period),
            **kwargs,
        )


class MoCo(GradientAlgorithm):
    """MoCo: tracked per-objective gradients and weights that move by projected-gradient steps.

    Y_t tracks the Jacobian (see :class:`pmo_grad.estimators.Tracking`), the weights follow
    λ_{t+1} = Π_Δ(λ_t − γ (Y Yᵀ + ρ I) λ_t), and the direction is λ_{t+1}ᵀ Y_t.
    """

    def __init__(
        self, batch_size: int = 32, beta: float = 0.1, gamma: float = 0.1, rho: float = 0.0, **kwargs
    ) -> None:
        super().__init__(
            schedule=ProjectedGradientWeights(gamma=gamma, rho=rho),
            estimator=Tracking(Minibatch(batch_size), beta=beta),
            **kwargs,
        )
