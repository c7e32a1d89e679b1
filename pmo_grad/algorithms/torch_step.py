"""Steps on networks: a ``torch.optim`` optimizer applies the direction as the parameters' gradient."""

from __future__ import annotations

from typing import Any, Callable

from pmo_grad.algorithms.step_rules import ConstantStep, DecayingStep

OptimizerFactory = Callable[..., Any]


class TorchOptimizer:
    """Apply each step's direction d with a torch optimizer: θ.grad ← d, then ``optimizer.step()``.

    Parameters
    ----------
    optimizer:
        A ``torch.optim.Optimizer`` class (or any callable ``(params, **options)`` returning
        one); ``torch.optim.Adam`` when None.
    **options:
        Passed to the optimizer, for example ``lr=1e-3``. Adam's default learning rate in
        pmo_grad is 1e-3.

    The optimizer is built once per run, on the trainable parameters of the network.
    """

    def __init__(self, optimizer: OptimizerFactory | None = None, **options: Any) -> None:
        if optimizer is not None and not callable(optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer class or a callable, got {optimizer!r}")
        self.optimizer = optimizer
        self.options = dict(options)
        self.scheduler_power: float | None = None

    def make(self, params) -> Any:
        """Return the optimizer on ``params`` and, for a decaying step, its learning-rate scheduler."""
        import torch

        factory = self.optimizer if self.optimizer is not None else torch.optim.Adam
        options = self.options if self.optimizer is not None or self.options else {"lr": 1e-3}
        try:
            optimizer = factory(params, **options)
        except TypeError as error:
            raise TypeError(f"could not build the optimizer {factory!r} with options {options}: {error}") from error
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{factory!r} returned a {type(optimizer).__name__}, not a torch.optim.Optimizer")
        scheduler = None
        if self.scheduler_power is not None:
            power = self.scheduler_power
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: (t + 1.0) ** (-power))
        return optimizer, scheduler

    def __repr__(self) -> str:
        name = getattr(self.optimizer, "__name__", "Adam") if self.optimizer is not None else "Adam"
        options = self.options if self.optimizer is not None or self.options else {"lr": 1e-3}
        return f"TorchOptimizer({name}, {options})"


def torch_step(step: Any) -> TorchOptimizer:
    """Return the torch optimizer that applies ``step`` on a network.

    ``None`` gives Adam (lr 1e-3), ``ConstantStep(η)`` plain SGD with learning rate η, and
    ``DecayingStep(η, p)`` SGD with learning rate η (t + 1)^(−p).
    """
    if step is None:
        return TorchOptimizer()
    if isinstance(step, TorchOptimizer):
        return step
    import torch

    if isinstance(step, ConstantStep):
        return TorchOptimizer(torch.optim.SGD, lr=step.lr)
    if isinstance(step, DecayingStep):
        out = TorchOptimizer(torch.optim.SGD, lr=step.lr)
        out.scheduler_power = step.power
        return out
    raise TypeError(
        f"step {step!r} cannot train a network; use TorchOptimizer(torch.optim.Adam, lr=1e-3), "
        "ConstantStep(lr) (plain SGD) or DecayingStep(lr, power)"
    )
