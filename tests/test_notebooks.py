"""Run every notebook in notebooks/ top to bottom in a fresh Jupyter kernel; any cell error fails.

The kernel is ipykernel in the interpreter that runs the tests, under the kernel name the
notebooks ask for (python3), with this checkout's package first on PYTHONPATH. So the
notebooks test the code next to them, whichever pmo_grad is installed elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest

import pmo_grad

try:
    import nbformat
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    from traitlets import default
except ImportError as error:  # pragma: no cover - only without the test extra
    raise ImportError(
        f"the notebook tests need nbclient, nbformat and ipykernel ({error}); "
        "install them with: pip install -e '.[test]'"
    ) from error

REPOSITORY = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPOSITORY / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "python3"

# Hang guards, not speed targets: each notebook runs in well under two minutes on two cores.
CELL_TIMEOUT_S = 240
NOTEBOOK_TIMEOUT_S = 400


class CurrentInterpreterKernelSpecs(KernelSpecManager):
    """Resolve the kernel name python3 to ipykernel in the interpreter that runs the tests."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != KERNEL_NAME:
            raise NoSuchKernel(kernel_name)
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python 3 ({sys.executable})",
            language="python",
        )


class CurrentInterpreterKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, with kernel specs from :class:`CurrentInterpreterKernelSpecs`."""

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return CurrentInterpreterKernelSpecs()


def kernel_environment() -> dict[str, str]:
    """Return the environment of the kernel: this checkout first on PYTHONPATH, Jupyter's plot backend."""
    env = dict(os.environ)
    package_root = str(Path(pmo_grad.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    # Leave the backend to ipykernel (inline), as in Jupyter, whatever the test process uses.
    env.pop("MPLBACKEND", None)
    return env


def test_notebooks_are_present():
    names = {path.name for path in NOTEBOOKS}
    assert {"01_quickstart.ipynb", "02_periodic_weights.ipynb", "03_stochastic.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == KERNEL_NAME
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            hint = "clear all outputs before committing (in Jupyter: Edit > Clear Outputs of All Cells, then save)"
            assert cell.outputs == [], f"{path.name}: cell {index} has stored outputs; {hint}"
            assert cell.execution_count is None, f"{path.name}: cell {index} has an execution count; {hint}"


@pytest.mark.timeout(NOTEBOOK_TIMEOUT_S)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        kernel_manager_class=CurrentInterpreterKernelManager,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.reset_execution_trackers()
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(client.setup_kernel(env=kernel_environment()))
        except Exception as error:
            pytest.fail(
                f"could not start the {KERNEL_NAME} kernel ({sys.executable} -m ipykernel_launcher) for "
                f"{path.name}: {type(error).__name__}: {error}. Install the test extra with "
                "pip install -e '.[test]', which brings ipykernel.",
                pytrace=False,
            )
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except CellTimeoutError:
                pytest.fail(f"{path.name}: cell {index} ran longer than {CELL_TIMEOUT_S} s", pytrace=False)
            except CellExecutionError as error:
                pytest.fail(f"{path.name}: cell {index} raised an error:\n{error}", pytrace=False)

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code cell"
    errors = [o for cell in code_cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    figures = [o for cell in code_cells for o in cell.outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} drew no figure"
