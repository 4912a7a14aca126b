"""Pick the best back-end this machine can run, and say why."""

from __future__ import annotations

import importlib.util
import logging

import torch

from vidcolor.engines.base import Engine
from vidcolor.engines.hardware import CPU_ENGINE
from vidcolor.engines.torch_engine import TorchEngine
from vidcolor.errors import EngineError, UsageError
from vidcolor.models.loading import LoadedModel

log = logging.getLogger(__name__)

ENGINE_CHOICES = ("auto", "tensorrt", "torch")


def available_engines() -> dict[str, str]:
    """Back-end name to a reason it is or is not usable here."""
    cuda = torch.cuda.is_available()
    gpu = torch.cuda.get_device_name(0) if cuda else None
    trt = importlib.util.find_spec("tensorrt") is not None
    return {
        "tensorrt": f"ready on {gpu}" if (trt and cuda) else ("no CUDA GPU" if trt else "tensorrt is not installed"),
        "torch-cuda-fp16": f"ready on {gpu}" if cuda else "no CUDA GPU visible to torch",
        CPU_ENGINE: f"ready, {torch.get_num_threads()} threads",
    }


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as ex:
        raise UsageError(f"unknown device {device!r}; use auto, cpu or cuda[:N]") from ex
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda asked for, but torch sees no CUDA GPU; use --device cpu")
    return dev


def choose_engine(device: str = "auto", engine: str = "auto") -> tuple[str, torch.device, str]:
    """Which back-end ``open_engine`` tries first for these options, on which device, and why.

    Raises:
        UsageError: the options are unknown or contradict this machine.
    """
    if engine not in ENGINE_CHOICES:
        raise UsageError(f"unknown engine {engine!r}; use one of {', '.join(ENGINE_CHOICES)}")
    dev = resolve_device(device)
    trt = importlib.util.find_spec("tensorrt") is not None
    if engine == "tensorrt":
        if dev.type != "cuda":
            raise UsageError("--engine tensorrt needs a CUDA GPU")
        return "tensorrt", dev, "asked for with --engine tensorrt"
    if engine == "auto" and dev.type == "cuda" and trt:
        return "tensorrt", dev, "CUDA GPU and tensorrt present (falls back to torch-cuda-fp16 if the plan cannot be built)"
    if dev.type == "cuda":
        why = "asked for with --engine torch" if engine == "torch" else "CUDA GPU present, tensorrt is not installed"
        return "torch-cuda-fp16", dev, why
    why = "asked for with --device cpu" if device == "cpu" else "no CUDA GPU visible to torch"
    return f"torch-{dev.type}-fp32", dev, why


def open_engine(model: LoadedModel, *, device: str = "auto", engine: str = "auto", max_batch: int = 16) -> Engine:
    """The best engine for ``model`` on ``device``.

    ``auto`` tries TensorRT on a CUDA device when it imports and falls back to
    PyTorch with a logged warning if its build fails.
    """
    choice, dev, _ = choose_engine(device, engine)
    if choice == "tensorrt":
        try:
            from vidcolor.engines.tensorrt_engine import TensorRTEngine

            return TensorRTEngine.for_model(model, device=dev, max_batch=max_batch)
        except (ImportError, EngineError) as ex:
            if engine == "tensorrt":
                raise EngineError(f"TensorRT engine unavailable: {ex}") from ex
            log.warning("TensorRT engine unavailable (%s); using PyTorch CUDA FP16", ex)
    return TorchEngine(model.network, device=dev, input_size=model.input_size, max_batch=max_batch)
