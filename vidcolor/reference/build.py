"""From ``ColorizeOptions.references`` to the guide a run's predictor calls."""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidcolor.errors import UsageError
from vidcolor.media import VideoInfo
from vidcolor.media.seek import display_turns
from vidcolor.media.segments import scan_frames
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.reference.guide import GuideParams, ReferenceGuide
from vidcolor.reference.load import (
    LoadedReference,
    film_of_image,
    film_of_video,
    load_references,
)
from vidcolor.reference.shots import shots_for, source_stamp
from vidcolor.reference.spec import ReferenceSpec, RefTime


@dataclass(frozen=True)
class VideoReferences:
    """A film's checked references, and its pictures' pts (the numbering keyframes use) when there are keyframes."""

    loaded: tuple[LoadedReference, ...]
    pts: tuple[int, ...] | None

    @property
    def keyframes(self) -> tuple[int, ...]:
        return tuple(sorted(int(r.frame) for r in self.loaded if r.frame is not None))

    def frame_number(self, pts: int) -> int:
        """The picture number of ``pts`` (the picture at or before it for a pts the index lacks)."""
        if self.pts is None:
            return 0
        return max(0, bisect.bisect_right(self.pts, pts) - 1)


@functools.lru_cache(maxsize=8)
def _check(src_stamp: tuple[str, int, int], info: VideoInfo, specs: tuple[ReferenceSpec, ...],
           ref_stamps: tuple[tuple[str, int, int], ...]) -> VideoReferences:
    src = Path(src_stamp[0])
    pts: tuple[int, ...] = (0,)
    time_base, rate = float(info.time_base), float(info.average_rate or 0) or None
    if info.still:
        specs = _still_numbers_to_pictures(src, info, specs)
    if any(s.is_keyframe for s in specs):
        index = scan_frames(src, info.average_rate)  # demux only: the pictures' times, to place keyframes
        pts, time_base = index.pts, float(index.time_base)
    width, height = (info.height, info.width) if info.rotation % 180 == 90 else (info.width, info.height)
    sar = float(info.sample_aspect_ratio) if info.sample_aspect_ratio else None
    film = film_of_video(width, height, sar, pts, time_base, rate)
    loaded = [_as_coded(r, info.rotation) for r in load_references(specs, film)]
    return VideoReferences(tuple(loaded), pts if any(r.is_keyframe for r in loaded) else None)


def _as_coded(ref: LoadedReference, rotation: int) -> LoadedReference:
    """A keyframe is made from the picture as a player shows it (turned by the stream's display
    rotation); the pipeline colours the decoded pictures, so turn it back."""
    turns = display_turns(rotation)
    if not ref.is_keyframe or not turns:
        return ref
    return dataclasses.replace(ref, lab=np.ascontiguousarray(np.rot90(ref.lab, -turns)))


def _still_numbers_to_pictures(src: Path, info: VideoInfo, specs: tuple[ReferenceSpec, ...]) -> tuple[ReferenceSpec, ...]:
    """In an image sequence ``#N`` is the still numbered N (what a scan's keyframe is named by), not the N-th picture."""
    from vidcolor.media.sequence import find_sequence

    seq = find_sequence(src, info.average_rate)
    out = []
    for spec in specs:
        if spec.at is not None and spec.at.frame is not None:
            picture = seq.position(spec.at.frame)
            if picture is None:
                raise UsageError(f"keyframe {spec}: {seq.pattern} has no still numbered {spec.at.frame}")
            spec = ReferenceSpec(spec.path, RefTime(frame=picture))
        out.append(spec)
    return tuple(out)


def resolved(options: ColorizeOptions) -> ColorizeOptions:
    """``options`` with every reference's path made absolute."""
    refs = tuple(ReferenceSpec(r.path.resolve(), r.at) for r in options.references)
    return dataclasses.replace(options, references=refs)


def check_video_references(src: Path, info: VideoInfo, specs: Sequence[ReferenceSpec]) -> VideoReferences | None:
    """Read and check ``specs`` against the film (None when there are none); cached for a job's segments.

    Raises:
        UsageError: see :func:`vidcolor.reference.load.load_references`.
        MediaError: the film cannot be demuxed.
    """
    if not specs:
        return None
    specs = tuple(specs)
    return _check(source_stamp(Path(src)), info, specs, tuple(source_stamp(s.path) for s in specs))


def video_guide(src: Path, info: VideoInfo, refs: VideoReferences, temperature: float,
                params: GuideParams | None = None) -> tuple[ReferenceGuide, Callable[[int], int]]:
    """The guide for a run (or a segment) of ``src``, and the pts -> picture number map it needs.

    With keyframes this first finds the film's shots (one decode of every picture, cached per process).
    """
    shots = shots_for(src, info, refs.pts, refs.keyframes) if refs.keyframes else None
    guide = ReferenceGuide(refs.loaded, temperature=temperature, shots=shots, params=params or GuideParams())
    return guide, refs.frame_number


def check_image_references(rgb: np.ndarray, specs: Sequence[ReferenceSpec]) -> list[LoadedReference]:
    """References for one still image, which is a one-picture film (a keyframe must be at 0 s or #0).

    Raises:
        UsageError: see :func:`vidcolor.reference.load.load_references`.
    """
    return load_references(list(specs), film_of_image(rgb)) if specs else []
