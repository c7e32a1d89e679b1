import importlib.util
import os

import matplotlib
import numpy as np
import pytest
from pymoo.core.problem import Problem

import pymoo.gradient.toolbox as anp

matplotlib.use("Agg")


def pytest_configure(config):
    # CI sets this so that the network tests cannot be skipped silently for want of torch.
    if os.environ.get("PMO_GRAD_REQUIRE_TORCH") == "1" and importlib.util.find_spec("torch") is None:
        raise pytest.UsageError("PMO_GRAD_REQUIRE_TORCH=1 but torch is not installed; install the torch extra")


class RecordingProblem(Problem):
    """Wraps a pymoo problem and records every point it is asked to evaluate."""

    def __init__(self, inner: Problem) -> None:
        super().__init__(n_var=inner.n_var, n_obj=inner.n_obj, xl=inner.xl, xu=inner.xu)
        self.inner = inner
        self.seen: list[np.ndarray] = []

    def _evaluate(self, x, out, *args, **kwargs):
        # Under autograd x is a traced box; record its value and let the inner problem trace on.
        self.seen.append(np.array(getattr(x, "_value", x), dtype=float, copy=True))
        self.inner._evaluate(x, out, *args, **kwargs)


class SmoothPair(Problem):
    """f1 = ‖x − a‖², f2 = ‖x + a‖² written with pymoo's gradient toolbox (autograd source)."""

    def __init__(self, n_var: int = 4) -> None:
        super().__init__(n_var=n_var, n_obj=2, xl=-2.0, xu=2.0)
        self.a = np.full(n_var, 0.5)

    def _evaluate(self, x, out, *args, **kwargs):
        out["F"] = anp.column_stack([anp.sum((x - self.a) ** 2, axis=1), anp.sum((x + self.a) ** 2, axis=1)])


@pytest.fixture
def smooth_pair() -> SmoothPair:
    return SmoothPair()
