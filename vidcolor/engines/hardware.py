"""What this machine can offer the engines, found without importing torch (``vidcolor probe``)."""

from __future__ import annotations

import os
import sys

CPU_ENGINE = "torch-cpu-fp32"
"""The back-end ``run`` falls back to: PyTorch on the CPU, FP32."""

# Device nodes a GPU runtime opens: the NVIDIA driver's control node (also what the NVIDIA
# container runtime passes into a container), ROCm's kernel fusion driver (ROCm builds of
# torch report their GPUs through torch.cuda), and WSL 2's GPU paravirtualisation.
_GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/kfd", "/dev/dxg")


def gpu_possible() -> bool:
    """Whether torch might see a CUDA GPU here; False only where it certainly sees none.

    Importing torch to ask costs seconds. Where no GPU runtime can work (no device node
    for one on Linux, or macOS, for which torch has no CUDA build) the answer is known
    without it; True means: ask ``torch.cuda.is_available()``.
    """
    if sys.platform == "darwin":
        return False
    if sys.platform.startswith("linux"):
        return any(os.path.exists(node) for node in _GPU_DEVICE_NODES)
    return True
