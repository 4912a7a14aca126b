"""`vidcolor run`: colourise a video or image."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from vidcolor.cli.options import (
    BatchOpt,
    DeviceOpt,
    EngineOpt,
    ModelOpt,
    QuietOpt,
    SeedOpt,
    TemperatureOpt,
    WeightsOpt,
)
from vidcolor.cli.progress import progress_bar
from vidcolor.errors import UsageError
from vidcolor.media.encode import CODECS, DEFAULT_CODEC, EncodeOptions
from vidcolor.media.image import is_image
from vidcolor.pipeline import ColorizeOptions, colorize
from vidcolor.pipeline.image import colorize_image

log = logging.getLogger("vidcolor")


def run(
    input: Annotated[Path, typer.Argument(help="Video or image to colourise.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the result.", show_default=False)],
    model: ModelOpt = "auto",
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    engine: EngineOpt = "auto",
    batch_size: BatchOpt = 8,
    temperature: TemperatureOpt = None,
    temporal: Annotated[str, typer.Option(help="Temporal smoothing: off, ema or flow.")] = "off",
    temporal_strength: Annotated[float, typer.Option(min=0.0, max=1.0, help="How much colour carries over between frames.")] = 0.5,
    codec: Annotated[str, typer.Option(help=f"Video codec: {', '.join(CODECS)}.")] = DEFAULT_CODEC,
    crf: Annotated[int, typer.Option(min=0, max=51, help="x264 quality (lower is better).")] = 16,
    preset: Annotated[str, typer.Option(help="x264 preset.")] = "medium",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
    on_error: Annotated[str, typer.Option(help="stop at an undecodable frame, or skip (conceal) it.")] = "stop",
    hwaccel: Annotated[str | None, typer.Option(help="Hardware decoding, e.g. cuda (NVDEC).")] = None,
    quiet: QuietOpt = False,
    random_weights: SeedOpt = None,
) -> None:
    """Colourise a black-and-white video (or image) into a new file."""
    if on_error not in ("stop", "skip"):
        raise UsageError(f"--on-error must be stop or skip, not {on_error!r}")
    options = ColorizeOptions(
        model=model,
        weights=weights,
        device=device,
        engine=engine,
        batch_size=batch_size,
        temperature=temperature,
        temporal=temporal,
        temporal_strength=temporal_strength,
        encode=EncodeOptions(codec=codec, crf=crf, preset=preset),
        overwrite=overwrite,
        on_error=on_error,
        hwaccel=hwaccel,
        random_seed=random_weights,
    )
    if is_image(input):
        result = colorize_image(input, output, options)
    else:
        with progress_bar(enabled=not quiet, label=input.name) as update:
            result = colorize(input, output, options, progress=update)
    log.info("wrote %s: %d frames in %.1f s (%.1f fps)", result.output, result.frames, result.seconds, result.fps)
    if result.concealed_frames:
        log.warning("%d frames could not be decoded and were concealed", result.concealed_frames)
