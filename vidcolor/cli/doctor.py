"""`vidcolor doctor`: what this machine can run, and which engine and model `run` would pick."""

from __future__ import annotations

import json
import platform
from typing import Annotated

import typer
from rich.console import Console

from vidcolor.cli.options import DeviceOpt, EngineOpt


def doctor(
    device: DeviceOpt = "auto",
    engine: EngineOpt = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Report versions, GPUs, engines and local weights, and which engine and model `run` would use."""
    import av

    from vidcolor.engines.doctor import engine_doctor
    from vidcolor.models.loading import has_local_weights

    report = engine_doctor(device=device, engine=engine)
    model = "eccv16" if has_local_weights("eccv16") else "lite"
    if as_json:
        typer.echo(json.dumps({**report.as_dict(), "model": model, "pyav": av.__version__}, indent=2))
        return
    console = Console()
    console.print(f"python {platform.python_version()}, torch {report.torch_version}, PyAV {av.__version__}")
    if report.gpu_name:
        console.print(f"GPU {report.gpu_name} (compute {report.compute_capability}, {report.gpu_memory_gib:.0f} GiB)")
    for name, why in report.engines.items():
        console.print(f"{'->' if name == report.engine else '  '} {name}: {why}")
    console.print(f"engine for `run`: {report.engine} on {report.device} ({report.reason})")
    console.print(f"model for --model auto: {model}" + ("" if model == "eccv16" else " (ECCV16 weights not found locally)"))
