"""A contact sheet of a few pictures from across a film, grey beside colour, to judge settings quickly."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vidcolor.defaults import DEFAULT_PREVIEW_FRAMES  # kept there so the CLI's help needs no torch
from vidcolor.engines import open_engine
from vidcolor.errors import MediaError, UsageError
from vidcolor.media import VideoInfo, probe
from vidcolor.media.image import write_rgb
from vidcolor.media.seek import as_displayed, rgb_frames_at
from vidcolor.pipeline.colorize import choose_model
from vidcolor.pipeline.image import colorize_rgb
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.predict import render_plan
from vidcolor.pipeline.outputs import atomic_output, check_paths
from vidcolor.reference.spec import RefTime

log = logging.getLogger(__name__)

# each half of a row; wide enough to judge colour, small enough to open anywhere
_TILE_WIDTH = 480
_GAP = 4


@dataclass
class PreviewResult:
    output: Path
    times: list[float]
    seconds: float
    model: str
    keyframes: list[Path] = field(default_factory=list)


def keyframe_name(seconds: float) -> str:
    """``HH_MM_SS.mmm``: a picture's time as a file name that ``--references DIR`` reads back as
    that picture (to the millisecond; a keyframe's time finds its picture within half a frame)."""
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    return f"{hours:02d}_{minutes:02d}_{ms // 1000:02d}.{ms % 1000:03d}"


def picture_times(src: Path, info: VideoInfo, numbers: Sequence[int]) -> list[float]:
    """The times of pictures given by number, as keyframes' ``#N``: the N-th picture of a video,
    the still numbered N of a scan. One demux pass (no decoding) finds them.

    Raises:
        UsageError: a number the film does not have.
    """
    from vidcolor.media.segments import scan_frames

    index = scan_frames(src, info.average_rate)
    if info.still:
        from vidcolor.media.sequence import find_sequence

        seq = find_sequence(src, info.average_rate)
        pictures = [seq.position(n) for n in numbers]
        if None in pictures:
            missing = numbers[pictures.index(None)]
            raise UsageError(f"--at #{missing}: the scan has no still numbered {missing}")
        numbers = pictures
    outside = [n for n in numbers if not 0 <= n < index.frames]
    if outside:
        raise UsageError(f"--at #{outside[0]} is outside the film (pictures 0 to {index.frames - 1})")
    return [float((index.pts[n] - index.pts[0]) * index.time_base) for n in numbers]


def preview_times(duration: float, frames: int) -> list[float]:
    """Evenly spaced times, each in the middle of its share of the film (avoids black leaders and tails)."""
    return [duration * (i + 0.5) / frames for i in range(frames)]


def _tile(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    height = max(1, round(h * _TILE_WIDTH / w))
    return cv2.resize(rgb, (_TILE_WIDTH, height), interpolation=cv2.INTER_AREA)


def _label(tile: np.ndarray, text: str) -> None:
    # dark outline under light text reads on any picture
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(tile, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, thickness, cv2.LINE_AA)


def render_sheet(pairs: list[tuple[float, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Rows of (grey | colour) tiles, one row per (time, grey RGB, colour RGB)."""
    rows = []
    for t, grey, colour in pairs:
        left, right = _tile(grey), _tile(colour)
        _label(left, f"{int(t // 60):02d}:{t % 60:05.2f}")
        gap = np.full((left.shape[0], _GAP, 3), 255, np.uint8)
        rows.append(np.concatenate([left, gap, right], axis=1))
        rows.append(np.full((_GAP, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)


def preview(
    src: Path | str,
    dst: Path | str,
    options: ColorizeOptions | None = None,
    *,
    frames: int = DEFAULT_PREVIEW_FRAMES,
    times: Sequence[float | RefTime] | None = None,
    save_keyframes: Path | str | None = None,
) -> PreviewResult:
    """Write an image of ``frames`` pictures from across ``src`` (or of the pictures at ``times``:
    seconds from the start, or ``RefTime``s, whose ``frame`` is a keyframe's ``#N``), each grey
    beside its colouring, as a player shows them.

    With ``save_keyframes``, each coloured picture is also written there at full size as a PNG
    named by its time (``keyframe_name``): the start of a touch-up. Paint what the model got
    wrong in an image editor, and ``run --references DIR`` carries the corrected pictures
    through their shots. Existing files there need ``options.overwrite``.

    Pictures are reached by seeking, so the cost does not grow with the film's length. Temporal
    smoothing does not apply to single pictures; what is shown is the per-frame colour.
    With references, palette references colour every row, and each keyframe adds a row of
    its own picture coloured as the run colours it; carrying keyframes through their shots
    needs the run's decode of every picture, which a preview does not do.

    Raises:
        UsageError, MediaError, WeightsError, EngineError: as ``colorize``.
    """
    options = options or ColorizeOptions()
    src, dst = Path(src), Path(dst)
    if frames < 1:
        raise UsageError(f"--frames must be at least 1, got {frames}")
    check_paths(src, dst, overwrite=options.overwrite)
    keyframe_dir = Path(save_keyframes) if save_keyframes is not None else None
    if keyframe_dir is not None and keyframe_dir.exists() and not keyframe_dir.is_dir():
        raise UsageError(f"--save-keyframes {keyframe_dir}: a file is in the way; give a folder")
    start = time.perf_counter()
    info = probe(src)
    duration = info.video.duration or info.duration or 0.0
    if times:
        times = _seconds_of(src, info.video, times)
        outside = [t for t in times if not 0 <= t <= duration + 1e-6]
        if outside:
            raise UsageError(f"--at {outside[0]:g} s is outside the film (0 to {duration:.2f} s)")
    else:
        times = preview_times(duration, frames)
    own = len(times)  # the pictures asked for; keyframe rows follow them
    numbers = [-1] * len(times)  # no keyframe is picture -1
    refs = None
    if options.references:
        from vidcolor.reference.build import check_video_references

        refs = check_video_references(src, info.video, options.references)  # before anything decodes
        for r in refs.loaded:
            if r.frame is not None:
                times.append(max(0.0, (refs.pts[r.frame] - refs.pts[0]) * float(info.video.time_base)))
                numbers.append(r.frame)
        if any(r.frame is not None for r in refs.loaded):
            # otherwise the other rows look as if the keyframe had no effect on its shot
            log.warning("a preview colours each keyframe's own picture only; `vidcolor run` carries "
                        "keyframes through their shots")
    grabbed = rgb_frames_at(src, times)
    targets = _keyframe_targets(keyframe_dir, [t for t, _ in grabbed[:own]], options.overwrite)
    model = choose_model(options)
    engine = open_engine(model, device=options.device, engine=options.engine, max_batch=1)
    plan = render_plan(model, engine, options, *grabbed[0][1].shape[:2])  # the pictures of one film share a size
    guide = None
    if refs is not None:
        from vidcolor.reference.guide import ReferenceGuide

        guide = ReferenceGuide(refs.loaded, temperature=plan.decoding.temperature)
    sar, rotation = float(info.video.sample_aspect_ratio or 1), info.video.rotation
    pairs = []
    for (t, grey), n in zip(grabbed, numbers):
        colour = colorize_rgb(engine, grey, plan, reference=guide, frame=n)
        pairs.append((t, as_displayed(grey, sar, rotation), as_displayed(colour, sar, rotation)))
    if targets:
        try:
            keyframe_dir.mkdir(parents=True, exist_ok=True)
        except OSError as ex:
            raise MediaError(f"cannot create {keyframe_dir}: {ex.strerror or ex}") from ex
        for path, (_, _, colour) in zip(targets, pairs):
            with atomic_output(path) as tmp:
                write_rgb(tmp, colour)
    with atomic_output(dst) as tmp:
        write_rgb(tmp, render_sheet(pairs))
    log.debug("preview of %s at %s", src, [round(t, 2) for t, _, _ in pairs])
    return PreviewResult(dst, [t for t, _, _ in pairs], time.perf_counter() - start, model.label,
                         sorted(set(targets)))


def _seconds_of(src: Path, info: VideoInfo, times: Sequence[float | RefTime]) -> list[float]:
    numbered = [t.frame for t in times if isinstance(t, RefTime) and t.frame is not None]
    found = iter(picture_times(src, info, numbered) if numbered else [])
    out = []
    for t in times:
        if isinstance(t, RefTime):
            t = next(found) if t.frame is not None else float(t.seconds or 0.0)
        out.append(float(t))
    return out


def _keyframe_targets(folder: Path | None, times: list[float], overwrite: bool) -> list[Path]:
    """The file each grabbed picture is saved to (two times that land on one picture share it);
    refused before any colouring when one exists and ``overwrite`` is off."""
    if folder is None:
        return []
    targets = [folder / f"{keyframe_name(t)}.png" for t in times]
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise UsageError(f"{existing[0]} already exists; pass --overwrite to replace it")
    return targets
