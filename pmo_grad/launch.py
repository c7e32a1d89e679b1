"""Rank and rendezvous settings that a launcher such as ``torchrun`` puts in a process's environment.

``torchrun --nproc_per_node=K`` starts K processes and sets, in each, ``RANK`` (0 … world
size − 1), ``LOCAL_RANK`` (the process's index on its node), ``WORLD_SIZE`` and the rendezvous
address ``MASTER_ADDR``:``MASTER_PORT``. Reading them needs no torch, so the command line can
decide what a rank does before anything heavy is imported.
"""

from __future__ import annotations

import os

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _integer(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ValueError(f"the environment variable {name} must be an integer, got {value!r}") from error


def launch_rank() -> int:
    """Return the global rank in ``RANK``, 0 when the variable is unset."""
    return _integer("RANK", 0)


def local_rank() -> int:
    """Return the process's index on its node from ``LOCAL_RANK``, 0 when the variable is unset."""
    return _integer("LOCAL_RANK", 0)


def launched_by_torchrun() -> bool:
    """Tell whether ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` are all set, as torchrun sets them."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)
