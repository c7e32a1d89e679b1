"""PSMGD: periodic stochastic multi-gradient descent.

The MGDA weights change slowly along a trajectory, so PSMGD solves for them only every q
iterations and reuses them in between. A reuse iteration needs only the weighted gradient
∇(Σ_s λ_s f_s), one reverse pass whatever the number of objectives, so the cost per iteration
approaches that of linear scalarization as q grows.
"""

from __future__ import annotations

from pmo_grad.algorithms.base import GradientAlgorithm
from pmo_grad.algorithms.mgda import default_min_norm
from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.weighting.schedule import Periodic, Weighting


class PSMGD(GradientAlgorithm):
    """MGDA weights solved every ``q`` iterations and reused in between, with optional smoothing.

    At iterations t with t mod q = 0: λ_new = argmin_{λ ∈ Δ_m} ‖λᵀJ(x_t)‖², then
    λ_t = α λ_{t−1} + (1 − α) λ_new (λ_t = λ_new at t = 0). Otherwise λ_t = λ_{t−1}.
    Every iteration: x_{t+1} = P(x_t − η_t λ_tᵀ J(x_t)). With q = 1 and α = 0 the iterates
    are those of :class:`MGDA`, bit for bit.

    With ``estimator=Recursive()`` this is PSMGD-VR: a full-data Jacobian and new weights at
    every refresh, and SPIDER/SARAH corrections of the weighted gradient on ⌈√n⌉ samples in
    between (see :class:`pmo_grad.estimators.Recursive`).

    The reuse iterations save work only where the problem can give a weighted gradient without
    its Jacobian: problems differentiated automatically (written with
    ``pymoo.gradient.toolbox``) and vectorized. A problem that sets ``out["dF"]`` itself, or an
    elementwise one, forms its Jacobian at every iteration anyway (counted in ``n_grad``).

    Parameters
    ----------
    q:
        Weight period in iterations (integer ≥ 1). ``None`` gives ⌈√n⌉ on a finite-sum
        problem with n samples, the period of PSMGD-VR's analysis.
    alpha:
        Smoothing factor α in [0, 1] (0: no smoothing).
    weighting:
        Gramian → weights map; see :class:`MGDA` for the default.
    **kwargs:
        Those of :class:`GradientAlgorithm` (``pop_size``, ``sampling``, ``step``,
        ``check_gradient``) and of pymoo's ``Algorithm``.
    """

    def __init__(
        self, q: int | None = 5, alpha: float = 0.0, *, weighting: Weighting | None = None, **kwargs
    ) -> None:
        weighting = weighting if weighting is not None else default_min_norm()
        self._q_from_samples = q is None
        super().__init__(schedule=Periodic(weighting, q=1 if q is None else q, alpha=alpha), **kwargs)

    def _setup(self, problem, **kwargs) -> None:
        if self._q_from_samples:
            if not isinstance(problem, FiniteSumProblem):
                raise ValueError(
                    f"q=None means q = ⌈√n⌉ for a finite-sum problem, but {type(problem).__name__} has no "
                    "samples; give q as an integer"
                )
            self.schedule.q = problem.default_batch_size()
        super()._setup(problem, **kwargs)

    def __repr__(self) -> str:
        if self._q_from_samples and self.problem is None:
            return f"PSMGD(q=None (⌈√n⌉ at setup), alpha={self.alpha}, pop_size={self.pop_size}, step={self.step_rule!r})"
        return super().__repr__()

    @property
    def q(self) -> int:
        """Weight period in iterations."""
        return self.schedule.q

    @property
    def alpha(self) -> float:
        """Smoothing factor of the weights."""
        return self.schedule.alpha
