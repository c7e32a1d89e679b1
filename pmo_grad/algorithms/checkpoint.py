"""Checkpoints of network runs: save every few generations, resume in a new process.

A checkpoint contains everything a run's future depends on: the model's parameters and buffers,
the optimizer (and loss-scaler) state, the weight schedule's state, the estimator's state
(the recursive estimator's running estimate and previous point), the counters, and both random
generators (the algorithm's numpy generator and the torch generator of forward seeds). A run of
10 generations resumed for 10 more therefore equals a run of 20, bit for bit, on the same
machine and torch build.

In a data-parallel run every rank holds the same state, so rank 0 alone writes the file, and
a run resumes from it on any number of ranks (rank 0 reads it and sends it to the others).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


class Checkpoint:
    """Checkpoint settings of a run: the file, the save interval, and whether to resume from the file.

    Parameters
    ----------
    path:
        File to write (with ``torch.save``); a temporary file is written first and renamed, so a
        crash while saving leaves the previous checkpoint intact.
    every:
        Save after every this many generations; the run also saves when it ends.
    resume:
        If ``path`` exists when the run starts, continue from it instead of starting afresh.

    Give the same problem (same model architecture and data) and the same algorithm settings
    when resuming; the termination may differ (for example a larger ``n_gen``).
    """

    def __init__(self, path: str | os.PathLike, every: int = 10, resume: bool = True) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an integer >= 1 (generations between saves), got {every!r}")
        self.path = Path(path)
        self.every = every
        self.resume = bool(resume)

    def save(self, state: dict[str, Any]) -> None:
        import torch

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        torch.save({"format": FORMAT_VERSION, **state}, tmp)
        os.replace(tmp, self.path)
        logger.debug("checkpoint saved to %s", self.path)

    def load(self, device: Any = "cpu") -> dict[str, Any] | None:
        """Return the saved state with its tensors on ``device``, or None when there is nothing to resume from.

        The file is unpickled, because it contains numpy arrays and the schedule's state besides
        tensors, so load only checkpoints you wrote yourself.
        """
        if not self.resume or not self.path.exists():
            return None
        import torch

        state = torch.load(self.path, map_location=device, weights_only=False)
        self.check_format(state)
        return state

    def read_bytes(self) -> bytes | None:
        """Return the file's bytes, or None when there is nothing to resume from (for sending to other ranks)."""
        if not self.resume or not self.path.exists():
            return None
        return self.path.read_bytes()

    def check_format(self, state: dict[str, Any]) -> None:
        """Raise a ValueError unless ``state`` was written in the format this pmo_grad reads."""
        if state.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"checkpoint {self.path} has format {state.get('format')!r}; this pmo_grad reads format "
                f"{FORMAT_VERSION}. Start a new run with another path"
            )

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r}, every={self.every}, resume={self.resume})"
