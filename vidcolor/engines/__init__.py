"""Inference back-ends behind one interface, chosen best first: TensorRT, PyTorch CUDA FP16, PyTorch CPU.

The names below are imported on first use, so that the torch-free modules here
(``profiles``, ``hardware``) serve the CLI without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidcolor._lazy import lazy_exports

if TYPE_CHECKING:
    from vidcolor.engines.base import Engine
    from vidcolor.engines.select import available_engines, open_engine

__getattr__, __dir__ = lazy_exports(__name__, {
    "Engine": "vidcolor.engines.base",
    "available_engines": "vidcolor.engines.select",
    "open_engine": "vidcolor.engines.select",
})

__all__ = ["Engine", "available_engines", "open_engine"]
