"""Tests of the user guide: the generated API reference is current, links resolve, examples run."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from pymoo.problems import get_problem

REPOSITORY = Path(__file__).resolve().parents[1]
GUIDE = REPOSITORY / "docs" / "guide"
GUIDE_PAGES = sorted(GUIDE.glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def load_tool(name: str):
    """Import a script of docs/tools as a module."""
    path = REPOSITORY / "docs" / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_current():
    reference = load_tool("make_api_reference")
    committed = (GUIDE / "api.md").read_text(encoding="utf-8")
    assert reference.render() == committed, (
        "docs/guide/api.md is out of date; run python docs/tools/make_api_reference.py"
    )


def test_api_reference_lists_every_export():
    reference = load_tool("make_api_reference")
    text = (GUIDE / "api.md").read_text(encoding="utf-8")
    for _, module_name in reference.SECTIONS:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert f"### `{name}`" in text, f"{module_name}.{name} is missing from docs/guide/api.md"


def test_docstring_conversion_of_sections():
    reference = load_tool("make_api_reference")
    doc = (
        "Summary with ``code`` and :class:`Thing`.\n\n"
        "    x = a + b\n\n"
        "Parameters\n----------\n"
        "alpha:\n    First line\n    second line.\n"
        "beta, gamma:\n    Both.\n\n"
        "Raises:\n    ValueError: when bad.\n"
    )
    markdown = reference.docstring_to_markdown(doc)
    assert "Summary with `code` and `Thing`." in markdown
    assert "\n\n    x = a + b\n" in markdown
    assert "**Parameters**" in markdown
    assert "- `alpha`: First line second line." in markdown
    assert "- `beta`, `gamma`: Both." in markdown
    assert "- `ValueError`: when bad." in markdown


@pytest.mark.parametrize("path", [REPOSITORY / "README.md", *GUIDE_PAGES], ids=lambda p: p.name)
def test_relative_links_resolve(path):
    text = path.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        assert (path.parent / target).exists(), f"{path.name} links to {target}, which does not exist"


def test_readme_links_guide_and_shows_figure():
    text = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    assert "](docs/guide/index.md)" in text
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert figures, "the README shows no figure"
    for figure in figures:
        assert (REPOSITORY / figure).stat().st_size > 10_000


@pytest.mark.parametrize("path", [p for p in GUIDE_PAGES if p.name != "api.md"], ids=lambda p: p.name)
def test_guide_examples_run(path, tmp_path, monkeypatch):
    blocks = PYTHON_BLOCK.findall(path.read_text(encoding="utf-8"))
    assert blocks, f"{path.name} has no python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"guide_{path.stem}"}
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{path.name} block {index}", "exec"), namespace)
        finally:
            plt.close("all")


@pytest.mark.parametrize(
    "name, kwargs, outcome",
    [
        ("zdt1", {}, "usable: gradients from the autograd source"),
        ("dtlz7", {}, "usable: gradients from the autograd source"),
        ("kursawe", {}, "usable: gradients from the autograd source"),
        ("bnh", {}, "rejected at setup: constrained"),
        ("mw1", {}, "rejected at setup: written in plain numpy"),
        ("df1", {}, "rejected at setup: written in plain numpy"),
        ("zdt5", {}, "rejected at setup: problem ZDT5 has binary variables, so it has no gradient"),
        ("wfg1", {"n_var": 6, "n_obj": 2}, "rejected at the first Jacobian: automatic differentiation fails with TypeError"),
        ("zcat1", {}, "rejected at the first Jacobian: automatic differentiation fails with ValueError"),
    ],
)
def test_problem_survey_rows(name, kwargs, outcome):
    survey = load_tool("survey_problem_gradients")
    assert survey.classify(get_problem(name, **kwargs)) == outcome
