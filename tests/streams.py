"""Short real clips to run on, and reading back what a run wrote, for assertions (tests and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


@dataclass
class VideoSummary:
    pts: list[int]
    time_base: Fraction
    average_rate: Fraction | None
    pix_fmt: str
    lumas: list[np.ndarray]
    chroma_std: float
    rotation: int
    sample_aspect_ratio: Fraction | None
    color_range: int
    stream_types: list[str]


def clip_prefix(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``src``, every stream copied packet for packet (a short real clip)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if packet.size and packet.pts is not None and packet.pts * packet.time_base < seconds:
                packet.stream = streams[packet.stream_index]
                out.mux(packet)
    return dst


def luma_of(frame: av.VideoFrame) -> np.ndarray:
    plane = frame.planes[0]
    dtype = np.uint16 if frame.format.name.endswith(("10le", "16le", "12le")) else np.uint8
    arr = np.frombuffer(plane, dtype=dtype).reshape(plane.height, -1)[:, : plane.width]
    return arr.copy()


def summarize(path: Path, *, keep_luma: bool = True, max_frames: int | None = None) -> VideoSummary:
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        pts, lumas, stds, rotation = [], [], [], 0
        for i, frame in enumerate(c.decode(vs)):
            if max_frames is not None and i >= max_frames:
                break
            pts.append(frame.pts)
            rotation = int(frame.rotation or 0)
            if keep_luma:
                lumas.append(luma_of(frame))
            if i < 5 and len(frame.planes) > 1:
                p = frame.planes[1]
                dtype = np.uint16 if frame.format.name.endswith("10le") else np.uint8
                stds.append(float(np.frombuffer(p, dtype=dtype).astype(float).std()))
        return VideoSummary(
            pts=pts,
            time_base=vs.time_base,
            average_rate=vs.average_rate,
            pix_fmt=vs.codec_context.pix_fmt,
            lumas=lumas,
            chroma_std=max(stds) if stds else 0.0,
            rotation=rotation,
            sample_aspect_ratio=vs.sample_aspect_ratio,
            color_range=int(vs.codec_context.color_range or 0),
            stream_types=[s.type for s in c.streams],
        )


def packets(path: Path, kind: str) -> list[bytes]:
    with av.open(str(path)) as c:
        streams = [s for s in c.streams if s.type == kind]
        if not streams:
            return []
        return [bytes(p) for p in c.demux(streams[0]) if p.size]


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak * peak / mse)
