"""Command line: ``pmo-grad compare`` (also ``python -m pmo_grad compare``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pmo_grad import compare


def _names(text: str) -> list[str]:
    """Split a comma list into lower-case names, ignoring empty entries."""
    return [part.strip().lower() for part in text.split(",") if part.strip()]


def _seeds(text: str) -> list[int]:
    """Parse seeds given as a comma list ("1,2,3") or an inclusive range ("1-5")."""
    seeds: list[int] = []
    for part in _names(text):
        try:
            if "-" in part[1:]:
                first, last = (int(v) for v in part.split("-", 1))
                if last < first:
                    raise argparse.ArgumentTypeError(f"invalid seed range {part!r}: the end must not be below the start")
                seeds.extend(range(first, last + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid seed list {text!r}: use integers like 1,2,3 or a range like 1-5")
    if not seeds:
        raise argparse.ArgumentTypeError(f"invalid seed list {text!r}: give at least one integer seed")
    return seeds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pmo-grad", description="Gradient-based multi-objective optimization on pymoo.")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser(
        "compare",
        help="run gradient methods, NSGA-II and NSGA-III side by side on test problems",
        description="Run algorithms x problems x seeds; print one table per problem and write CSV, markdown and front plots.",
    )
    cmp.add_argument("--problems", type=_names, default=list(compare.DEFAULT_PROBLEMS),
                     help=f"comma-separated problems (default: {','.join(compare.DEFAULT_PROBLEMS)}; "
                          f"available: {','.join(compare.PROBLEMS)})")
    cmp.add_argument("--algorithms", type=_names, default=list(compare.DEFAULT_ALGORITHMS),
                     help=f"comma-separated algorithms (default: {','.join(compare.DEFAULT_ALGORITHMS)}; "
                          f"available: {','.join(compare.ALGORITHMS)}; pmtl is Pareto MTL, hv is "
                          "hypervolume gradient ascent)")
    cmp.add_argument("--seeds", type=_seeds, default=list(compare.DEFAULT_SEEDS),
                     help="seeds as a comma list or a range (default: 1,2,3)")
    cmp.add_argument("--pop-size", type=int, default=100, help="points per run (default: 100)")
    cmp.add_argument("--n-gen", type=int, default=None,
                     help="iterations for every algorithm (default: 300 for gradient methods, 200 for NSGA-II and NSGA-III)")
    cmp.add_argument("--out", type=Path, default=Path("compare-results"),
                     help="directory for runs.csv, summary.csv, summary.md and fronts_*.png (default: compare-results)")
    cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    compare_parser = parser._subparsers._group_actions[0].choices["compare"]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.pop_size < 1:
        compare_parser.error(f"--pop-size must be >= 1, got {args.pop_size}")
    if args.n_gen is not None and args.n_gen < 1:
        compare_parser.error(f"--n-gen must be >= 1, got {args.n_gen}")
    try:
        records = compare.run_comparison(
            args.problems, args.algorithms, args.seeds, args.pop_size, n_gen=args.n_gen, progress=not args.quiet
        )
    except ValueError as exc:
        compare_parser.error(str(exc))
    for problem in dict.fromkeys(r.problem for r in records):
        rows = compare.summarize(records, problem)
        print(compare.format_markdown(rows, problem, compare.PROBLEMS[problem].ref_point))
        print()
    written = compare.write_results(records, args.out)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
