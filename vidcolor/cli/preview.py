"""`vidcolor preview`: a sheet of pictures from across a film, grey beside colour."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from vidcolor.cli.options import (
    ColourGainOpt,
    DeviceOpt,
    EngineOpt,
    ModelOpt,
    NeutralShadowsOpt,
    ReferenceOpt,
    ReferencesDirOpt,
    RenderSizeOpt,
    SeedOpt,
    TemperatureOpt,
    WeightsOpt,
    reference_specs,
)
from vidcolor.defaults import DEFAULT_PREVIEW_FRAMES

log = logging.getLogger("vidcolor")


def preview(
    input: Annotated[Path, typer.Argument(help="Video to sample.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Image to write (.png or .jpg).", show_default=False)],
    frames: Annotated[int, typer.Option("--frames", "-n", min=1, max=64, help="Pictures from across the film.")] = DEFAULT_PREVIEW_FRAMES,
    model: ModelOpt = "auto",
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    engine: EngineOpt = "auto",
    temperature: TemperatureOpt = None,
    render_size: RenderSizeOpt = None,
    colour_gain: ColourGainOpt = None,
    neutral_shadows: NeutralShadowsOpt = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing image.")] = False,
    random_weights: SeedOpt = None,
    reference: ReferenceOpt = None,
    references: ReferencesDirOpt = None,
) -> None:
    """Render a contact sheet (grey | colour) in seconds, to judge settings before a long run."""
    from vidcolor.pipeline import ColorizeOptions
    from vidcolor.pipeline.preview import preview as render_preview

    options = ColorizeOptions(model=model, weights=weights, device=device, engine=engine, temperature=temperature,
                              render_size=render_size, colour_gain=colour_gain, neutral_shadows=neutral_shadows,
                              overwrite=overwrite, random_seed=random_weights, references=reference_specs(reference, references))
    result = render_preview(input, output, options, frames=frames)
    log.info("wrote %s: %d pictures in %.1f s (%s)", result.output, len(result.times), result.seconds, result.model)
