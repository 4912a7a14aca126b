"""Reading references and checking them against the film, before anything is decoded."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vidcolor.errors import MediaError, UsageError
from vidcolor.media.image import read_rgb
from vidcolor.reference.spec import ReferenceSpec

log = logging.getLogger(__name__)

# A picture whose pixels are (almost) all within this chroma of grey says nothing about colour.
_COLOURED_CHROMA = 6.0
_MIN_COLOURED_SHARE = 0.01
# A keyframe may be scaled, not cropped: display aspects within 2 % (rounding of odd sizes) count as the same.
_ASPECT_TOLERANCE = 0.02
# References are worked on at most this many pixels on the long side: the colour grid is 1/4 of the network's input.
_WORK_LONG_SIDE = 512


@dataclass(frozen=True)
class FilmFrames:
    """What references are checked against: the film's display aspect and its pictures' times.

    ``seconds[i]`` is picture i's time from the first picture; a still image is one picture at 0.
    """

    aspect: float
    seconds: tuple[float, ...]
    frame_duration: float = 0.0

    @property
    def frames(self) -> int:
        return len(self.seconds)

    @property
    def duration(self) -> float:
        return self.seconds[-1] + self.frame_duration

    def frame_at(self, seconds: float) -> int:
        """The picture showing at ``seconds`` (the last one starting at or before it, within half a frame)."""
        i = bisect.bisect_right(self.seconds, seconds + 0.5 * self.frame_duration + 1e-9) - 1
        return min(max(i, 0), self.frames - 1)


@dataclass(frozen=True)
class LoadedReference:
    """A reference image in CIE Lab (float32, L in [0, 100]), and the film picture it colours if a keyframe."""

    spec: ReferenceSpec
    lab: np.ndarray
    frame: int | None

    @property
    def is_keyframe(self) -> bool:
        return self.frame is not None


def _read(spec: ReferenceSpec) -> np.ndarray:
    try:
        rgb = read_rgb(spec.path)
    except MediaError as ex:
        raise UsageError(f"--reference {spec}: {ex}") from None
    h, w = rgb.shape[:2]
    scale = min(1.0, _WORK_LONG_SIDE / max(h, w))
    if scale < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def coloured_share(lab: np.ndarray) -> float:
    """The share of pixels with a chroma above that of film grain on grey."""
    return float((np.hypot(lab[..., 1], lab[..., 2]) > _COLOURED_CHROMA).mean())


def load_references(specs: Sequence[ReferenceSpec], film: FilmFrames) -> list[LoadedReference]:
    """Read every reference and check it against ``film``.

    Raises:
        UsageError: a file is missing or unreadable, has no colour, a keyframe's time is outside the
            film or its aspect differs from the film's, or two keyframes colour the same picture.
    """
    out: list[LoadedReference] = []
    taken: dict[int, ReferenceSpec] = {}
    for spec in specs:
        lab = _read(spec)
        if coloured_share(lab) < _MIN_COLOURED_SHARE:
            raise UsageError(f"--reference {spec}: the image has no colour in it (a reference must be a colour picture)")
        frame = None
        if spec.at is not None:
            if spec.at.frame is not None:
                if spec.at.frame >= film.frames:
                    raise UsageError(f"--reference {spec}: frame {spec.at.frame} is outside the film "
                                     f"(frames 0 to {film.frames - 1})")
                frame = spec.at.frame
            else:
                seconds = float(spec.at.seconds or 0.0)
                if seconds > film.duration + 1e-6 or (film.frames == 1 and seconds > 0):
                    raise UsageError(f"--reference {spec}: {seconds:g} s is outside the film "
                                     f"(0 to {film.duration:.3f} s)")
                frame = film.frame_at(seconds)
            h, w = lab.shape[:2]
            aspect = w / h
            if abs(aspect / film.aspect - 1) > _ASPECT_TOLERANCE:
                raise UsageError(f"--reference {spec}: a keyframe must have the film's aspect "
                                 f"({film.aspect:.3f}), this image's is {aspect:.3f}")
            if frame in taken:
                raise UsageError(f"--reference {spec}: picture {frame} already has the keyframe {taken[frame]}")
            taken[frame] = spec
        out.append(LoadedReference(spec, lab, frame))
    log.debug("references: %s", ", ".join(f"{r.spec} (frame {r.frame})" if r.is_keyframe else str(r.spec) for r in out))
    return out


def film_of_image(rgb: np.ndarray) -> FilmFrames:
    """A still image as a one-picture film."""
    h, w = rgb.shape[:2]
    return FilmFrames(aspect=w / h, seconds=(0.0,))


def film_of_video(width: int, height: int, sample_aspect: float | None, pts: Sequence[int], time_base: float,
                  rate: float | None) -> FilmFrames:
    """A video's display aspect and picture times from its probe and demux-only frame index."""
    first = pts[0]
    seconds = tuple(float((p - first) * time_base) for p in pts)
    step = 1.0 / rate if rate else (seconds[-1] - seconds[0]) / max(len(seconds) - 1, 1)
    return FilmFrames(aspect=width * (sample_aspect or 1.0) / height, seconds=seconds, frame_duration=step)
