"""Gradient access to pymoo problems: Jacobians and weighted gradients, validated.

Two sources are supported:

* **native**: the problem sets ``out["dF"]`` (shape n × m × d) in ``_evaluate`` itself,
  or is already wrapped in pymoo's ``AutomaticDifferentiation``;
* **autograd**: the problem is written with ``pymoo.gradient.toolbox`` (``anp``) and is
  differentiated with the autograd backend. The Jacobian costs m reverse passes; the weighted
  gradient ∇(Σ_s λ_s f_s) of a vectorized problem costs one.

Singular points. Some problems have an infinite derivative on a bound of the box: ZDT1, ZDT3 and
ZDT4 at x1 = 0 (through √f1), ZDT6 and DTLZ6 on their Pareto sets (x^0.25 and x^0.1 at 0).
Reverse-mode differentiation then multiplies 0 by ∞, and the whole Jacobian of that point
becomes NaN. A point whose derivatives are non-finite while it lies on a bound gets the
one-sided treatment: its derivatives are taken at the point moved into the box by
``singular_offset · (xu − xl)`` along the coordinates that sit on a bound. The values F and the
iterate X are never changed, only where the derivative is read. A non-finite derivative at an
interior point, or one that stays non-finite after the move, raises
:class:`NonFiniteGradientError` naming the problem, the point and the objective.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import numpy as np
from pymoo.core.problem import Problem

from pmo_grad.problems.support import problem_name

logger = logging.getLogger(__name__)


class NonFiniteGradientError(FloatingPointError):
    """A Jacobian or gradient with NaN or infinite entries that cannot be repaired."""


class InvalidJacobianError(ValueError):
    """A Jacobian of the wrong shape or type, or one that is identically zero while F varies."""


@dataclass(frozen=True)
class GradientSource:
    """Source of a problem's Jacobian: ``"native"`` (its own ``out["dF"]``) or ``"autograd"``."""

    kind: str


def _native_jacobian_probe(problem: Problem, x: np.ndarray) -> tuple[bool, tuple[int, ...] | None]:
    """Return whether ``problem._evaluate`` sets ``out["dF"]`` itself, and the shape it sets.

    Checked on the first point of ``x``, before pymoo's reshaping, which would silently accept
    a transposed (n, n_var, n_obj) array of the same size.
    """
    from pymoo.gradient.automatic import AutomaticDifferentiation, ElementwiseAutomaticDifferentiation

    if isinstance(problem, (AutomaticDifferentiation, ElementwiseAutomaticDifferentiation)):
        return True, None
    out: dict = {"F": None, "dF": None}
    if problem.elementwise:
        problem._evaluate(x[0], out)
    else:
        problem._evaluate(x[:1], out)
    dF = out.get("dF")
    if dF is None:
        return False, None
    shape = np.shape(dF)
    return True, shape


class ProblemGradient:
    """Values and derivatives of a pymoo problem at a population of points.

    Parameters
    ----------
    problem:
        An unconstrained pymoo problem with box bounds (see :func:`check_supported`).
    singular_offset:
        Relative distance (a fraction of xu − xl) by which a point on a bound is moved into
        the box before its derivatives are read again, when they are non-finite there.

    Attributes
    ----------
    check_gradient:
        Compare the first Jacobian with central finite differences of F along one direction
        at up to three points, and raise :class:`InvalidJacobianError` when they disagree
        (a wrong sign or formula in ``out["dF"]``). Costs at most 12 F evaluations, once.
    n_check_evals:
        F evaluations made only to find the gradient source (one point) and to validate the
        first Jacobian. They are not part of pymoo's ``n_eval`` count.
    """

    def __init__(self, problem: Problem, singular_offset: float = 1e-8, check_gradient: bool = True) -> None:
        if not (0.0 < singular_offset < 0.5):
            raise ValueError(f"singular_offset must lie in (0, 0.5), got {singular_offset!r}")
        self.problem = problem
        self.name = problem_name(problem)
        self.singular_offset = float(singular_offset)
        self.xl = np.asarray(problem.xl, dtype=float)
        self.xu = np.asarray(problem.xu, dtype=float)
        self.source: GradientSource | None = None
        self.check_gradient = bool(check_gradient)
        self.n_check_evals = 0
        self._validated = False
        self._jacobian_problem: Problem | None = None

    # ------------------------------------------------------------------ sources

    def _resolve_source(self, X: np.ndarray) -> None:
        if self.source is not None:
            return
        native, shape = _native_jacobian_probe(self.problem, X)
        self.n_check_evals += 1
        m, d = self.problem.n_obj, self.problem.n_var
        if shape is not None and tuple(shape[-2:]) != (m, d):
            raise InvalidJacobianError(
                f"problem {self.name} sets out['dF'] with shape {tuple(shape)}; the last two axes must be "
                f"(n_obj, n_var) = ({m}, {d}). Set out['dF'] with one row per point, objective and variable."
            )
        self.source = GradientSource("native" if native else "autograd")
        logger.debug("gradients of %s come from the %s source", self.name, self.source.kind)

    def _jacobian_source_problem(self) -> Problem:
        """Return the problem that computes ``dF``: the problem itself, or pymoo's autograd wrapper of it."""
        if self._jacobian_problem is None:
            if self.source.kind == "native":
                self._jacobian_problem = self.problem
            else:
                from pymoo.gradient.automatic import (
                    AutomaticDifferentiation,
                    ElementwiseAutomaticDifferentiation,
                )

                wrapper = ElementwiseAutomaticDifferentiation if self.problem.elementwise else AutomaticDifferentiation
                self._jacobian_problem = wrapper(self.problem, copy=False)
        return self._jacobian_problem

    def __getstate__(self) -> dict:
        # pymoo's autograd wrappers are classes made at run time, which pickle cannot store.
        state = self.__dict__.copy()
        state["_jacobian_problem"] = None
        return state

    def _raw_jacobian(self, X: np.ndarray) -> np.ndarray:
        # Singular points produce inf/NaN with warnings here; _repair handles them afterwards.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"), self._autograd_errors():
            out = self._jacobian_source_problem().evaluate(X, return_values_of=["F", "dF"], return_as_dictionary=True)
        return np.asarray(out["dF"])

    @contextlib.contextmanager
    def _autograd_errors(self):
        """Turn a failure inside autograd's trace into an error that names the problem and the fix."""
        if self.source.kind != "autograd":
            yield
            return
        try:
            yield
        except (AttributeError, TypeError, ValueError) as exc:
            raise InvalidJacobianError(
                f"automatic differentiation of problem {self.name} failed ({type(exc).__name__}: {exc}). "
                "pymoo's autograd backend needs _evaluate written with `import pymoo.gradient.toolbox as anp` "
                "operations on its input (no plain numpy calls, lists or in-place writes); otherwise set "
                "out['dF'] in _evaluate yourself."
            ) from exc

    def _raw_weighted_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
        """∇_X Σ_k Σ_s λ_ks f_s(x_k) in one reverse pass, or None when only the Jacobian path works."""
        if self.source.kind != "autograd" or self.problem.elementwise:
            return None
        import autograd
        from pymoo.gradient import activate, deactivate

        problem = self.problem

        def weighted_sum(Xb):
            import autograd.numpy as anp

            F = problem.do(Xb, ["F"])["F"]
            return anp.sum(weights * F)

        activate("autograd")
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"), self._autograd_errors():
                return np.asarray(autograd.grad(weighted_sum)(X), dtype=float)
        finally:
            deactivate()

    # ------------------------------------------------------------------ public

    def jacobian(self, X: np.ndarray) -> np.ndarray:
        """Return the Jacobians ∂f_s/∂x_j of all points, shape (K, m, d), finite."""
        X = np.asarray(X, dtype=float)
        self._resolve_source(X)
        J = self._raw_jacobian(X)
        if not self._validated:
            self._validate(X, J)
        return self._repair(X, J, self._raw_jacobian, "Jacobian")

    def weighted_gradient(self, X: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return ∇(Σ_s λ_ks f_s)(x_k) for every point, shape (K, d), and the Jacobian if one was formed.

        For autograd problems that are vectorized this is one reverse pass and no Jacobian is
        formed (the second value is None). Otherwise the gradient is λᵀJ from the Jacobian,
        which is returned too so that callers can count and reuse it.
        """
        X = np.asarray(X, dtype=float)
        self._resolve_source(X)
        if not self._validated:
            J = self.jacobian(X)
            return np.einsum("ks,ksd->kd", weights, J), J

        direct = self._raw_weighted_gradient(X, weights)
        if direct is None:
            J = self.jacobian(X)
            return np.einsum("ks,ksd->kd", weights, J), J

        def recompute(Xs: np.ndarray, rows: np.ndarray) -> np.ndarray:
            return self._raw_weighted_gradient(Xs, weights[rows])

        return self._repair(X, direct[:, None, :], recompute, "weighted gradient", pass_rows=True)[:, 0, :], None

    # ------------------------------------------------------------------ checks

    def _validate(self, X: np.ndarray, J: np.ndarray) -> None:
        n, m, d = X.shape[0], self.problem.n_obj, self.problem.n_var
        if J.dtype == object or not np.issubdtype(J.dtype, np.floating):
            raise InvalidJacobianError(
                f"the Jacobian of problem {self.name} has dtype {J.dtype}; it must be floating point. "
                "Set out['dF'] to a float array in _evaluate."
            )
        if J.shape != (n, m, d):
            raise InvalidJacobianError(
                f"the Jacobian of problem {self.name} has shape {J.shape}, expected (n, n_obj, n_var) = "
                f"({n}, {m}, {d}). Set out['dF'] with one row per point, objective and variable."
            )
        if np.all(J == 0) and self._f_varies(X):
            raise InvalidJacobianError(
                f"the Jacobian of problem {self.name} is identically zero while its objectives vary. "
                "pymoo returns zero Jacobians for problems written in plain numpy: write _evaluate "
                "with `import pymoo.gradient.toolbox as anp` instead of numpy, or set out['dF'] yourself."
            )
        if np.all(np.isinf(J)):
            raise InvalidJacobianError(
                f"the Jacobian of problem {self.name} is infinite everywhere, which is what pymoo "
                "returns when a problem does not set out['dF']. Set out['dF'] in _evaluate."
            )
        if self.check_gradient:
            self._compare_with_finite_differences(X, J)
        self._validated = True

    def _compare_with_finite_differences(self, X: np.ndarray, J: np.ndarray) -> None:
        """Check J·v against central differences of F along a fixed direction v at up to three points.

        A point is only judged where the differences with steps h and h/2 agree, which means F
        is smooth there at that scale. Near kinks the check is skipped rather than guessed.
        """
        span = self.xu - self.xl
        h = 1e-5 * span
        pattern = np.where(np.arange(X.shape[1]) % 2 == 0, 1.0, -1.0) * (1.0 + np.arange(X.shape[1]) / X.shape[1])
        for k in range(min(3, len(X))):
            x = X[k]
            inside = (x - 2 * h > self.xl) & (x + 2 * h < self.xu) & np.all(np.isfinite(J[k]), axis=0)
            if not np.any(inside):
                continue
            v = np.where(inside, pattern, 0.0)
            steps = np.stack([x + h * v, x - h * v, x + 0.5 * h * v, x - 0.5 * h * v])
            F = self.problem.evaluate(steps, return_values_of=["F"])
            self.n_check_evals += len(steps)
            # Directional derivative per unit of t in x + t·(h ⊙ v).
            coarse = (F[0] - F[1]) / 2.0
            fine = (F[2] - F[3]) / 1.0
            predicted = np.where(inside, J[k], 0.0) @ (h * v)
            scale = np.abs(coarse) + np.abs(predicted) + 1e-12 * (np.abs(F[0]) + 1.0)
            smooth = np.abs(coarse - fine) <= 1e-3 * scale
            wrong = smooth & (np.abs(coarse - predicted) > 1e-2 * scale)
            if np.any(wrong):
                s = int(np.flatnonzero(wrong)[0])
                raise InvalidJacobianError(
                    f"the Jacobian of problem {self.name} disagrees with finite differences of F at point {k}, "
                    f"objective {s}: the derivative along a test direction is {predicted[s] / h.max():.6g} from "
                    f"the Jacobian but {coarse[s] / h.max():.6g} from central differences of F. Check the sign "
                    "and formula of out['dF'], or pass check_gradient=False if F is not differentiable there."
                )

    def _f_varies(self, X: np.ndarray) -> bool:
        """Tell whether F differs between the points of X, or around the first point when that is not enough."""
        F = self.problem.evaluate(X, return_values_of=["F"])
        self.n_check_evals += len(X)
        if len(X) > 1 and np.ptp(F, axis=0).max() > 0:
            return True
        # One point, or several with equal F: compare with points moved along each axis.
        center = np.clip(X[0], self.xl, self.xu)
        h = 1e-3 * (self.xu - self.xl)
        probes = np.tile(center, (len(center), 1))
        step = np.where(center + h <= self.xu, h, -h)
        probes[np.arange(len(center)), np.arange(len(center))] += step
        F_probe = self.problem.evaluate(probes, return_values_of=["F"])
        self.n_check_evals += len(probes)
        return bool(np.any(F_probe != F[0]))

    def _repair(self, X, values, recompute, quantity: str, pass_rows: bool = False) -> np.ndarray:
        """Apply the one-sided treatment to points with non-finite derivatives (see the module docstring)."""
        bad = ~np.all(np.isfinite(values.reshape(len(X), -1)), axis=1)
        if not np.any(bad):
            return values
        rows = np.flatnonzero(bad)
        at_lower = X[rows] <= self.xl
        at_upper = X[rows] >= self.xu
        on_bound = at_lower | at_upper
        interior = ~np.any(on_bound, axis=1)
        if np.any(interior):
            k = int(rows[np.flatnonzero(interior)[0]])
            self._raise_non_finite(quantity, k, values[k], X[k], "at an interior point")

        offset = self.singular_offset * (self.xu - self.xl)
        moved = X[rows] + np.where(at_lower, offset, 0.0) - np.where(at_upper, offset, 0.0)
        repaired = recompute(moved, rows) if pass_rows else recompute(moved)
        repaired = repaired.reshape(values[rows].shape)
        still_bad = ~np.all(np.isfinite(repaired.reshape(len(rows), -1)), axis=1)
        if np.any(still_bad):
            i = int(np.flatnonzero(still_bad)[0])
            self._raise_non_finite(quantity, int(rows[i]), repaired[i], X[rows[i]],
                                   f"even {self.singular_offset:g}·(xu − xl) inside the bound")
        logger.debug("%s of %s: one-sided derivatives at %d point(s) on a bound", quantity, self.name, len(rows))
        values = values.copy()
        values[rows] = repaired
        return values

    def _raise_non_finite(self, quantity: str, k: int, value: np.ndarray, x: np.ndarray, where: str) -> None:
        rows = np.atleast_2d(value)
        s = int(np.flatnonzero(~np.all(np.isfinite(rows), axis=1))[0])
        objective = f", objective {s}" if quantity == "Jacobian" else ""
        raise NonFiniteGradientError(
            f"the {quantity} of problem {self.name} is not finite at point {k}{objective} {where} "
            f"(x = {np.array2string(x, precision=4, threshold=8)}). Check the problem's formula "
            "for divisions, roots or logarithms that are singular there, or shrink the bounds xl, xu "
            "to exclude the singular region."
        )
