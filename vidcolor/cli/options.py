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
ColourGainOpt = Annotated[
    float | None,
    typer.Option("--colour-gain", min=0.1, max=4.0, help="Strength of the colour: ab multiplied by this (model default, 1, "
                 "when unset). Below 1 mutes, above 1 strengthens; unsure pixels stay near grey either way, "
                 "and lite.v4 applies a gain above 1 from L* 40, in full from L* 60, so it does not redden shadows."),
]
NeutralShadowsOpt = Annotated[
    str | None,
    typer.Option("--neutral-shadows", metavar="LOW[:HIGH]", show_default=False,
                 help="Keep the shadows grey: no colour below L* LOW, full colour from HIGH (default LOW+15). "
                 "30:45 turns dark clothes the network paints maroon-brown black; it greys whatever else is "
                 "that dark too (a shaded lawn, a night scene)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, warnings and errors only.")]
SeedOpt = Annotated[
    int | None, typer.Option("--random-weights", hidden=True, help="Seeded random weights (testing only).")
]
ReferenceOpt = Annotated[
    list[str] | None,
    typer.Option("--reference", metavar="IMAGE[@TIME]", help="Colour reference IMAGE (a palette for the whole film) or IMAGE@TIME (a keyframe: "
                 "that picture coloured; TIME in seconds, HH:MM:SS[.mmm] or #FRAME). Repeatable.", show_default=False),
]
ReferencesDirOpt = Annotated[
    Path | None,
    typer.Option("--references", help="Folder of keyframes named by time or frame (12.5.png, 00_01_02.5.png, #120.png).",
                 file_okay=False, show_default=False),
]


def reference_specs(references: list[str] | None, folder: Path | None) -> tuple:
    """``--reference`` values and the images of ``--references DIR``, parsed (torch-free)."""
    from vidcolor.reference.spec import parse_reference, references_in_dir

    specs = [parse_reference(r) for r in references or []]
    if folder is not None:
        specs.extend(references_in_dir(folder))
    return tuple(specs)
