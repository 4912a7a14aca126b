"""Long jobs: cut into segments kept in a work folder, resumed after any interruption, joined at the end."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vidcolor.errors import MediaError
from vidcolor.media import VideoInfo, probe
from vidcolor.media.segments import join_parts, scan_frames
from vidcolor.models.loading import has_local_weights
from vidcolor.pipeline.colorize import CONTAINER_FORMATS, ColorizeResult, colorize, colorize_segment, open_model_engine
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.outputs import atomic_output, check_paths
from vidcolor.pipeline.progress import ProgressCallback, ProgressMeter
from vidcolor.pipeline.segments import (
    MANIFEST_NAME,
    JobOptions,
    Manifest,
    Segment,
    SegmentResult,
    default_segment_seconds,
    fingerprint,
    output_options,
    plan_segments,
    warmup_frames,
)

log = logging.getLogger(__name__)

SegmentDone = Callable[[Segment, SegmentResult], None]


@dataclass(frozen=True)
class SegmentJob:
    """What any worker needs to colour a segment of one film (picklable, for Ray)."""

    source: Path
    work_dir: Path
    container_format: str | None
    suffix: str
    info: VideoInfo
    options: ColorizeOptions

    def part_path(self, segment: Segment) -> Path:
        return self.work_dir / f"{segment.part_name}{self.suffix}"


class SegmentRunner(Protocol):
    """Colours the given segments somewhere, calling ``on_done`` (in the caller's thread) as each finishes."""

    engine_label: str
    model_label: str

    def run(self, job: SegmentJob, todo: list[Segment], on_done: SegmentDone, meter: ProgressMeter) -> None: ...


def run_segment(job: SegmentJob, segment: Segment, model, engine, meter: ProgressMeter) -> SegmentResult:  # noqa: ANN001 (LoadedModel, Engine)
    """Colour one segment into its part file, which appears only when complete (a kill leaves no half part)."""
    final = job.part_path(segment)
    tmp = final.with_name(f".{final.stem}.partial{final.suffix}")
    try:
        result = colorize_segment(job.source, tmp, job.container_format, job.info, segment, job.options, model, engine, meter)
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return result


class LocalRunner:
    """Segments one after another in this process, with one engine."""

    engine_label = model_label = "none (all segments were already done)"

    def run(self, job: SegmentJob, todo: list[Segment], on_done: SegmentDone, meter: ProgressMeter) -> None:
        model, engine = open_model_engine(job.options)
        self.model_label, self.engine_label = model.label, engine.describe()
        for segment in todo:
            on_done(segment, run_segment(job, segment, model, engine, meter))


def default_work_dir(dst: Path) -> Path:
    return dst.parent / f".{dst.name}.vidcolor-work"


def _model_name(options: ColorizeOptions) -> str:
    # the name ``auto`` resolves to, without loading weights (see colorize.choose_model)
    if options.model != "auto":
        return options.model
    return "eccv16" if options.random_seed is None and has_local_weights("eccv16") else "lite"


def _clear_work_dir(work: Path) -> None:
    """Remove what a previous job left (only our own files: a --work-dir may hold others)."""
    for path in work.glob("*"):
        if path.name.startswith(("part-", ".part-", MANIFEST_NAME)):
            path.unlink()


def _runner_for(job: JobOptions) -> SegmentRunner:
    if job.cluster is None:
        return LocalRunner()
    from vidcolor.cluster import RayRunner

    return RayRunner(job.cluster, workers=job.workers)


def colorize_job(
    src: Path | str,
    dst: Path | str,
    options: ColorizeOptions | None = None,
    job: JobOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    runner: SegmentRunner | None = None,
) -> ColorizeResult:
    """Colourise ``src`` into ``dst`` segment by segment, resuming from the work folder when it matches.

    The result is the same film as ``colorize`` writes (pictures, timestamps, other streams);
    only the video encoder restarts at each cut. The work folder is removed after the join.

    Raises:
        UsageError, MediaError, WeightsError, EngineError: as ``colorize``.
    """
    options = options or ColorizeOptions()
    job = job or JobOptions()
    src, dst = Path(src), Path(dst)
    check_paths(src, dst, overwrite=options.overwrite)
    options.encode.check(dst)
    start = time.perf_counter()
    info = probe(src).video
    if options.references:
        # read and checked here, before any decoding (each segment uses the same, cached, check);
        # absolute, like the source: Ray workers run in other folders
        from vidcolor.reference.build import check_video_references, resolved

        options = resolved(options)
        check_video_references(src, info, options.references)
    index = scan_frames(src)
    seconds = job.segment_seconds or default_segment_seconds(options, float(info.average_rate or 0) or None)
    work = Path(job.work_dir) if job.work_dir else default_work_dir(dst)
    manifest_path = work / MANIFEST_NAME
    fresh = Manifest(
        input=fingerprint(src),
        options=output_options(options),
        model=_model_name(options),
        segment_seconds=seconds,
        frames=index.frames,
        segments=plan_segments(index, seconds, warmup_frames(options)),
    )
    manifest = Manifest.load(manifest_path) if job.resume else None
    if manifest is not None and (why := manifest.mismatch(fresh)):
        log.warning("starting over: %s since the work in %s was done", why, work)
        manifest = None
    # parts are Matroska whatever the output: the join re-times every packet from the index,
    # so only the order of a part's timestamps matters, and Matroska carries every codec we write
    # absolute: Ray workers run in other folders (and on other machines, over shared storage)
    spec = SegmentJob(src.resolve(), work.resolve(), "matroska", ".mkv", info, options)
    if manifest is None:
        work.mkdir(parents=True, exist_ok=True)
        _clear_work_dir(work)
        manifest = fresh
        manifest.save(manifest_path)
    else:
        for segment in manifest.segments:
            if segment.status == "done" and not spec.part_path(segment).exists():
                segment.status = "todo"
        done = sum(s.status == "done" for s in manifest.segments)
        log.info("resuming %s: %d of %d segments already done", src.name, done, len(manifest.segments))
    todo = [s for s in manifest.segments if s.status != "done"]
    log.info("%s: %d frames in %d segments of about %g s, work folder %s",
             src.name, index.frames, len(manifest.segments), seconds, work)

    meter = ProgressMeter(total=index.frames, callback=progress)
    meter.skip(manifest.done_frames)

    def on_done(segment: Segment, result: SegmentResult) -> None:
        segment.status, segment.concealed = "done", result.concealed
        manifest.save(manifest_path)
        log.debug("segment %d done (%d frames, %d concealed)", segment.index, result.frames, result.concealed)

    runner = runner or _runner_for(job)
    if todo:
        try:
            runner.run(spec, todo, on_done, meter)
        except KeyboardInterrupt:
            done = sum(s.status == "done" for s in manifest.segments)
            log.warning("%d of %d segments are kept in %s; run the same command again to resume",
                        done, len(manifest.segments), work)
            raise
    with atomic_output(dst) as tmp:
        stats = join_parts([spec.part_path(s) for s in manifest.segments], index.pts, tmp, CONTAINER_FORMATS.get(dst.suffix.lower()), info, src)
        if stats.frames != index.frames:
            raise MediaError(f"the joined film has {stats.frames} frames, the input {index.frames}; "
                             f"delete {work} and rerun")
    shutil.rmtree(work, ignore_errors=True)
    return ColorizeResult(
        output=dst,
        frames=stats.frames,
        seconds=time.perf_counter() - start,
        model=runner.model_label,
        engine=runner.engine_label,
        concealed_frames=sum(s.concealed for s in manifest.segments),
        dropped_streams=stats.dropped_streams,
    )


def colorize_auto(
    src: Path | str,
    dst: Path | str,
    options: ColorizeOptions | None = None,
    job: JobOptions | None = None,
    *,
    split: bool | None = None,
    progress: ProgressCallback | None = None,
) -> ColorizeResult:
    """``colorize_job`` for films longer than one segment or on a cluster, plain ``colorize`` otherwise.

    ``split`` forces either way (the CLI forces it when --segment-seconds or --work-dir is given).
    """
    job = job or JobOptions()
    if split is None:
        video = probe(Path(src)).video
        seconds = job.segment_seconds or default_segment_seconds(options or ColorizeOptions(), float(video.average_rate or 0) or None)
        split = job.cluster is not None or (video.duration is not None and video.duration > seconds)
    if split:
        return colorize_job(src, dst, options, job, progress=progress)
    return colorize(src, dst, options, progress=progress)
