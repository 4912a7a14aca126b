"""Options shared by several commands, declared once so their names and checks agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model name (see `vidcolor weights list`), or auto.")]
WeightsOpt = Annotated[Path | None, typer.Option("--weights", help="Local weights file for the model.", dir_okay=False)]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu or cuda[:N].")]
EngineOpt = Annotated[str, typer.Option("--engine", help="auto, torch or tensorrt.")]
BatchOpt = Annotated[int, typer.Option("--batch-size", "-b", min=1, max=1024, help="Frames per network call.")]
TemperatureOpt = Annotated[
    float | None,
    typer.Option("--temperature", "-t", min=0.01, max=10.0, help="Annealed-mean temperature (model default when unset)."),
]
RenderSizeOpt = Annotated[
    int | None,
    typer.Option("--render-size", help="Short side the network sees, a multiple of 32 (model default when unset): "
                 "larger is finer and slower, smaller faster."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, warnings and errors only.")]
SeedOpt = Annotated[
    int | None, typer.Option("--random-weights", hidden=True, help="Seeded random weights (testing only).")
]
