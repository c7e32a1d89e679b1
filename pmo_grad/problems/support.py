"""Checks that a pymoo problem suits a gradient method, with the reason and the fix when it does not."""

from __future__ import annotations

from pymoo.core.problem import Problem

# pymoo modules whose problems are written in plain numpy, so pymoo's automatic
# differentiation returns zero Jacobians for them (checked with pymoo 0.6.2).
_PLAIN_NUMPY_MODULES = {
    "pymoo.problems.multi.mw": "the MW test suite",
    "pymoo.problems.dynamic.df": "the DF test suite",
}


class UnsupportedProblemError(ValueError):
    """A problem that gradient methods cannot optimize as it is given."""


def problem_name(problem: Problem) -> str:
    """Return the problem's class name, looking through pymoo's ``Meta`` wrappers."""
    inner = getattr(problem, "__object__", None)
    if inner is not None and inner is not problem:
        return problem_name(inner)
    return type(problem).__name__


def check_supported(problem: Problem, method: str) -> None:
    """Raise :class:`UnsupportedProblemError` when ``method`` cannot run on ``problem``.

    Rejected up front, before any evaluation: constrained problems (the methods here are
    unconstrained, box bounds aside), problems without finite box bounds, discrete variables
    (ZDT5 is binary), and pymoo problems known to be written in plain numpy (MW, DF).
    Problems with zero or non-finite Jacobians that are not on this list are caught when the
    first Jacobian is validated.
    """
    name = problem_name(problem)
    inner = getattr(problem, "__object__", problem)

    if name == "ZDT5":
        raise UnsupportedProblemError(
            f"problem ZDT5 has binary variables, so it has no gradient; {method} needs continuous "
            "variables. Use pymoo's NSGA2 with binary operators for ZDT5."
        )

    module = type(inner).__module__
    for prefix, suite in _PLAIN_NUMPY_MODULES.items():
        if module.startswith(prefix):
            raise UnsupportedProblemError(
                f"problem {name} belongs to {suite}, which pymoo writes in plain numpy, so its "
                "automatic differentiation returns zero Jacobians. Rewrite the objectives with "
                "`import pymoo.gradient.toolbox as anp` or set out['dF'] in _evaluate, or use NSGA2."
            )

    n_constr = int(getattr(problem, "n_ieq_constr", 0)) + int(getattr(problem, "n_eq_constr", 0))
    if n_constr > 0:
        raise UnsupportedProblemError(
            f"{method} is an unconstrained method, but problem {name} has {n_constr} constraint(s). "
            "Use a constrained algorithm such as pymoo's NSGA2, or fold the constraints into the "
            "objectives (for example as penalties) in a problem of your own."
        )

    vtype = getattr(problem, "vtype", float)
    if vtype is not None and not (isinstance(vtype, type) and issubclass(vtype, float)):
        raise UnsupportedProblemError(
            f"problem {name} has variables of type {vtype!r}; {method} needs continuous (float) variables."
        )

    if not problem.has_bounds():
        raise UnsupportedProblemError(
            f"problem {name} has no box bounds (xl, xu); {method} samples its start points inside "
            "the box and projects every step onto it. Give the problem finite xl and xu."
        )
