"""Draw the README's figure: PSMGD, MGDA and NSGA-II fronts on ZDT1, as in notebooks/01_quickstart.

    python docs/tools/make_readme_figure.py   # writes docs/figures/readme_zdt1_fronts.png

The runs are seeded (seed 1), so the figure is the same on every machine up to font rendering.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

REPOSITORY = Path(__file__).resolve().parents[2]
OUTPUT = REPOSITORY / "docs" / "figures" / "readme_zdt1_fronts.png"

# Draw with the package of this checkout, not another installed copy.
sys.path.insert(0, str(REPOSITORY))

from pymoo.algorithms.moo.nsga2 import NSGA2  # noqa: E402
from pymoo.optimize import minimize  # noqa: E402
from pymoo.problems import get_problem  # noqa: E402

from pmo_grad import MGDA, PSMGD, ConstantStep  # noqa: E402
from pmo_grad.visualization import plot_fronts  # noqa: E402


def main() -> None:
    problem = get_problem("zdt1")
    runs = {
        "PSMGD (q=5)": minimize(problem, PSMGD(q=5, pop_size=100, step=ConstantStep(0.05)), ("n_gen", 400), seed=1),
        "MGDA": minimize(problem, MGDA(pop_size=100, step=ConstantStep(0.05)), ("n_gen", 400), seed=1),
        "NSGA-II": minimize(problem, NSGA2(pop_size=100), ("n_gen", 200), seed=1),
    }
    figure = plot_fronts(runs, problem.pareto_front(), title="ZDT1, 30 variables, seed 1")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(OUTPUT, dpi=90)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
