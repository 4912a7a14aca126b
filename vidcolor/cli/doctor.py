"""`vidcolor doctor`: what this machine can run, and which engine and model `run` would pick."""

from __future__ import annotations

import platform

import av
import torch
from rich.console import Console

from vidcolor.engines.select import available_engines
from vidcolor.models.loading import has_local_weights


def doctor() -> None:
    """Report versions, GPUs, engines and local weights."""
    console = Console()
    console.print(f"python {platform.python_version()}, torch {torch.__version__}, PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info})")
    engines = available_engines()
    chosen = next(name for name, why in engines.items() if why.startswith("ready"))
    for name, why in engines.items():
        mark = "->" if name == chosen else "  "
        console.print(f"{mark} {name}: {why}")
    model = "eccv16" if has_local_weights("eccv16") else "lite"
    console.print(f"model for --model auto: {model}" + ("" if model == "eccv16" else " (ECCV16 weights not found locally)"))
