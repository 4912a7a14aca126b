"""PyTorch back-end: float32 on the CPU, FP16 body on CUDA."""

from __future__ import annotations

import logging

import torch
from torch import nn

log = logging.getLogger(__name__)


class TorchEngine:
    """Eager PyTorch inference; on CUDA the body runs in FP16 with channels-last memory."""

    def __init__(self, network: nn.Module, *, device: torch.device, input_size: int, max_batch: int = 16) -> None:
        self.device = device
        self.input_size = input_size
        self.max_batch = max_batch
        self.half = device.type == "cuda"
        self.name = "torch-cuda-fp16" if self.half else f"torch-{device.type}-fp32"
        network = network.eval().to(device)
        if self.half:
            network = network.half().to(memory_format=torch.channels_last)
            torch.backends.cudnn.benchmark = True
        self.network = network

    @torch.inference_mode()
    def __call__(self, l_batch: torch.Tensor) -> torch.Tensor:
        x = l_batch.to(self.device, non_blocking=True)
        if self.half:
            x = x.half().contiguous(memory_format=torch.channels_last)
        return self.network(x)

    def describe(self) -> str:
        threads = f", {torch.get_num_threads()} threads" if self.device.type == "cpu" else ""
        return f"{self.name} on {self.device}{threads}"
