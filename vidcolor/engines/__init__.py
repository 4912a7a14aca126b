"""Inference back-ends behind one interface, chosen best first: TensorRT, PyTorch CUDA FP16, PyTorch CPU."""

from vidcolor.engines.base import Engine
from vidcolor.engines.select import available_engines, open_engine

__all__ = ["Engine", "available_engines", "open_engine"]
