import csv
import subprocess
import sys

import numpy as np
import pytest

from pmo_grad import cli, compare


def test_compare_writes_tables_and_fronts(tmp_path, capsys):
    out = tmp_path / "results"
    code = cli.main(["compare", "--problems", "quadratic,zdt1", "--algorithms", "psmgd,nsga2",
                     "--seeds", "1-2", "--pop-size", "12", "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "### quadratic" in printed
    assert "### zdt1" in printed
    assert "| psmgd |" in printed
    assert "| nsga2 |" in printed
    for name in ("runs.csv", "summary.csv", "summary.md", "fronts_quadratic.png", "fronts_zdt1.png"):
        assert (out / name).stat().st_size > 0
    with (out / "runs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 2 * 2
    assert {r["seed"] for r in rows} == {"1", "2"}
    for r in rows:
        assert 0.0 < float(r["hv_percent"]) <= 100.0 + 1e-9


def test_hv_percent_uses_the_exact_true_hypervolume():
    record = compare.run_one("quadratic", "mgda", seed=1, pop_size=8)
    assert record.hv_percent == pytest.approx(100 * record.hv / (1.1 - 1 / 6 + 0.11))
    assert record.n_grad > 0
    assert record.front.shape[1] == 2


def test_runs_with_non_finite_front_do_not_score():
    bad = compare.RunRecord("zdt1", "x", 1, float("nan"), float("nan"), float("nan"), 1.0, 10, 0, 1,
                            np.array([[np.nan, 1.0]]))
    good = compare.RunRecord("zdt1", "x", 2, 0.8, 91.0, 0.01, 1.0, 10, 0, 1, np.array([[0.5, 0.5]]))
    (row,) = compare.summarize([bad, good], "zdt1")
    assert row["runs"] == 2
    assert row["failed"] == 1
    assert row["hv"] == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "--algorithms", "nsga9"], "unknown algorithm(s) 'nsga9'"),
        (["compare", "--problems", "zdt7"], "unknown problem(s) 'zdt7'"),
        (["compare", "--seeds", "one"], "invalid seed list 'one'"),
        (["compare", "--pop-size", "0"], "--pop-size must be >= 1"),
    ],
)
def test_cli_rejects_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_module_entry_point_prints_help():
    result = subprocess.run([sys.executable, "-m", "pmo_grad", "compare", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "--algorithms" in result.stdout
    assert "--seeds" in result.stdout


def test_compare_runs_spreading_methods(tmp_path, capsys):
    out = tmp_path / "spread"
    code = cli.main(["compare", "--problems", "quadratic,zdt3", "--algorithms", "epo,pmtl,tchebycheff,pbi,hv,nsga3",
                     "--seeds", "1", "--pop-size", "6", "--n-gen", "15", "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("epo", "pmtl", "tchebycheff", "pbi", "hv", "nsga3"):
        assert f"| {name} |" in printed
    with (out / "runs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 6
    assert all(np.isfinite(float(r["hv"])) for r in rows)


def test_help_lists_new_algorithms(capsys):
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    text = capsys.readouterr().out
    for name in ("epo", "pmtl", "tchebycheff", "pbi", "hv", "nsga3"):
        assert name in text


@pytest.mark.parametrize(("n_obj", "pop_size", "expected"), [(2, 100, 100), (3, 100, 91), (3, 10, 10), (3, 2, 3)])
def test_nsga3_directions_fit_population(n_obj, pop_size, expected):
    directions = compare.nsga3_directions(n_obj, pop_size)
    assert directions.shape == (expected, n_obj)
    np.testing.assert_allclose(directions.sum(axis=1), 1.0)


def test_argument_errors_print_on_rank_zero_only(monkeypatch, capsys):
    from pmo_grad.cli import main

    monkeypatch.setenv("RANK", "1")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data", "no-such-data-set"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ""
