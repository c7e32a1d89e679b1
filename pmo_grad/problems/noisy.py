"""A finite-sum view of an analytic problem whose minibatch gradients carry seeded Gaussian noise.

The wrapped problem has objectives f_s with known Jacobians. The wrapper adds n virtual
samples j, each with a fixed noise matrix ξ_j ∈ R^{m×d}:

    f_{s,j}(x) = f_s(x) + ⟨ξ_{s,j}, x⟩,      ∇f_{s,j}(x) = ∇f_s(x) + ξ_{s,j}.

The ξ_j are drawn once, entry by entry, from N(0, σ²) with ``np.random.default_rng(seed)``
and then centered, ξ_j ← ξ_j − (1/n) Σ_i ξ_i. The mean over all samples is therefore the
clean problem, up to rounding. The mean over a uniform minibatch of b distinct samples is
∇f_s(x) plus noise whose entries have mean 0 and variance σ² (1/b − 1/n), so a standard
deviation of about σ/√b when b ≪ n. Stochastic gradient methods can thus be tested on
problems whose Pareto front is known.
"""

from __future__ import annotations

import logging
import numbers
from typing import Any

import numpy as np
from pymoo.core.problem import Problem

from pmo_grad.problems.finite_sum import FiniteSumProblem
from pmo_grad.problems.gradient import ProblemGradient
from pmo_grad.problems.support import problem_name

logger = logging.getLogger(__name__)


class NoisyGradients(FiniteSumProblem):
    """Wrap a pymoo problem as a finite sum of n samples with seeded Gaussian gradient noise.

    See the module docstring for the sample functions f_{s,j} and the noise level of a
    minibatch. The clean values come from ``problem.evaluate`` and the clean Jacobians from
    :class:`ProblemGradient`, which reads ``out["dF"]`` when the problem sets it and
    otherwise differentiates a problem written with ``pymoo.gradient.toolbox`` by autograd.
    Its checks apply as well: the first Jacobian is compared with finite differences of F,
    and points on a bound where the derivative is infinite get one-sided derivatives.

    ``n_var``, ``n_obj``, ``xl`` and ``xu`` are those of the wrapped problem, and
    :meth:`pareto_front` and :meth:`pareto_set` return the wrapped problem's, because the
    full-data objectives are the clean ones.

    Parameters
    ----------
    problem:
        An unconstrained pymoo problem with continuous variables and gradients.
    sigma:
        Standard deviation σ of each noise entry before centering, >= 0 and finite, in the
        units of the gradient (objective units per variable unit).
    n_samples:
        Number of virtual samples n, >= 2. The noise takes n · m · d float64 values
        (8 n m d bytes, 480 kB for n = 1000, m = 2, d = 30), and each chunk of B samples
        copies B · m · d of them.
    seed:
        Seed of the noise generator. The same seed gives the same noise.
    chunk_size:
        Largest number of samples evaluated at once. The clean problem is evaluated once per
        chunk, so the default 1024 evaluates it once per call for n <= 1024.

    Attributes
    ----------
    noise:
        The centered noise matrices ξ, shape (n, m, d).
    """

    def __init__(
        self,
        problem: Problem,
        sigma: float,
        n_samples: int = 1000,
        seed: int | None = 0,
        chunk_size: int = 1024,
    ) -> None:
        if not isinstance(problem, Problem):
            raise ValueError(f"problem must be a pymoo Problem, got {type(problem).__name__}")
        n_constraints = int(problem.n_ieq_constr) + int(problem.n_eq_constr)
        if n_constraints > 0:
            raise ValueError(
                f"problem {problem_name(problem)} has {n_constraints} constraint(s), which NoisyGradients "
                "would drop. Wrap an unconstrained problem, or fold the constraints into the objectives."
            )
        if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not np.isfinite(sigma) or sigma < 0:
            raise ValueError(f"sigma must be a finite number >= 0 (the noise standard deviation), got {sigma!r}")
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 2:
            raise ValueError(
                f"n_samples must be an integer >= 2, got {n_samples!r}, because centering one sample "
                "would remove all of its noise"
            )
        super().__init__(
            n_samples=int(n_samples),
            chunk_size=chunk_size,
            n_var=problem.n_var,
            n_obj=problem.n_obj,
            xl=problem.xl,
            xu=problem.xu,
            vtype=float,
        )
        self.problem = problem
        self.sigma = float(sigma)
        self.seed = seed
        self.gradient = ProblemGradient(problem)

        rng = np.random.default_rng(seed)
        noise = rng.normal(0.0, self.sigma, size=(self.n_samples, self.n_obj, self.n_var))
        self.noise = noise - noise.mean(axis=0)
        logger.debug(
            "NoisyGradients(%s): %d samples, sigma %g, noise array of %.1f MB",
            problem_name(problem), self.n_samples, self.sigma, self.noise.nbytes / 1e6,
        )

    def _noise_sum(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Check the shape of X and return Σ_{j∈indices} ξ_j, shape (m, d)."""
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"points must have shape (K, n_var) = (K, {self.n_var}), got {X.shape}")
        return self.noise[indices].sum(axis=0)

    def _sample_values(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        noise_sum = self._noise_sum(X, indices)
        clean = np.asarray(self.problem.evaluate(X, return_values_of=["F"]), dtype=float)
        return len(indices) * clean + X @ noise_sum.T

    def _sample_jacobian(self, X: np.ndarray, indices: np.ndarray) -> np.ndarray:
        noise_sum = self._noise_sum(X, indices)
        return len(indices) * self.gradient.jacobian(X) + noise_sum[None, :, :]

    def _sample_weighted_gradient(self, X: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if weights.shape != (len(X), self.n_obj):
            raise ValueError(f"weights must have shape (K, n_obj) = ({len(X)}, {self.n_obj}), got {weights.shape}")
        noise_sum = self._noise_sum(X, indices)
        clean, _ = self.gradient.weighted_gradient(X, weights)
        return len(indices) * clean + weights @ noise_sum

    def _calc_pareto_front(self, *args: Any, **kwargs: Any) -> np.ndarray | None:
        return self.problem.pareto_front(*args, **kwargs)

    def _calc_pareto_set(self, *args: Any, **kwargs: Any) -> np.ndarray | None:
        return self.problem.pareto_set(*args, **kwargs)
