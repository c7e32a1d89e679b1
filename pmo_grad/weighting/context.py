"""Weightings that need more than the Gramian: the objective values and the preference vectors.

Min-norm weights depend only on the Gramian G = J Jᵀ of each point. Preference-guided weightings
(Tchebycheff, PBI, EPO, Pareto MTL) also need the objective values F and the preference vector of
each trajectory, and the hypervolume weighting needs F of the whole population, because a
point's hypervolume contribution depends on its neighbours. Such weightings subclass
:class:`ContextWeighting` and are called as ``weighting(gramian, context)``, where the
:class:`WeightingContext` describes the whole population and names the rows whose weights are
requested. Plain weightings stay callables ``gramian → weights``; :func:`solve_weighting`
calls either kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["ContextWeighting", "WeightingContext", "needs_gramian", "solve_weighting"]


@dataclass(frozen=True)
class WeightingContext:
    """The population a weighting acts on, and the rows whose weights are requested.

    Attributes
    ----------
    objectives:
        Objective values F of every point of the population, shape (N, m).
    preferences:
        Preference vector of every point, shape (N, m), or ``None`` when the method has none.
    rows:
        Indices of the points whose weights are requested, or ``None`` for all N points. The
        Gramians passed next to the context belong to these rows, in this order.
    """

    objectives: np.ndarray
    preferences: np.ndarray | None = None
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        F = np.asarray(self.objectives, dtype=float)
        if F.ndim != 2 or F.shape[1] == 0:
            raise ValueError(f"objectives must have shape (N, m) with m >= 1, got {F.shape}")
        if not np.all(np.isfinite(F)):
            raise ValueError("objectives contain NaN or infinite values; weightings need finite F")
        object.__setattr__(self, "objectives", F)
        if self.preferences is not None:
            P = np.asarray(self.preferences, dtype=float)
            if P.shape != F.shape:
                raise ValueError(
                    f"preferences must have the shape of the objectives {F.shape} (one vector per point), got {P.shape}"
                )
            object.__setattr__(self, "preferences", P)
        if self.rows is not None:
            rows = np.asarray(self.rows, dtype=int)
            if rows.ndim != 1 or (rows.size and (rows.min() < 0 or rows.max() >= len(F))):
                raise ValueError(f"rows must be a 1-D array of point indices in [0, {len(F)}), got {self.rows!r}")
            object.__setattr__(self, "rows", rows)

    @property
    def n_requested(self) -> int:
        """Number of points whose weights are requested."""
        return len(self.objectives) if self.rows is None else len(self.rows)

    def requested_objectives(self) -> np.ndarray:
        """Return F of the requested rows, shape (n_requested, m)."""
        return self.objectives if self.rows is None else self.objectives[self.rows]

    def requested_preferences(self) -> np.ndarray:
        """Return the preference vectors of the requested rows; raise if the context has none."""
        if self.preferences is None:
            raise ValueError(
                "this weighting needs one preference vector per point, but the context has none; "
                "use it through a preference-guided algorithm (EPO, ParetoMTL, Tchebycheff, PBI) "
                "or pass WeightingContext(objectives=F, preferences=P)"
            )
        return self.preferences if self.rows is None else self.preferences[self.rows]

    def select(self, rows: np.ndarray) -> "WeightingContext":
        """Return the context restricted to ``rows``, given as positions within the requested rows."""
        rows = np.asarray(rows, dtype=int)
        absolute = rows if self.rows is None else self.rows[rows]
        return replace(self, rows=absolute)


class ContextWeighting(ABC):
    """A weighting that reads the objective values (and preferences) as well as the Gramian.

    ``weighting(gramian, context)`` returns the weights (n × m) of the ``n = context.n_requested``
    points. ``gramian`` has shape (n × m × m), or is ``None`` when :attr:`needs_gramian` is
    False. The weights need not lie on the simplex: the direction of point k is Σ_s λ_ks ∇f_s
    whatever their signs.
    """

    needs_gramian: bool = True
    """Whether the weights depend on the Gramian; if not, a refresh forms no Jacobian."""

    @abstractmethod
    def __call__(self, gramian: np.ndarray | None, context: WeightingContext) -> np.ndarray: ...


def needs_gramian(weighting) -> bool:
    """Return whether solving ``weighting`` needs the Gramian (every plain weighting does)."""
    return bool(getattr(weighting, "needs_gramian", True)) if isinstance(weighting, ContextWeighting) else True


def solve_weighting(weighting, gramian: np.ndarray | None, context: WeightingContext | None) -> np.ndarray:
    """Call a plain weighting on the Gramian, or a :class:`ContextWeighting` on the Gramian and the context."""
    if isinstance(weighting, ContextWeighting):
        if context is None:
            raise ValueError(
                f"{weighting!r} needs the objective values of the points; pass "
                "context=WeightingContext(objectives=F, ...) to the schedule's update"
            )
        if weighting.needs_gramian and gramian is None:
            raise ValueError(f"{weighting!r} needs the Gramian of the requested points; pass it")
        weights = weighting(gramian, context)
        expected = (context.n_requested, context.objectives.shape[1])
        if weights.shape != expected:
            raise RuntimeError(f"{weighting!r} returned weights of shape {weights.shape}, expected {expected}")
        return weights
    if gramian is None:
        raise ValueError(f"{weighting!r} maps Gramians to weights; pass the Gramian")
    return weighting(gramian)
