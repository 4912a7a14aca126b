"""One segment of a split job: what a worker needs, and colouring it into its part file."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vidcolor.engines import Engine
from vidcolor.errors import MediaError
from vidcolor.jobs.plan import Segment, SegmentResult
from vidcolor.media import FrameReader, VideoInfo, VideoWriter
from vidcolor.media.decode import DecodedFrame
from vidcolor.media.sequence_out import SequenceTarget, SequenceWriter
from vidcolor.models import LoadedModel
from vidcolor.pipeline.colorize import make_predictor, open_model_engine, run_stages
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.progress import ProgressMeter

log = logging.getLogger(__name__)

SegmentDone = Callable[[Segment, SegmentResult], None]


class SegmentMismatch(MediaError):
    """A segment decoded to another number of pictures than the plan, made from the container's packets, said.

    Packets that decode to no picture (damage, a truncated recording) do this; the job
    then colours the film in one pass (see ``colorize_job``).
    """

    def __init__(self, segment: Segment, decoded: int) -> None:
        super().__init__(f"segment {segment.index} decoded to {decoded} pictures, the plan expected {segment.frames}")
        self.segment = segment
        self.decoded = decoded

    def __reduce__(self) -> tuple:
        return SegmentMismatch, (self.segment, self.decoded)  # raised in Ray workers, re-raised here


@dataclass(frozen=True)
class SegmentJob:
    """What any worker needs to colour a segment of one film (picklable, for Ray).

    A part is a video file, or, for numbered stills (``stills``), a folder of them named by
    the source's numbers (``first_number`` + pts).
    """

    source: Path
    work_dir: Path
    container_format: str | None
    suffix: str
    info: VideoInfo
    options: ColorizeOptions
    stills: SequenceTarget | None = None
    first_number: int = 0

    def part_path(self, segment: Segment) -> Path:
        return self.work_dir / f"{segment.part_name}{self.suffix}"

    def writer(self, part: Path) -> VideoWriter | SequenceWriter:
        if self.stills is not None:
            return SequenceWriter(part, self.stills, self.info, self.first_number)
        return VideoWriter(part, self.container_format, self.info, None, self.options.encode)


class SegmentRunner(Protocol):
    """Colours the given segments somewhere, calling ``on_done`` (in the caller's thread) as each finishes."""

    engine_label: str
    model_label: str

    def run(self, job: SegmentJob, todo: list[Segment], on_done: SegmentDone, meter: ProgressMeter) -> None: ...


def run_segment(job: SegmentJob, segment: Segment, model, engine, meter: ProgressMeter) -> SegmentResult:  # noqa: ANN001 (LoadedModel, Engine)
    """Colour one segment into its part (file or folder of stills), which appears only when complete (a kill leaves no half part)."""
    final = job.part_path(segment)
    tmp = final.with_name(f".{final.stem}.partial{final.suffix}")
    try:
        if job.stills is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
        result = colorize_segment(job, tmp, segment, model, engine, meter)
        if final.is_dir():
            shutil.rmtree(final)  # left by a run killed between this rename and its manifest save
        os.replace(tmp, final)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
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


class _SeekMissed(Exception):
    """The demuxer's seek landed after the pictures a segment needs."""


def _segment_frames(reader: FrameReader, warm_from: int, end: int | None) -> Iterator[DecodedFrame]:
    """The pictures from ``warm_from`` up to (not including) ``end``, out of a reader that seeked near them."""
    first = True
    for frame in reader:
        if first and reader.seek_pts is not None and frame.pts > warm_from:
            raise _SeekMissed
        first = False
        if frame.pts < warm_from:
            continue
        if end is not None and frame.pts >= end:
            return
        yield frame


def colorize_segment(
    job: SegmentJob,
    part: Path,
    segment: Segment,
    model: LoadedModel,
    engine: Engine,
    meter: ProgressMeter,
) -> SegmentResult:
    """Colour one segment's pictures into ``part`` (video only, keeping the source's pts, or numbered stills).

    The smoother (if any) first sees the pictures from ``segment.warm_from``, which are not written.
    Concealed frames are counted among those written only: the reader also decodes pictures
    of earlier segments (warm-up, the keyframe before a cut), which those segments count.

    Raises:
        MediaError: as ``colorize``.
        SegmentMismatch: the segment did not decode to the pictures the plan expected.
    """
    src, info, options = job.source, job.info, job.options
    seek: int | None = segment.warm_from
    while True:
        writer = job.writer(part)
        reader = FrameReader(src, info, on_error=options.on_error, hwaccel=options.hwaccel, seek_pts=seek,
                             keep=(segment.start_pts, segment.end_pts))
        predictor = make_predictor(model, engine, info, writer, options, src)
        try:
            concealed = run_stages(_segment_frames(reader, segment.warm_from, segment.end_pts), predictor, writer,
                                    options.batch_size, meter, colour_from=segment.start_pts)
        except _SeekMissed:
            # some demuxers seek by decode time and overshoot; decoding from the start is always right
            log.debug("seek to pts %s overshot; segment %d decodes from the start", seek, segment.index)
            writer.abort()
            seek = None
            continue
        except BaseException:
            writer.abort()
            raise
        writer.close()
        break
    if writer.frames_written != segment.frames:
        raise SegmentMismatch(segment, writer.frames_written)
    return SegmentResult(writer.frames_written, concealed)


