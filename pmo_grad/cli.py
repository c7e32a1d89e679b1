"""Command line: ``pmo-grad compare`` and ``pmo-grad train`` (also ``python -m pmo_grad ...``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pmo_grad import compare, train
from pmo_grad.launch import launch_rank


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


class _RankZeroParser(argparse.ArgumentParser):
    """An argument parser whose errors are printed by rank 0 alone under torchrun (all ranks exit with 2)."""

    def error(self, message: str):
        if launch_rank() != 0:
            raise SystemExit(2)
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _RankZeroParser(prog="pmo-grad", description="Gradient-based multi-objective optimization on pymoo.")
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
    _add_train_parser(sub)
    return parser


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid layer widths {text!r}: use integers like 64,64")
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"invalid layer widths {text!r}: give one or more integers >= 1")
    return widths


def _add_train_parser(sub) -> None:
    run = sub.add_parser(
        "train",
        help="train a multi-task network on a shipped data set, alone or under torchrun",
        description="Train a multi-task network with a gradient method. Under `torchrun --nproc_per_node=K` the "
                    "K processes train data-parallel; rank 0 prints and writes validation.json, validation.csv "
                    "and parameters.pt.",
    )

    run.add_argument("--data", choices=train.DATASETS, default="multidigits", help="data set (default: multidigits)")
    run.add_argument("--algorithm", choices=train.ALGORITHMS, default="psmgd", help="method (default: psmgd)")
    run.add_argument("--q", type=int, default=None,
                     help="weight period of psmgd and psmgd-vr, refresh period of stimulus "
                          "(default: 5 for psmgd, ceil(sqrt(n)) for the others)")
    run.add_argument("--batch-size", type=int, default=64, help="global batch in samples, split among the ranks (default: 64)")
    run.add_argument("--micro-batch-size", type=int, default=None,
                     help="maximum samples in one forward pass on one rank (default: the rank's whole shard)")
    run.add_argument("--n-gen", type=int, default=200, help="generations; the first evaluates, each other one is a step (default: 200)")
    run.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: 1e-3)")
    run.add_argument("--optimizer", choices=train.OPTIMIZERS, default="adam", help="torch optimizer (default: adam)")

    run.add_argument("--seed", type=int, default=1, help="seed of the sampling and of the model's initialization (default: 1)")
    run.add_argument("--device", choices=train.DEVICES, default="auto",
                     help="cpu, cuda (one GPU per process under torchrun) or auto (cuda when available)")
    run.add_argument("--engine", choices=train.ENGINES, default="auto",
                     help="per-task gradient engine (default: auto, batched on a GPU and loop elsewhere)")
    run.add_argument("--task-parallel", action="store_true",
                     help="on refresh steps, split the tasks among the ranks instead of the samples")
    run.add_argument("--hidden", type=_widths, default=None, help="hidden layer widths, e.g. 64,64 (default: per data set)")

    run.add_argument("--eval-every", type=int, default=None,
                     help="evaluate the validation losses every N generations (default: at the start and the end)")
    run.add_argument("--checkpoint", type=Path, default=None,
                     help="checkpoint file, written by rank 0 and resumed from when it exists (default: none)")
    run.add_argument("--checkpoint-every", type=int, default=10, help="generations between checkpoints (default: 10)")
    run.add_argument("--collective-timeout", type=float, default=600.0,
                     help="seconds a collective waits for a rank that stopped without reporting (default: 600)")
    run.add_argument("--out", type=Path, default=Path("train-results"), help="output directory (default: train-results)")
    run.add_argument("--quiet", action="store_true", help="no per-generation display")


def _train(args: argparse.Namespace, train_parser: argparse.ArgumentParser) -> int:
    train.configure_logging()
    settings = train.TrainSettings(
        data=args.data, algorithm=args.algorithm, q=args.q, batch_size=args.batch_size,
        micro_batch_size=args.micro_batch_size, n_gen=args.n_gen, lr=args.lr, optimizer=args.optimizer,
        seed=args.seed, device=args.device, engine=args.engine, task_parallel=args.task_parallel,
        hidden=args.hidden, eval_every=args.eval_every, checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every, out=args.out, collective_timeout=args.collective_timeout,
        verbose=not args.quiet,
    )
    try:
        return train.run(settings)
    except ValueError as exc:
        train_parser.error(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        return _train(args, parser._subparsers._group_actions[0].choices["train"])
    if launch_rank() != 0:
        return 0  # under torchrun the comparison runs on rank 0 alone; the other ranks have nothing to do
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
