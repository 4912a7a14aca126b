"""The one interface every back-end implements: ``logits = engine(l_batch)``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Engine(Protocol):
    """Runs a colourisation network body.

    ``__call__`` takes L normalised as (L-50)/100, shape (B,1,S,S), on ``device``,
    and returns logits (B,313,S/4,S/4) on the same device (any float dtype; the
    caller applies softmax in float32).
    """

    name: str
    device: torch.device
    input_size: int
    max_batch: int

    def __call__(self, l_batch: torch.Tensor) -> torch.Tensor: ...

    def describe(self) -> str:
        """One line for logs and ``vidcolor doctor``: back-end, device, precision."""
        ...
