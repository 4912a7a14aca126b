"""The shots around keyframes: one deterministic pass over the film's low-resolution L before colouring.

A keyframe's colours go back to the first picture of its shot, which the stream reaches
before the keyframe itself, and a segment of a split job may start in the middle of a
shot whose keyframe lies in another segment. Both need the cuts before they colour, so
they are found first, on every picture of the film, with the scene-cut detector the
smoother uses; the same pass keeps the film's own L at each keyframe (what the keyframe
image is matched against). The pass depends on the file alone, so a plain run, each
segment of a split job and each Ray worker find the same shots.
"""

from __future__ import annotations

import bisect
import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from vidcolor.color.lab import l_from_luma
from vidcolor.media import FrameReader, VideoInfo
from vidcolor.temporal.scenecut import SceneCutDetector

log = logging.getLogger(__name__)

# the scene-cut detector's thresholds were measured on L at 56x56 (vidcolor/temporal/scenecut.py)
CUT_SIZE = 56
# the film's L at a keyframe is kept at this long side: above the flow resolution of any model here (2x its colour grid)
KEY_LONG_SIDE = 256


@dataclass(frozen=True)
class ShotPlan:
    """Pictures that start a shot (always 0), and the film's L* (float32) at each keyframe's picture."""

    cuts: tuple[int, ...] = (0,)
    key_l: dict[int, np.ndarray] = field(default_factory=dict)

    def shot_of(self, frame: int) -> int:
        """The first picture of ``frame``'s shot."""
        return self.cuts[bisect.bisect_right(self.cuts, frame) - 1]


def _small(l_full: np.ndarray, long_side: int) -> np.ndarray:
    h, w = l_full.shape
    scale = min(1.0, long_side / max(h, w))
    return cv2.resize(l_full, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def scan_shots(src: Path, info: VideoInfo, pts: tuple[int, ...], keyframes: tuple[int, ...]) -> ShotPlan:
    """Decode every picture once: cuts (frame numbers) and the L of the pictures in ``keyframes``.

    Picture numbers come from ``pts`` (the demux-only frame index), as in the stream.

    Raises:
        MediaError: the film cannot be decoded.
    """
    start = time.perf_counter()
    log.info("finding the shots around %d keyframe(s): one pass over the film's pictures", len(keyframes))
    number = {p: i for i, p in enumerate(pts)}
    detector = SceneCutDetector()
    cuts = [0]
    key_l: dict[int, np.ndarray] = {}
    wanted = set(keyframes)
    spec = info.chroma_spec
    # L* of every luma code: the pass shrinks the codes first and looks L up on 56x56 pictures, which
    # costs a third of converting whole pictures (cuts do not need the exact mean of L)
    lut = l_from_luma(torch.arange(spec.max_code + 1), spec).numpy().astype(np.float32)
    n = -1
    for n, frame in enumerate(FrameReader(src, info, on_error="skip")):
        i = number.get(frame.pts, n)
        luma = np.ascontiguousarray(frame.luma)
        l_cut = lut[cv2.resize(luma, (CUT_SIZE, CUT_SIZE), interpolation=cv2.INTER_AREA)]
        if detector.is_cut((l_cut - 50) / 100) and i > 0:
            cuts.append(i)
        if i in wanted:
            key_l[i] = _small(lut[luma], KEY_LONG_SIDE)
    missing = wanted - set(key_l)
    if missing:
        log.warning("keyframe pictures %s were not decoded; those keyframes are ignored", sorted(missing))
    log.debug("shots: %d cuts in %d pictures, found in %.1f s", len(cuts) - 1, n + 1, time.perf_counter() - start)
    return ShotPlan(tuple(sorted(set(cuts))), key_l)


@functools.lru_cache(maxsize=4)
def _cached(src: str, size: int, mtime_ns: int, info: VideoInfo, pts: tuple[int, ...], keyframes: tuple[int, ...]) -> ShotPlan:
    return scan_shots(Path(src), info, pts, keyframes)


def source_stamp(path: Path) -> tuple[str, int, int]:
    """(path, size, mtime) that keys a per-process cache of a film's scans; a printf pattern of
    stills (``scans/%06d.dpx``) is no file and gets -1s, its path alone telling films apart."""
    try:
        st = path.stat()
    except OSError:
        return str(path), -1, -1
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def shots_for(src: Path, info: VideoInfo, pts: tuple[int, ...], keyframes: tuple[int, ...]) -> ShotPlan:
    """:func:`scan_shots`, once per process for the same film and keyframes (the segments of one job)."""
    return _cached(*source_stamp(Path(src)), info, tuple(pts), tuple(sorted(keyframes)))
