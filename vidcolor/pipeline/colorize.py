"""The stream: decode, colour and encode running concurrently with bounded queues between them."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from vidcolor.color.lab import ChromaSpec
from vidcolor.engines import Engine, open_engine
from vidcolor.errors import MediaError, UsageError
from vidcolor.media import FrameReader, VideoInfo, VideoWriter, probe
from vidcolor.media.decode import DecodedFrame
from vidcolor.media.sequence import find_sequence, warn_gaps
from vidcolor.media.sequence_out import SequenceWriter, atomic_sequence_output
from vidcolor.models import LoadedModel, load_model
from vidcolor.models.loading import has_local_weights
from vidcolor.pipeline.chroma import ChromaPredictor
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.predict import render_plan
from vidcolor.pipeline.outputs import atomic_output, check_output
from vidcolor.pipeline.progress import ProgressCallback, ProgressMeter
from vidcolor.pipeline.stages import BoundedChannel, Cancelled, StageThread, produce

log = logging.getLogger(__name__)

CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


@dataclass
class ColorizeResult:
    """What a run did."""

    output: Path
    frames: int
    seconds: float
    model: str
    engine: str
    concealed_frames: int = 0
    dropped_streams: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def choose_model(options: ColorizeOptions) -> LoadedModel:
    """Resolve ``auto``: the published ECCV16 weights when present locally, else the bundled ``lite``."""
    name = options.model
    if name == "auto":
        name = "eccv16" if options.random_seed is None and has_local_weights("eccv16") else "lite"
    return load_model(name, weights_path=options.weights, random_seed=options.random_seed)


def _make_smoother(options: ColorizeOptions):  # noqa: ANN202 (optional module, see temporal/)
    if options.temporal == "off":
        return None
    from vidcolor.temporal import make_smoother

    return make_smoother(options.temporal, options.temporal_strength)


def open_model_engine(options: ColorizeOptions) -> tuple[LoadedModel, Engine]:
    """The model and inference back-end a run uses (one per process or Ray worker)."""
    model = choose_model(options)
    engine = open_engine(model, device=options.device, engine=options.engine, max_batch=options.batch_size)
    log.info("model %s, engine %s", model.label, engine.describe())
    return model, engine


def _check_references(src: Path, info: VideoInfo, options: ColorizeOptions):  # noqa: ANN202 (optional module)
    """The film's references read and checked (UsageError before any decoding), or None."""
    if not options.references:
        return None
    from vidcolor.reference.build import check_video_references

    return check_video_references(src, info, options.references)


def make_predictor(model: LoadedModel, engine: Engine, info: VideoInfo, writer: VideoWriter, options: ColorizeOptions,
                   src: Path | None = None) -> ChromaPredictor:
    plan = render_plan(model, engine, options, info.height, info.width, float(info.sample_aspect_ratio or 1))
    guide = frame_number = None
    if options.references and src is not None:
        from vidcolor.reference.build import video_guide

        guide, frame_number = video_guide(src, info, _check_references(src, info, options), plan.decoding.temperature)
    return ChromaPredictor(
        engine=engine,
        in_spec=info.chroma_spec,
        out_spec=ChromaSpec(info.chroma_spec.matrix, writer.full_range, writer.chroma_bits),
        chroma_shape=writer.chroma_shape,
        plan=plan,
        smoother=_make_smoother(options),
        reference=guide,
        frame_number=frame_number,
    )


def colorize(
    src: Path | str,
    dst: Path | str,
    options: ColorizeOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> ColorizeResult:
    """Colourise the video ``src`` into ``dst``.

    The output is written to a temporary file beside ``dst`` and renamed at the end; on
    any error or interrupt nothing is left at ``dst``. Every frame keeps its pts, the
    luma plane is the input's, other streams are copied without re-encoding.

    ``src`` may be an image sequence (a printf pattern such as ``scans/%06d.dpx``, or a folder
    of numbered stills, played at ``options.fps``), and ``dst`` then numbered stills too
    (``out/%06d.dpx``: the input's numbering and depth, moved in when all are written).

    Raises:
        UsageError: options contradict each other or the paths (output is the input, exists, ...).
        MediaError: the input cannot be read or the output cannot be written.
        WeightsError: the model's weights are missing or damaged.
        EngineError: the inference back-end cannot run.
    """
    options = options or ColorizeOptions()
    src, dst = Path(src), Path(dst)
    target = check_output(src, dst, options)  # numbered stills (out/%06d.dpx), or None for a video file
    if options.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {options.batch_size}")
    info = probe(src, fps=options.fps).video
    sequence = find_sequence(src, options.fps) if info.still else None
    if sequence is not None:
        warn_gaps(sequence)
    _check_references(src, info, options)
    model, engine = open_model_engine(options)
    meter = ProgressMeter(total=info.frames, callback=progress)
    start = time.perf_counter()
    with atomic_sequence_output(target) if target is not None else atomic_output(dst) as tmp:
        if target is not None:
            writer = SequenceWriter(tmp, target, info, sequence.first)
        else:
            writer = VideoWriter(tmp, CONTAINER_FORMATS.get(dst.suffix.lower()), info, src, options.encode)
        reader = FrameReader(src, info, on_error=options.on_error, hwaccel=options.hwaccel)
        predictor = make_predictor(model, engine, info, writer, options, src)
        try:
            run_stages(reader, predictor, writer, options.batch_size, meter)
        except BaseException:
            writer.abort()
            raise
        writer.close()
        if writer.frames_written == 0:
            raise MediaError(f"{src}: no frame could be decoded")
    return ColorizeResult(
        output=dst,
        frames=writer.frames_written,
        seconds=time.perf_counter() - start,
        model=model.label,
        engine=engine.describe(),
        concealed_frames=reader.stats.concealed,
        dropped_streams=list(writer.remuxer.dropped) if writer.remuxer is not None else [],
    )


def run_stages(
    frames: Iterable[DecodedFrame],
    predictor: ChromaPredictor,
    writer: VideoWriter,
    batch_size: int,
    meter: ProgressMeter,
    *,
    colour_from: int | None = None,
) -> int:
    """Decode -> colour -> encode; pictures before ``colour_from`` only warm up the smoother.

    Returns how many of the pictures written were concealed (see ``DecodedFrame.concealed``).
    """
    stop = threading.Event()
    decoded: BoundedChannel[DecodedFrame] = BoundedChannel(2 * batch_size, stop)
    coloured: BoundedChannel[tuple[list[DecodedFrame], np.ndarray]] = BoundedChannel(2, stop)

    def encode() -> None:
        for frames, chroma in coloured:
            for i, frame in enumerate(frames):
                writer.write(frame.luma, chroma[i], frame.pts)
            meter.advance(len(frames))

    decoder = StageThread("decode", produce(frames, decoded), stop)
    encoder = StageThread("encode", encode, stop)
    decoder.start()
    encoder.start()
    finished = False
    concealed = 0
    try:
        batch: list[DecodedFrame] = []
        warm: list[DecodedFrame] = []
        for frame in decoded:
            if colour_from is not None and frame.pts < colour_from:
                warm.append(frame)
                if len(warm) == batch_size:
                    predictor.warm_up([f.luma for f in warm], [f.pts for f in warm])
                    warm = []
                continue
            if warm:
                predictor.warm_up([f.luma for f in warm], [f.pts for f in warm])
                warm = []
            batch.append(frame)
            concealed += frame.concealed
            if len(batch) == batch_size:
                coloured.put((batch, predictor([f.luma for f in batch], [f.pts for f in batch])))
                batch = []
        if batch:
            coloured.put((batch, predictor([f.luma for f in batch], [f.pts for f in batch])))
        coloured.close()
        encoder.join()
        finished = encoder.error is None
    except Cancelled:
        pass  # a stage failed and set ``stop``; its own error is raised below
    finally:
        if not finished:
            stop.set()
        decoder.join()
        encoder.join()
    for stage in (decoder, encoder):
        if stage.error is not None:
            raise stage.error
    return concealed
