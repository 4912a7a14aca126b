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
from vidcolor.errors import UsageError
from vidcolor.reference.spec import RefTime, parse_time

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
    at: Annotated[list[str] | None, typer.Option(
        "--at", metavar="TIME", show_default=False,
        help="Show the picture at TIME (seconds, HH:MM:SS[.mmm], or #FRAME: the picture's number, a scan's still "
             "number) instead of pictures spread over the film. Repeatable.")] = None,
    save_keyframes: Annotated[Path | None, typer.Option(
        "--save-keyframes", metavar="DIR", file_okay=False, show_default=False,
        help="Also write each coloured picture at full size into DIR, as a PNG named by its time: touch it up "
             "in an image editor, then `vidcolor run --references DIR` carries it through its shot.")] = None,
) -> None:
    """Render a contact sheet (grey | colour) in seconds, to judge settings before a long run."""
    from vidcolor.pipeline import ColorizeOptions
    from vidcolor.pipeline.preview import preview as render_preview

    times = [_place(text) for text in at or []]
    options = ColorizeOptions(model=model, weights=weights, device=device, engine=engine, temperature=temperature,
                              render_size=render_size, colour_gain=colour_gain, neutral_shadows=neutral_shadows,
                              overwrite=overwrite, random_seed=random_weights, references=reference_specs(reference, references))
    result = render_preview(input, output, options, frames=frames, times=times, save_keyframes=save_keyframes)
    log.info("wrote %s: %d pictures in %.1f s (%s)", result.output, len(result.times), result.seconds, result.model)
    if result.keyframes:
        log.info("wrote %d keyframes into %s; after touching them up: vidcolor run %s --references %s",
                 len(result.keyframes), save_keyframes, input, save_keyframes)


def _place(text: str) -> RefTime:
    try:
        return parse_time(text)
    except UsageError:
        raise UsageError(f"--at {text}: not seconds (12.5), HH:MM:SS[.mmm] or #FRAME") from None
