"""Long jobs: cut into segments kept in a work folder, resumed after any interruption, joined at the end."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from vidcolor.errors import MediaError, UsageError
from vidcolor.jobs.plan import (
    MANIFEST_NAME,
    JobOptions,
    Manifest,
    default_segment_seconds,
    fingerprint,
    output_options,
    plan_segments,
    warmup_frames,
)
from vidcolor.jobs.plan import Segment, SegmentResult
from vidcolor.jobs.segment import LocalRunner, SegmentJob, SegmentMismatch, SegmentRunner
from vidcolor.media import probe
from vidcolor.media.segments import FrameIndex, join_parts, scan_frames
from vidcolor.media.sequence import find_sequence, warn_gaps
from vidcolor.media.sequence_out import SequenceTarget, move_stills, sequence_target
from vidcolor.models.loading import has_local_weights
from vidcolor.pipeline.colorize import CONTAINER_FORMATS, ColorizeResult, colorize
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.outputs import atomic_output, check_output
from vidcolor.pipeline.progress import ProgressCallback, ProgressMeter

log = logging.getLogger(__name__)


def default_work_dir(dst: Path) -> Path:
    """Hidden, beside the output: ``.film.mkv.vidcolor-work``; for stills (``out/%06d.dpx``) beside their folder."""
    target = sequence_target(dst)
    if target is not None:
        folder = target.folder.resolve()
        return folder.parent / f".{folder.name}.vidcolor-work"
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
            if path.is_dir():  # a part of numbered stills
                shutil.rmtree(path)
            else:
                path.unlink()


def _remove_work_dir(work: Path) -> None:
    """Our files out of ``work``, and the folder itself once nothing else is in it."""
    if not work.is_dir():
        return
    _clear_work_dir(work)
    try:
        work.rmdir()
    except OSError:
        log.debug("%s holds other files; kept", work)


def _segment_seconds(options: ColorizeOptions, job: JobOptions, rate: float | None) -> float:
    return job.segment_seconds or default_segment_seconds(options, rate)


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
    only the video encoder restarts at each cut. The plan comes from the container's packets;
    where a segment decodes to other pictures than its packets promised (damage, a truncated
    recording), the job says so in one warning and colours the film in one pass instead.
    The work folder is removed after the join, and after a failure before any segment was
    finished or during the join; a job interrupted or failed with segments done keeps it and
    says where (the same call resumes).

    Args:
        runner: where the segments are coloured (e.g. ``vidcolor.cluster.RayRunner``);
            None colours them in this process.

    Raises:
        UsageError, MediaError, WeightsError, EngineError: as ``colorize``.
    """
    options = options or ColorizeOptions()
    job = job or JobOptions()
    src, dst = Path(src), Path(dst)
    if job.never_split:
        raise UsageError("this job was asked not to split (--no-split or --segment-seconds 0); use colorize")
    target = check_output(src, dst, options)
    return _split_job(src, dst, target, options, job, scan_frames(src, options.fps), runner or LocalRunner(), progress)


def _split_job(src: Path, dst: Path, target: SequenceTarget | None, options: ColorizeOptions, job: JobOptions,
               index: FrameIndex, runner: SegmentRunner, progress: ProgressCallback | None) -> ColorizeResult:
    start = time.perf_counter()
    info = probe(src, fps=options.fps).video
    sequence = find_sequence(src, options.fps) if info.still else None
    if sequence is not None:
        warn_gaps(sequence)
    if options.references:
        # read and checked here, before any decoding (each segment uses the same, cached, check);
        # absolute, like the source: Ray workers run in other folders
        from vidcolor.reference.build import check_video_references, resolved

        options = resolved(options)
        check_video_references(src, info, options.references)
    seconds = _segment_seconds(options, job, float(info.average_rate or 0) or None)
    work = Path(job.work_dir) if job.work_dir else default_work_dir(dst)
    manifest_path = work / MANIFEST_NAME
    fresh = Manifest(
        input=fingerprint(src),
        # parts of stills and parts of video are not interchangeable (a --work-dir reused across outputs)
        options={**output_options(options), "stills": target.suffix if target else None},
        model=_model_name(options),
        segment_seconds=seconds,
        frames=index.frames,
        segments=plan_segments(index, seconds, warmup_frames(options)),
    )
    manifest = Manifest.load(manifest_path) if job.resume else None
    if manifest is not None and (why := manifest.mismatch(fresh)):
        log.warning("starting over: %s since the work in %s was done", why, work)
        manifest = None
    # video parts are Matroska whatever the output container: the join re-times every packet from
    # the index, so only the order of a part's timestamps matters, and Matroska carries every codec
    # we write; paths absolute: Ray workers run in other folders (and on other machines, over shared storage)
    if target is None:
        spec = SegmentJob(src.resolve(), work.resolve(), "matroska", ".mkv", info, options)
    else:  # each part a folder of stills, moved into the target at the join
        spec = SegmentJob(src.resolve(), work.resolve(), None, "", info, options, stills=target,
                          first_number=sequence.first)
    if manifest is None:
        work.mkdir(parents=True, exist_ok=True)
        _clear_work_dir(work)
        manifest = fresh
        manifest.save(manifest_path)
    else:
        for segment in manifest.segments:
            if segment.status == "done" and not spec.part_path(segment).exists():
                segment.status = "todo"
        log.info("resuming %s: %d of %d segments already done", src.name, _done(manifest), len(manifest.segments))
    todo = [s for s in manifest.segments if s.status != "done"]
    log.info("%s: %d frames in %d segments of about %g s, work folder %s",
             src.name, index.frames, len(manifest.segments), seconds, work)

    meter = ProgressMeter(total=index.frames, callback=progress)
    meter.skip(manifest.done_frames)

    def on_done(segment: Segment, result: SegmentResult) -> None:
        segment.status, segment.concealed = "done", result.concealed
        manifest.save(manifest_path)
        log.debug("segment %d done (%d frames, %d concealed)", segment.index, result.frames, result.concealed)

    try:
        if todo:
            runner.run(spec, todo, on_done, meter)
    except SegmentMismatch as ex:
        log.warning("%s: %s: its packets promise pictures that do not decode; colouring it in one pass instead, "
                    "without segments", src.name, ex)
        _remove_work_dir(work)
        return colorize(src, dst, options, progress=progress)
    except BaseException:
        if _done(manifest):  # worth resuming, whatever stopped it
            log.warning("%d of %d segments are kept in %s; run the same command again to resume",
                        _done(manifest), len(manifest.segments), work)
        else:
            _remove_work_dir(work)
        raise
    parts = [spec.part_path(s) for s in manifest.segments]
    try:
        if target is not None:
            frames, dropped = move_stills(parts, target), []
        else:
            with atomic_output(dst) as tmp:
                stats = join_parts(parts, index.pts, tmp, CONTAINER_FORMATS.get(dst.suffix.lower()), info, src)
            frames, dropped = stats.frames, stats.dropped_streams
        if frames != index.frames:
            raise MediaError(f"the joined film has {frames} frames, the input {index.frames}")
    except KeyboardInterrupt:
        log.warning("all segments are kept in %s; run the same command again to join them", work)
        raise
    except BaseException:
        _remove_work_dir(work)  # a rerun would join the same parts the same way
        raise
    _remove_work_dir(work)
    return ColorizeResult(
        output=dst,
        frames=frames,
        seconds=time.perf_counter() - start,
        model=runner.model_label,
        engine=runner.engine_label,
        concealed_frames=sum(s.concealed for s in manifest.segments),
        dropped_streams=dropped,
    )


def _done(manifest: Manifest) -> int:
    return sum(s.status == "done" for s in manifest.segments)


def colorize_auto(
    src: Path | str,
    dst: Path | str,
    options: ColorizeOptions | None = None,
    job: JobOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    runner: SegmentRunner | None = None,
) -> ColorizeResult:
    """A split job (``colorize_job``) for films longer than one segment or given a runner, plain ``colorize`` otherwise.

    The length is the span of the video packets, not the header's duration, which truncated
    recordings and some muxers get wrong; ``job.split`` forces either way.
    """
    options = options or ColorizeOptions()
    job = job or JobOptions()
    src, dst = Path(src), Path(dst)
    if job.never_split:
        if runner is not None:
            raise UsageError("a cluster colours the segments of a split job; drop --no-split or --segment-seconds 0")
        return colorize(src, dst, options, progress=progress)
    split = job.split or runner is not None
    if not split:
        video = probe(src, fps=options.fps).video
        seconds = _segment_seconds(options, job, float(video.average_rate or 0) or None)
        if video.duration is None or video.duration <= seconds:
            return colorize(src, dst, options, progress=progress)
    target = check_output(src, dst, options)
    index = scan_frames(src, options.fps)
    if not split:
        span = index.seconds(index.pts[-1]) + (1 / float(video.average_rate) if video.average_rate else 0)
        if span <= seconds:
            log.warning("%s: the header says %.1f s but its video packets span %.1f s; colouring it in one pass",
                        src.name, video.duration, span)
            return colorize(src, dst, options, progress=progress)
    return _split_job(src, dst, target, options, job, index, runner or LocalRunner(), progress)
