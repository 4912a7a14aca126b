"""What ``vidcolor doctor`` reports about inference: the engine that would run, and the facts behind the choice."""

from __future__ import annotations

import importlib
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from vidcolor.engines.select import available_engines, choose_engine
from vidcolor.engines.tensorrt_engine import plan_cache_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineDoctor:
    """Structured facts; ``as_dict`` gives JSON-ready output for ``vidcolor doctor --json``."""

    engine: str
    device: str
    reason: str
    torch_version: str
    torch_cuda: str | None
    cudnn_version: int | None
    gpu_name: str | None
    compute_capability: str | None
    gpu_memory_gib: float | None
    tensorrt_version: str | None
    onnx_version: str | None
    onnxruntime_version: str | None
    onnxruntime_providers: list[str] = field(default_factory=list)
    engines: dict[str, str] = field(default_factory=dict)
    plan_cache: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _version(module: str) -> str | None:
    # Importing is the only reliable test: tensorrt ships under several distribution names.
    try:
        return str(importlib.import_module(module).__version__)
    except Exception as ex:  # a broken install raises anything at import; report it as absent
        log.debug("%s unavailable: %s", module, ex)
        return None


def engine_doctor(device: str = "auto", engine: str = "auto") -> EngineDoctor:
    """Which engine ``open_engine(device=, engine=)`` would pick and why, without building anything."""
    choice, dev, reason = choose_engine(device, engine)
    cuda = torch.cuda.is_available()
    gpu = dev if dev.type == "cuda" else (torch.device("cuda", 0) if cuda else None)
    providers: list[str] = []
    ort_version = _version("onnxruntime")
    if ort_version is not None:
        import onnxruntime

        providers = list(onnxruntime.get_available_providers())
    if gpu is not None:
        props = torch.cuda.get_device_properties(gpu)
        gpu_name, capability, memory = props.name, f"{props.major}.{props.minor}", round(props.total_memory / 2**30, 1)
    else:
        gpu_name = capability = memory = None
    return EngineDoctor(
        engine=choice,
        device=str(dev),
        reason=reason,
        torch_version=torch.__version__,
        torch_cuda=torch.version.cuda,
        cudnn_version=torch.backends.cudnn.version() if cuda else None,
        gpu_name=gpu_name,
        compute_capability=capability,
        gpu_memory_gib=memory,
        tensorrt_version=_version("tensorrt"),
        onnx_version=_version("onnx"),
        onnxruntime_version=ort_version,
        onnxruntime_providers=providers,
        engines=available_engines(),
        plan_cache=str(plan_cache_dir()),
    )
