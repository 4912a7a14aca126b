"""Encoding: recoloured frames to a new video stream, every other stream copied untouched."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# codec name -> (FFmpeg encoder, containers); kept in vidcolor.defaults so the CLI's help needs no PyAV
from vidcolor.defaults import CODECS, DEFAULT_CODEC
from vidcolor.errors import MediaError, UsageError
from vidcolor.media.decode import plane_view
from vidcolor.media.errors import describe
from vidcolor.media.probe import PLANAR_FORMATS, VideoInfo
from vidcolor.media.remux import Remuxer
from vidcolor.media.rgb import requantize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodeOptions:
    """How the recoloured video stream is encoded.

    Attributes:
        codec: ``x264`` (lossy, the default), ``ffv1`` (lossless, MKV) or ``prores`` (MOV).
        crf: x264 quality; 16 keeps film grain.
        preset: x264 speed/size trade-off.
    """

    codec: str = DEFAULT_CODEC
    crf: int = 16
    preset: str = "medium"

    def check(self, output: Path) -> None:
        if self.codec not in CODECS:
            raise UsageError(f"unknown codec {self.codec!r}; use one of {', '.join(CODECS)}")
        suffixes = CODECS[self.codec][1]
        if output.suffix.lower() not in suffixes:
            raise UsageError(f"--codec {self.codec} needs an output ending in {' or '.join(suffixes)}, not {output.name!r}")
        if not 0 <= self.crf <= 51:
            raise UsageError(f"--crf must be 0..51, got {self.crf}")


def output_format(read_format: str, codec: str) -> str:
    """Pixel format written: the input's subsampling and depth, with colour planes added to grey.

    The depth is capped where the codec stops: ProRes is 10-bit, x264 8 or 10-bit; FFV1
    keeps 12 and 16-bit scans as they are.
    """
    bits, sx, sy, _ = PLANAR_FORMATS[read_format]
    if codec == "prores":
        return "yuv444p10le" if (sx, sy) == (0, 0) else "yuv422p10le"
    if codec == "x264":
        bits = min(bits, 10)
    depth = "" if bits == 8 else f"{bits}le"
    if read_format.startswith("gray"):
        return f"yuv420p{depth}"
    # full range is carried by the colour_range tag, not the deprecated yuvj formats
    return f"{read_format.replace('yuvj', 'yuv')[:7]}{depth}"


class VideoWriter:
    """Writes one video stream plus the source's other streams into ``path``.

    Args:
        path: the file to write (the pipeline passes a temporary name beside the target).
        container_format: FFmpeg muxer name, e.g. ``mp4`` (taken from the target's extension).
        info: the source video stream; timing, geometry and colour tags are copied from it.
        source: the source file, whose audio, subtitle, data and attachment streams are copied;
            None writes the video stream alone (a segment of a split job, joined later).
    """

    def __init__(self, path: Path, container_format: str | None, info: VideoInfo, source: Path | None, options: EncodeOptions) -> None:
        self.info = info
        self.options = options
        self.pix_fmt = output_format(info.read_format, options.codec)
        out_bits = PLANAR_FORMATS[self.pix_fmt][0]
        self._dtype = np.dtype(np.uint16 if out_bits > 8 else np.uint8)
        self._in_bits, self._out_bits = PLANAR_FORMATS[info.read_format][0], out_bits
        self._full_range = info.chroma_spec.full_range
        # ProRes is limited range by definition: full-range scans are mapped into it
        self.full_range = self._full_range and options.codec != "prores"
        self.frames_written = 0
        try:
            self.container = av.open(str(path), "w", format=container_format)
        except (av.error.FFmpegError, OSError) as ex:
            raise MediaError(f"cannot write {path}: {describe(ex)}") from ex
        try:
            self.stream = self._add_video_stream()
            self.remuxer = Remuxer(source, self.container, skip_index=info.index) if source is not None else None
            if self.remuxer is None:
                return
            self.container.metadata.update(self.remuxer.metadata)
            # statistics tags describe the old encode; the rest (language, title) still holds
            self.stream.metadata.update({k: v for k, v in self.remuxer.video_metadata.items() if not k.startswith(("_STATISTICS", "BPS", "NUMBER_OF", "DURATION", "encoder"))})
        except BaseException:
            self.container.close()
            raise

    def _add_video_stream(self) -> av.video.stream.VideoStream:
        info = self.info
        encoder = CODECS[self.options.codec][0]
        rate = info.average_rate if info.average_rate else Fraction(25)
        stream = self.container.add_stream(encoder, rate=rate)
        stream.width = info.width
        stream.height = info.height
        stream.pix_fmt = self.pix_fmt
        stream.time_base = info.time_base
        cc = stream.codec_context
        cc.time_base = info.time_base
        if info.sample_aspect_ratio:
            cc.sample_aspect_ratio = info.sample_aspect_ratio
        for tag in ("color_range", "colorspace", "color_primaries", "color_trc"):
            value = getattr(info, tag)
            if value:
                setattr(cc, tag, value)
        if self._full_range and not self.full_range:
            cc.color_range = 1  # AVCOL_RANGE_MPEG
        if self.options.codec == "x264":
            stream.options = {"crf": str(self.options.crf), "preset": self.options.preset, "tune": "film"}
        elif self.options.codec == "ffv1":
            stream.options = {"level": "3", "slicecrc": "1", "g": "1"}
        elif self.options.codec == "prores":
            stream.options = {"profile": "3"}  # ProRes 422 HQ
        if info.rotation:
            stream.set_display_rotation(info.rotation)
        return stream

    def _frame(self, luma: np.ndarray, chroma: np.ndarray, pts: int) -> av.VideoFrame:
        frame = av.VideoFrame(self.info.width, self.info.height, self.pix_fmt)
        y = plane_view(frame.planes[0], frame.planes[0].width, frame.planes[0].height, self._dtype)
        # a deeper output gets the same picture, a shallower one (16-bit scan to 10-bit ProRes) it rounded
        y[...] = requantize(luma, self._in_bits, self._out_bits, full_range=self._full_range, dtype=self._dtype,
                            to_full_range=self.full_range)
        for i in (1, 2):
            plane = frame.planes[i]
            view = plane_view(plane, plane.width, plane.height, self._dtype)
            view[...] = chroma[i - 1, : plane.height, : plane.width]
        frame.pts = pts
        frame.time_base = self.info.time_base
        for tag in ("color_range", "colorspace"):
            value = getattr(self.info, tag)
            if value:
                setattr(frame, tag, value)
        if self._full_range and not self.full_range:
            frame.color_range = 1
        return frame

    @property
    def chroma_shape(self) -> tuple[int, int]:
        _, sx, sy, _ = PLANAR_FORMATS[self.pix_fmt]
        return (-(-self.info.height // (1 << sy)), -(-self.info.width // (1 << sx)))

    @property
    def chroma_bits(self) -> int:
        return PLANAR_FORMATS[self.pix_fmt][0]

    def write(self, luma: np.ndarray, chroma: np.ndarray, pts: int) -> None:
        """Encode one picture: the source's luma plane and new (2, h, w) Cb/Cr codes."""
        try:
            for packet in self.stream.encode(self._frame(luma, chroma, pts)):
                self._mux(packet)
        except av.error.FFmpegError as ex:
            raise MediaError(f"encoding failed at pts {pts}: {describe(ex)}") from ex
        self.frames_written += 1

    def _mux(self, packet: av.Packet) -> None:
        if self.remuxer is not None and packet.dts is not None and packet.time_base:
            self.remuxer.mux_until(float(packet.dts * packet.time_base))
        self.container.mux(packet)

    def close(self) -> None:
        """Flush the encoder, copy what is left of the other streams, write the trailer."""
        try:
            for packet in self.stream.encode(None):
                self._mux(packet)
            if self.remuxer is not None:
                self.remuxer.mux_until(None)
        except av.error.FFmpegError as ex:
            self.abort()
            raise MediaError(f"finishing the output failed: {describe(ex)}") from ex
        except BaseException:
            self.abort()
            raise
        if self.remuxer is not None:
            self.remuxer.close()
        try:
            self.container.close()
        except (av.error.FFmpegError, OSError) as ex:
            raise MediaError(f"closing the output failed: {describe(ex)}") from ex

    def abort(self) -> None:
        """Close everything without flushing (the pipeline deletes the file).

        Never raises: it runs while another error or an interrupt unwinds, which must
        reach the user unchanged (a full disk fails this close too).
        """
        if self.remuxer is not None:
            self.remuxer.close()
        try:
            self.container.close()
        except (av.error.FFmpegError, OSError) as ex:
            log.debug("closing the abandoned output: %s", describe(ex))
