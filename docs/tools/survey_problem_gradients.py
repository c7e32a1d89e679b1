"""Check which of pymoo's multi-objective test problems pmo_grad's gradient methods accept.

For every problem name that ``pymoo.problems.get_problem`` accepts, the script builds it (with the
arguments listed in CONSTRUCTOR_ARGUMENTS where the defaults are not enough), keeps those with
two or more objectives, and asks the same two questions as a gradient method at setup:

1. ``check_supported(problem, ...)``: does the problem pass the up-front checks (no
   constraints, continuous variables, finite box, not a suite known to be plain numpy)?
2. ``ProblemGradient(problem).jacobian(X)`` at 8 Latin-hypercube points (seed 0): is there a
   Jacobian of the right shape that agrees with central finite differences of F?

It prints one markdown table row per outcome, with the problems that share it, for the table
in docs/guide/problems.md. ``--each`` prints one row per problem instead:

    python docs/tools/survey_problem_gradients.py [--each]
"""

from __future__ import annotations

import argparse
import inspect
import logging
import re
import warnings
from collections import defaultdict

import sys
from pathlib import Path

import numpy as np
import pymoo
from pymoo.operators.sampling.lhs import LHS
from pymoo.problems import get_problem

# Check the package of this checkout, not another installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pmo_grad.problems import ProblemGradient, check_supported  # noqa: E402

# Problems whose constructors need arguments; the values are small, valid instances.
CONSTRUCTOR_ARGUMENTS = {
    **{f"wfg{i}": {"n_var": 6, "n_obj": 2} for i in range(1, 10)},
    **{f"dascmop{i}": {"difficulty": 1} for i in range(1, 7)},
    **{f"dascmop{i}": {"difficulty_factors": (0.5, 0.5, 0.5)} for i in range(7, 10)},
}


def problem_names() -> list[str]:
    """Return the names in get_problem's table, in its order."""
    return re.findall(r'"([a-z0-9_^\-]+)": [A-Z]', inspect.getsource(get_problem))


def classify(problem) -> str:
    """Return how a gradient method fares on ``problem``: the gradient source, or why it is rejected."""
    try:
        check_supported(problem, "MGDA")
    except ValueError as error:
        message = str(error)
        if "constraint" in message:
            return "rejected at setup: constrained"
        if "plain numpy" in message:
            return "rejected at setup: written in plain numpy"
        return "rejected at setup: " + message.split(";")[0].split(". ")[0]
    X = LHS().do(problem, 8, random_state=np.random.default_rng(0)).get("X")
    gradient = ProblemGradient(problem)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gradient.jacobian(X)
    except (ValueError, FloatingPointError) as error:
        cause = re.search(r"failed \(([A-Za-z]+Error)", str(error))
        detail = f"automatic differentiation fails with {cause.group(1)}" if cause else type(error).__name__
        return f"rejected at the first Jacobian: {detail}"
    return f"usable: gradients from the {gradient.source.kind} source"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--each", action="store_true", help="print one row per problem")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    outcomes: dict[str, list[str]] = defaultdict(list)
    rows = []
    for name in problem_names():
        try:
            problem = get_problem(name, **CONSTRUCTOR_ARGUMENTS.get(name, {}))
        except TypeError as error:
            outcome = f"not built with default arguments ({error})"
            outcomes[outcome].append(name)
            rows.append((name, "", "", "", outcome))
            continue
        if problem.n_obj < 2:
            continue
        outcome = classify(problem)
        outcomes[outcome].append(name)
        rows.append((name, type(problem).__name__, problem.n_obj, problem.n_var, outcome))

    print(f"pymoo {pymoo.__version__}\n")
    if args.each:
        print("| name | class | m | d | outcome |")
        print("| --- | --- | ---: | ---: | --- |")
        for row in rows:
            print("| " + " | ".join(str(value) for value in row) + " |")
        return
    print("| outcome | problems (names for get_problem) |")
    print("| --- | --- |")
    for outcome, names in sorted(outcomes.items()):
        print(f"| {outcome} | {', '.join(names)} |")


if __name__ == "__main__":
    main()
