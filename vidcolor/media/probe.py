"""What is in a media file: its video stream's geometry, timing and colour tags, and the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from vidcolor.color.spec import ChromaSpec
from vidcolor.errors import MediaError
from vidcolor.media.errors import reading

# Planar YUV and grey formats we read directly: name -> (bits, log2 chroma w, log2 chroma h, full range).
PLANAR_FORMATS: dict[str, tuple[int, int, int, bool]] = {
    "gray": (8, 1, 1, False),
    "gray10le": (10, 1, 1, False),
    "yuv420p": (8, 1, 1, False),
    "yuvj420p": (8, 1, 1, True),
    "yuv422p": (8, 1, 0, False),
    "yuvj422p": (8, 1, 0, True),
    "yuv444p": (8, 0, 0, False),
    "yuvj444p": (8, 0, 0, True),
    "yuv420p10le": (10, 1, 1, False),
    "yuv422p10le": (10, 1, 0, False),
    "yuv444p10le": (10, 0, 0, False),
    # high-depth film scans (image sequences, read full range) and the FFV1 outputs they need
    "gray12le": (12, 1, 1, False),
    "gray16le": (16, 1, 1, False),
    "yuv420p12le": (12, 1, 1, False),
    "yuv420p16le": (16, 1, 1, False),
    "yuv422p12le": (12, 1, 0, False),
    "yuv422p16le": (16, 1, 0, False),
    "yuv444p12le": (12, 0, 0, False),
    "yuv444p16le": (16, 0, 0, False),
}

# FFmpeg AVColorSpace values to our matrices; anything else falls back by frame height.
_MATRICES = {1: "bt709", 5: "bt601", 6: "bt601", 9: "bt2020", 10: "bt2020"}


@dataclass(frozen=True)
class VideoInfo:
    """The first video stream of a file."""

    index: int
    codec: str
    width: int
    height: int
    pix_fmt: str
    time_base: Fraction
    average_rate: Fraction | None
    frames: int
    duration: float | None
    rotation: int
    sample_aspect_ratio: Fraction | None
    color_range: int
    colorspace: int
    color_primaries: int
    color_trc: int
    still: bool = False  # an image sequence: RGB/grey stills read full range at their own depth

    @property
    def read_format(self) -> str:
        """The planar format frames are read in: the stream's own where we can, else a conversion."""
        if self.pix_fmt in PLANAR_FORMATS:
            return self.pix_fmt
        if self.still:
            from vidcolor.media.rgb import still_read_format

            return still_read_format(self.pix_fmt)
        return "yuv420p10le" if "10" in self.pix_fmt or "12" in self.pix_fmt or "16" in self.pix_fmt else "yuv420p"

    @property
    def chroma_spec(self) -> ChromaSpec:
        bits, _, _, full = PLANAR_FORMATS[self.read_format]
        matrix = _MATRICES.get(self.colorspace, "bt709" if self.height >= 720 else "bt601")
        # AVCOL_RANGE_JPEG == 2
        return ChromaSpec(matrix=matrix, full_range=full or self.color_range == 2, bits=bits)


@dataclass(frozen=True)
class StreamInfo:
    index: int
    type: str
    codec: str | None
    language: str | None


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    format: str
    duration: float | None
    video: VideoInfo
    streams: tuple[StreamInfo, ...] = field(default_factory=tuple)


def main_video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The film: the first video stream that is not a cover picture (a thumbnail or second angle after it is left alone).

    Raises:
        MediaError: there is none.
    """
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise MediaError(f"{container.name} has no video stream" + (" (only a cover picture)" if container.streams.video else ""))


def _first_rotation(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    # The display matrix only surfaces on decoded frames in PyAV, so peek at one.
    try:
        for frame in container.decode(stream):
            return int(round(frame.rotation or 0))
    except av.error.FFmpegError:
        return 0
    return 0


def probe(path: Path, *, count_frames: bool = False, fps: Fraction | float | None = None) -> MediaInfo:
    """Read a file's header (and, with ``count_frames``, demux it once to count video packets).

    An image sequence (a printf pattern or a folder of numbered stills, see
    ``vidcolor.media.sequence``) is probed as one film played at ``fps`` (default 24).

    Raises:
        MediaError: the file is missing, unreadable, not a media file, or has no video stream.
    """
    path = Path(path)
    if not path.is_file():
        from vidcolor.media.sequence import find_sequence, probe_sequence

        if (seq := find_sequence(path, fps)) is not None:
            return probe_sequence(seq)
    if not path.exists():
        raise MediaError(f"{path} does not exist")
    if path.is_dir():
        raise MediaError(f"{path} is a folder, not a video file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path} is empty (0 bytes)")
    with reading(path), av.open(str(path), metadata_errors="replace") as container:
        vs = main_video_stream(container)
        cc = vs.codec_context
        if cc is None:  # PyAV leaves no codec context (and no geometry) when FFmpeg has no decoder for it
            raise MediaError(f"{path}: no decoder for its video stream; the file may be damaged or use an unsupported codec")
        if not vs.width or not vs.height:
            raise MediaError(f"{path}: video stream has no picture size; the file may be damaged")
        frames = vs.frames
        if count_frames or frames <= 0:
            frames = sum(1 for p in container.demux(vs) if p.size)
            container.seek(0)
        duration = float(vs.duration * vs.time_base) if vs.duration else (
            container.duration / av.time_base if container.duration else None)
        rotation = _first_rotation(container, vs)
        video = VideoInfo(
            index=vs.index,
            codec=cc.name,
            width=vs.width,
            height=vs.height,
            pix_fmt=cc.pix_fmt or "yuv420p",
            time_base=vs.time_base,
            average_rate=vs.average_rate,
            frames=frames,
            duration=duration,
            rotation=rotation,
            sample_aspect_ratio=vs.sample_aspect_ratio,
            color_range=int(cc.color_range or 0),
            colorspace=int(cc.colorspace or 0),
            color_primaries=int(cc.color_primaries or 0),
            color_trc=int(cc.color_trc or 0),
        )
        streams = tuple(
            StreamInfo(s.index, s.type, getattr(getattr(s, "codec_context", None), "name", None), s.metadata.get("language"))
            for s in container.streams
        )
        return MediaInfo(
            path=path,
            format=container.format.name,
            duration=container.duration / av.time_base if container.duration else duration,
            video=video,
            streams=streams,
        )
