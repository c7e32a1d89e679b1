"""Mixed precision for network problems: autocast for the forward pass, and an optional loss scale."""

from __future__ import annotations

import contextlib

import torch


class MixedPrecision:
    """Run forward passes under ``torch.autocast`` and, optionally, scale the losses.

    The forward pass runs in ``dtype`` (bfloat16 or float16) where autocast allows it. The
    Gramian is still accumulated in float32 or wider. With a ``torch.amp.GradScaler``, every
    loss is multiplied by the scaler's current scale S before backward, and the Gramian is
    formed from the gradients divided by S. The step goes through ``scaler.step(optimizer)``
    and ``scaler.update()``, so a step whose scaled gradients overflow is skipped and S is
    lowered, as in ordinary mixed-precision training.

    Parameters
    ----------
    dtype:
        Autocast dtype, ``torch.bfloat16`` or ``torch.float16``.
    scaler:
        A ``torch.amp.GradScaler`` for float16 training; None for no loss scaling.
    """

    def __init__(self, dtype: torch.dtype = torch.bfloat16, scaler: "torch.amp.GradScaler | None" = None) -> None:
        if dtype not in (torch.bfloat16, torch.float16):
            raise ValueError(f"dtype must be torch.bfloat16 or torch.float16, got {dtype!r}")
        if scaler is not None and not isinstance(scaler, torch.amp.GradScaler):
            raise TypeError(f"scaler must be a torch.amp.GradScaler or None, got {type(scaler).__name__}")
        self.dtype = dtype
        self.scaler = scaler

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        return torch.autocast(device_type=device.type, dtype=self.dtype)

    def scale(self, device: torch.device) -> float:
        """Return the current loss scale S (1 without a scaler)."""
        if self.scaler is None or not self.scaler.is_enabled():
            return 1.0
        self.scaler.scale(torch.ones((), device=device))  # makes the scaler create its scale on the device
        return float(self.scaler.get_scale())

    def __repr__(self) -> str:
        return f"MixedPrecision(dtype={self.dtype}, scaler={'GradScaler' if self.scaler is not None else None})"
