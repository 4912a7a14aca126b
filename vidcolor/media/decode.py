"""Decoding: frames out of a container, each with its timestamp and a zero-copy view of its luma."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vidcolor.defaults import ON_ERROR_CHOICES
from vidcolor.errors import MediaError
from vidcolor.media.errors import describe, reading
from vidcolor.media.probe import PLANAR_FORMATS, VideoInfo
from vidcolor.media.rgb import planar_from_rgb
from vidcolor.media.sequence import open_input

log = logging.getLogger(__name__)



@dataclass
class DecodedFrame:
    """One picture: its pts in the stream's time base and its luma plane.

    ``luma`` views the decoder's buffer (no copy); ``frame`` keeps that buffer alive.
    ``repeated`` marks a frame that stands in for one the decoder could not decode,
    ``corrupt`` one the decoder flagged damaged and that was kept (``on_error=skip``).
    """

    pts: int
    luma: np.ndarray
    frame: av.VideoFrame
    repeated: bool = False
    corrupt: bool = False

    @property
    def concealed(self) -> bool:
        """Counted in ``DecodeStats.concealed``: lets a caller count only the frames it keeps (a segment)."""
        return self.repeated or self.corrupt


def plane_view(plane: av.video.plane.VideoPlane, width: int, height: int, dtype: np.dtype) -> np.ndarray:
    """A (height, width) array over a plane's memory, skipping the line padding."""
    itemsize = np.dtype(dtype).itemsize
    buf = np.frombuffer(plane, dtype=dtype)
    return buf.reshape(height, plane.line_size // itemsize)[:, :width]


@dataclass
class DecodeStats:
    """What decoding met: ``concealed`` counts every frame affected (repeated or flagged corrupt)."""

    frames: int = 0
    concealed: int = 0
    repeated: int = 0
    errors: int = 0
    first_error: str | None = None


_MAX_ERROR_WARNINGS = 5


class _ResizedSpans:
    """Warns once per run of pictures whose size is not the stream's first, naming its time span."""

    def __init__(self, name: str, size: tuple[int, int], time_base: Fraction | None,
                 keep: tuple[int, int | None] | None = None) -> None:
        self.name, self.size, self.time_base = name, size, time_base or Fraction(1)
        self.keep = keep
        self._open: list | None = None  # [size, first pts, last pts] of the run being seen

    def see(self, size: tuple[int, int], pts: int) -> None:
        if self.keep is not None and (pts < self.keep[0] or (self.keep[1] is not None and pts >= self.keep[1])):
            return
        if self._open is not None and self._open[0] != size:
            self.close()
        if size == self.size:
            return
        if self._open is None:
            self._open = [size, pts, pts]
        self._open[2] = pts

    def close(self) -> None:
        if self._open is None:
            return
        (w, h), first, last = self._open
        self._open = None
        log.warning("%s: pictures from %.3f s to %.3f s are %dx%d, not the stream's %dx%d; scaled to %dx%d",
                    self.name, float(first * self.time_base), float(last * self.time_base), w, h, *self.size, *self.size)


class FrameReader:
    """Iterate a film's video stream (``info.index``) as DecodedFrames, threaded, in presentation order.

    Args:
        path: the input file.
        info: its probed VideoInfo.
        on_error: ``stop`` raises MediaError at the first undecodable packet, naming its time;
            ``skip`` repeats the previous picture in its place and counts it in ``stats``.
        hwaccel: ``cuda`` to decode on NVDEC when FFmpeg has it (falls back to software, logged).
        seek_pts: start decoding at the keyframe at or before this pts (segments of a split job);
            pictures before it may still come out, the caller drops what it does not need.
        keep: the (first, end) pts of the pictures the caller keeps (end None: to the end);
            warnings about rescaled pictures name only those (a segment's own).
    """

    def __init__(
        self, path: Path, info: VideoInfo, *, on_error: str = "stop", hwaccel: str | None = None, seek_pts: int | None = None,
        keep: tuple[int, int | None] | None = None,
    ) -> None:
        if on_error not in ON_ERROR_CHOICES:
            raise ValueError(f"on_error must be one of {ON_ERROR_CHOICES}, got {on_error!r}")
        self.path = Path(path)
        self.info = info
        self.on_error = on_error
        self.hwaccel = hwaccel
        self.seek_pts = seek_pts
        self.stats = DecodeStats()
        self.hardware = False  # whether the last open decodes on the GPU (NVDEC): a benchmark must know
        self._resized = _ResizedSpans(self.path.name, (info.width, info.height), info.time_base, keep)
        bits = PLANAR_FORMATS[info.read_format][0]
        self._dtype = np.dtype(np.uint16 if bits > 8 else np.uint8)

    def _open(self) -> av.container.InputContainer:
        container = None
        container_accelerated = False
        if self.hwaccel:
            try:
                accel = av.codec.hwaccel.HWAccel(device_type=self.hwaccel, allow_software_fallback=True)
                container = open_input(self.path, fps=self.info.average_rate, hwaccel=accel)
                container_accelerated = True
            except (av.error.FFmpegError, ValueError) as ex:
                log.warning("hardware decoding (%s) unavailable: %s; decoding in software", self.hwaccel, describe(ex))
        if container is None:
            container = open_input(self.path, fps=self.info.average_rate)  # a file, or an image sequence
        stream = container.streams[self.info.index]
        stream.thread_type = "AUTO"
        self.hardware = stream.codec_context.is_hwaccel
        if self.hwaccel and not self.hardware and container_accelerated:
            log.warning("hardware decoding (%s) not used for %s: decoding in software", self.hwaccel, stream.codec_context.name)
        return container

    def _to_decoded(self, frame: av.VideoFrame, pts: int) -> DecodedFrame:
        # the decoder's own flag, taken before a reformat replaces the frame
        corrupt = self.on_error == "skip" and frame.is_corrupt
        if self.info.still:
            frame = planar_from_rgb(frame, self.info.read_format)  # exact: swscale rounds deep RGB
        fmt, width, height = self.info.read_format, self.info.width, self.info.height
        size = (frame.width, frame.height)
        self._resized.see(size, pts)
        if size != (width, height):
            # concatenated reels, broadcast captures, DV/HDV format switches: every picture is
            # coloured, at the stream's first size (one output stream cannot change size in MP4)
            frame = frame.reformat(width=width, height=height, format=fmt, interpolation="AREA")
        elif frame.format.name != fmt:
            # hardware frames, mid-stream format changes and non-planar inputs land here
            frame = frame.reformat(format=fmt)
        return DecodedFrame(pts=pts, luma=plane_view(frame.planes[0], frame.width, frame.height, self._dtype), frame=frame,
                            corrupt=corrupt)

    def __iter__(self) -> Iterator[DecodedFrame]:
        with reading(self.path):
            container = self._open()
            try:
                if self.seek_pts is not None:
                    container.seek(self.seek_pts, stream=container.streams[self.info.index], backward=True)
                yield from self._frames(container)
            finally:
                self._resized.close()
                container.close()

    def _frames(self, container: av.container.InputContainer) -> Iterator[DecodedFrame]:
        stream = container.streams[self.info.index]
        tb = stream.time_base
        last: DecodedFrame | None = None
        last_pts = None
        # pts of packets whose pictures have not come out yet; pictures come out in pts order,
        # so a pending pts below the one just decoded names a picture the decoder lost
        pending: list[int] = []
        track = True
        for packet in container.demux(stream):
            if track and packet.size and packet.pts is not None:
                heapq.heappush(pending, packet.pts)
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError) as ex:
                self._decode_error(packet, tb, ex)
                continue
            for frame in frames:
                if frame.pts is None:
                    track, pending = False, []  # no timestamps to match packets against
                lost = self._lost_before(pending, frame.pts) if track else []
                pts = frame.pts if frame.pts is not None else frame.dts
                if pts is None:
                    pts = 0 if last_pts is None else last_pts + 1
                current = None
                for missing in lost:
                    if last_pts is not None and missing <= last_pts:
                        continue
                    if last is None:  # nothing decoded yet: stand in with the first good picture
                        current = current or self._to_decoded(frame, pts)
                    last_pts = missing
                    yield self._repeat(last or current, missing)
                if last_pts is not None and pts <= last_pts:
                    # a damaged stream can repeat timestamps; encoders need them strictly increasing
                    log.debug("non-increasing pts %s after %s; shifted", pts, last_pts)
                    pts = last_pts + 1
                last_pts = pts
                last = current if current is not None and current.pts == pts else self._to_decoded(frame, pts)
                if last.corrupt:
                    self.stats.concealed += 1
                self.stats.frames += 1
                yield last
        if last is not None and self.stats.errors:
            for missing in sorted(pending):  # pictures lost at the very end
                if last_pts is None or missing > last_pts:
                    last_pts = missing
                    yield self._repeat(last, missing)

    def _decode_error(self, packet: av.Packet, tb: Fraction | None, ex: Exception) -> None:
        """Raise (stop) or count and log (skip) an undecodable packet, naming its time."""
        at = float(packet.pts * tb) if packet.pts is not None and tb else None
        where = f" at {at:.3f} s" if at is not None else " at the end of the stream" if not packet.size else ""
        msg = f"undecodable video packet{where}: {describe(ex)}"
        if self.on_error == "stop":
            raise MediaError(f"{self.path}: {msg}; rerun with --on-error skip to conceal it") from ex
        self.stats.errors += 1
        self.stats.first_error = self.stats.first_error or msg
        if self.stats.errors <= _MAX_ERROR_WARNINGS:
            log.warning("%s: %s; concealing it", self.path.name, msg)
        elif self.stats.errors == _MAX_ERROR_WARNINGS + 1:
            log.warning("%s: more undecodable packets; further ones are only counted", self.path.name)

    def _lost_before(self, pending: list[int], pts: int | None) -> list[int]:
        """Pop the pending pts below ``pts``: pictures the decoder will never return.

        They are only concealed (skip) after damage was seen; in a clean stream they are
        packets the container asks to discard (edit lists), which must stay dropped.
        """
        lost = []
        while pending and pts is not None and pending[0] <= pts:
            p = heapq.heappop(pending)
            if p < pts:
                lost.append(p)
        if self.on_error != "skip" or not self.stats.errors:
            return []
        return lost

    def _repeat(self, source: DecodedFrame, pts: int) -> DecodedFrame:
        self.stats.repeated += 1
        self.stats.concealed += 1
        return DecodedFrame(pts=pts, luma=source.luma, frame=source.frame, repeated=True)
