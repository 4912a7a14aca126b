"""Random access: single pictures at chosen times, for previews, without decoding the whole film."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from vidcolor.errors import MediaError
from vidcolor.media.errors import reading
from vidcolor.media.probe import main_video_stream
from vidcolor.media.sequence import open_input


def rgb_frames_at(path: Path, seconds: list[float]) -> list[tuple[float, np.ndarray]]:
    """For each time, the first picture at or after it as (its time in s, (H, W, 3) uint8 RGB).

    Each time is reached by seeking to the keyframe before it and decoding forward, so the
    cost is a few GOPs per picture whatever the film's length. A time past the last picture
    gives the last one.

    Raises:
        MediaError: the file cannot be read or has no decodable picture.
    """
    path = Path(path)
    out: list[tuple[float, np.ndarray]] = []
    with reading(path), open_input(path) as container:  # a file, or an image sequence at its default rate
        stream = main_video_stream(container)
        stream.thread_type = "AUTO"
        tb = stream.time_base
        start = stream.start_time or 0
        for t in seconds:
            target = start + int(t / tb)
            container.seek(target, stream=stream, backward=True)
            found: av.VideoFrame | None = None
            for frame in container.decode(stream):
                found = frame
                if frame.pts is not None and frame.pts >= target:
                    break
            if found is None:
                raise MediaError(f"{path}: no picture could be decoded near {t:.2f} s")
            at = float((found.pts - start) * tb) if found.pts is not None else t
            out.append((at, found.to_ndarray(format="rgb24")))
    return out


def as_displayed(rgb: np.ndarray, sample_aspect: float | None = None, rotation: int = 0) -> np.ndarray:
    """A decoded picture as a player shows it: non-square pixels stretched to square ones (never
    shrunk, so no detail is lost), then turned by the stream's display rotation (degrees
    counter-clockwise, as ``VideoInfo.rotation``: -90 turns the picture clockwise)."""
    h, w = rgb.shape[:2]
    if sample_aspect and abs(sample_aspect - 1) > 1e-3:
        size = (round(w * sample_aspect), h) if sample_aspect > 1 else (w, round(h / sample_aspect))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
    turns = display_turns(rotation)
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def display_turns(rotation: int) -> int:
    """The quarter turns counter-clockwise (``np.rot90``'s k, 0-3) that show a decoded picture as
    played, for a display rotation in degrees counter-clockwise (``VideoInfo.rotation``)."""
    return round(rotation / 90) % 4
