"""`vidcolor run`: colourise a video or image."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from vidcolor.cli.options import (
    BatchOpt,
    ColourGainOpt,
    DeviceOpt,
    EngineOpt,
    ModelOpt,
    NeutralShadowsOpt,
    QuietOpt,
    ReferenceOpt,
    ReferencesDirOpt,
    SeedOpt,
    RenderSizeOpt,
    TemperatureOpt,
    WeightsOpt,
    reference_specs,
)
from vidcolor.cli.progress import progress_bar
from vidcolor.defaults import CODECS, DEFAULT_CODEC, DEFAULT_MODE, DEFAULT_SEGMENT_SECONDS, DEFAULT_STRENGTH, TEMPORAL_MODES
from vidcolor.errors import MediaError
from vidcolor.errors import UsageError

if TYPE_CHECKING:
    from vidcolor.pipeline import ColorizeOptions
    from vidcolor.jobs import JobOptions
    from vidcolor.jobs.batch import BatchItem
    from vidcolor.jobs.segment import SegmentRunner
    from vidcolor.pipeline.colorize import ColorizeResult

log = logging.getLogger("vidcolor")


def run(
    input: Annotated[Path, typer.Argument(help="Video or image to colourise, a folder of videos, or an image sequence "
                                               "(scans/%06d.dpx, or a folder of numbered stills).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the result (a folder for a folder of videos; "
                                                                 "out/%06d.dpx for numbered stills).", show_default=False)],
    model: ModelOpt = "auto",
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    engine: EngineOpt = "auto",
    batch_size: BatchOpt = 8,
    temperature: TemperatureOpt = None,
    render_size: RenderSizeOpt = None,
    colour_gain: ColourGainOpt = None,
    neutral_shadows: NeutralShadowsOpt = None,
    temporal: Annotated[str, typer.Option(help=f"Temporal smoothing: {', '.join(TEMPORAL_MODES)}.")] = DEFAULT_MODE,
    temporal_strength: Annotated[float, typer.Option(min=0.0, max=0.99, help="How much colour carries over between frames (0 = none).")] = DEFAULT_STRENGTH,
    codec: Annotated[str, typer.Option(help=f"Video codec: {', '.join(CODECS)}.")] = DEFAULT_CODEC,
    crf: Annotated[int, typer.Option(min=0, max=51, help="x264 quality (lower is better).")] = 16,
    preset: Annotated[str, typer.Option(help="x264 preset.")] = "medium",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
    on_error: Annotated[str, typer.Option(help="stop at an undecodable frame, or skip (conceal) it.")] = "stop",
    hwaccel: Annotated[str | None, typer.Option(help="Hardware decoding, e.g. cuda (NVDEC).")] = None,
    quiet: QuietOpt = False,
    random_weights: SeedOpt = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="With a folder: include its sub-folders.")] = False,
    segment_seconds: Annotated[float | None, typer.Option(min=0.0, help=f"Split into segments of about this length (default: {DEFAULT_SEGMENT_SECONDS:g} s or more, keeping the overhead under 2 %; films longer than that are split); 0 never splits.", show_default=False)] = None,
    split: Annotated[bool | None, typer.Option("--split/--no-split", help="Force a resumable split job, or a single pass (default: split films longer than one segment).", show_default=False)] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Folder for finished segments (default: hidden, beside the output).", file_okay=False)] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue an interrupted job from its finished segments.")] = True,
    cluster: Annotated[str | None, typer.Option(help="Run segments on Ray: local, or ray://HOST:PORT.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Ray workers (default: one per GPU, else one per 2 CPU cores).")] = None,
    reference: ReferenceOpt = None,
    references: ReferencesDirOpt = None,
    fps: Annotated[float | None, typer.Option(help="Frame rate of an image sequence input (default 24; 23.976 is 24000/1001).", show_default=False)] = None,
) -> None:
    """Colourise a black-and-white video (or image, or folder of videos, or image sequence) into a new file.

    A folder whose files are all stills (.dpx .tif .tiff .png .exr .jpg .jpeg .bmp) named one
    prefix + frame number + one suffix, of one picture size, is one film (an image sequence);
    a folder of videos is a batch. A sequence may go to a video file or to numbered stills
    (-o out/%06d.dpx: same numbering, same bit depth where the format has it).
    """
    # torch, OpenCV and the pipeline load here, not at start-up, so `--help` and `probe` stay fast
    from vidcolor.media.encode import EncodeOptions
    from vidcolor.media.image import is_image
    from vidcolor.media.sequence import is_sequence
    from vidcolor.pipeline import ColorizeOptions
    from vidcolor.pipeline.image import colorize_image
    from vidcolor.jobs import JobOptions, colorize_auto

    options = ColorizeOptions(
        model=model,
        weights=weights,
        device=device,
        engine=engine,
        batch_size=batch_size,
        temperature=temperature,
        render_size=render_size,
        colour_gain=colour_gain,
        neutral_shadows=neutral_shadows,
        temporal=temporal,
        temporal_strength=temporal_strength,
        encode=EncodeOptions(codec=codec, crf=crf, preset=preset),
        overwrite=overwrite,
        on_error=on_error,
        hwaccel=hwaccel,
        random_seed=random_weights,
        references=reference_specs(reference, references),
        fps=fps,
    )
    if split is None and (segment_seconds or work_dir is not None):
        split = True  # an explicit segment length or work folder asks for a split job even on a short film
    job = JobOptions(segment_seconds=segment_seconds, work_dir=work_dir, resume=resume, split=split)
    runner = _cluster_runner(cluster, workers, job)
    if is_sequence(input):  # a pattern, or a folder of stills: one film (find_sequence says whether a good one)
        with progress_bar(enabled=not quiet, label=input.name) as update:
            result = colorize_auto(input, output, options, job, runner=runner, progress=update)
        _report(result)
        return
    if fps is not None:
        raise UsageError(f"--fps sets the rate of an image sequence; {input.name} is not one")
    if input.is_dir():
        if work_dir is not None:
            raise UsageError("--work-dir names one job's folder; with a folder input each film gets its own")
        _run_folder(input, output, options, job, runner, recursive=recursive, quiet=quiet)
        return
    if is_image(input):
        result = colorize_image(input, output, options)
    else:
        with progress_bar(enabled=not quiet, label=input.name) as update:
            result = colorize_auto(input, output, options, job, runner=runner, progress=update)
    _report(result)


def _report(result: ColorizeResult) -> None:
    log.info("wrote %s: %d frames in %.1f s (%.1f fps)", result.output, result.frames, result.seconds, result.fps)
    if result.concealed_frames:
        log.warning("%d frames could not be decoded and were concealed", result.concealed_frames)


_STATUS_STYLE = {"done": "green", "skipped": "dim", "failed": "bold red"}


def _cluster_runner(cluster: str | None, workers: int | None, job: JobOptions) -> SegmentRunner | None:
    if cluster is None:
        if workers is not None:
            raise UsageError("--workers sizes a Ray cluster; give --cluster too")
        return None
    if job.never_split:
        raise UsageError("--cluster colours the segments of a split job; drop --no-split or --segment-seconds 0")
    from vidcolor.cluster import RayRunner

    return RayRunner(cluster, workers=workers)


def _run_folder(folder: Path, out_folder: Path, options: ColorizeOptions, job: JobOptions, runner: SegmentRunner | None, *,
                recursive: bool, quiet: bool) -> None:
    """Every video in ``folder`` into ``out_folder``; a summary table; exit 1 when any failed."""
    from vidcolor.jobs import colorize_auto
    from vidcolor.jobs.batch import plan_batch, run_batch

    if out_folder.suffix and not out_folder.exists():
        raise UsageError(f"with a folder input, -o names a folder, not {out_folder.name!r}")
    items = plan_batch(folder, out_folder, codec=options.encode.codec, recursive=recursive, overwrite=options.overwrite)
    if not items:
        raise MediaError(f"no video files in {folder}" + ("" if recursive else " (add -r for sub-folders)"))
    skipped = sum(item.status == "skipped" for item in items)
    log.info("%d videos in %s, %d already done", len(items), folder, skipped)

    def run_one(src: Path, dst: Path) -> ColorizeResult:
        with progress_bar(enabled=not quiet, label=str(src.relative_to(folder))) as update:
            return colorize_auto(src, dst, options, job, runner=runner, progress=update)

    run_batch(items, run_one)
    _print_summary(folder, items)
    failed = sum(item.status == "failed" for item in items)
    if failed:
        raise MediaError(f"{failed} of {len(items)} videos failed (see the table above)")


def _print_summary(folder: Path, items: list[BatchItem]) -> None:
    table = Table("file", "frames", "fps", "status", "error", title=f"vidcolor run {folder}")
    for item in items:
        fps = f"{item.fps:.1f}" if item.status == "done" else ""
        frames = str(item.frames) if item.status == "done" else ""
        style = _STATUS_STYLE.get(item.status, "")
        table.add_row(str(item.source.relative_to(folder)), frames, fps, f"[{style}]{item.status}[/]", item.error)
    Console(stderr=True).print(table)
