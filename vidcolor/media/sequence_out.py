"""Writing a film as numbered stills (``-o out/%06d.dpx``): numbered as the input, all files or none.

The stills are written by FFmpeg's image2 muxer with ``frame_pts``: each file is named by its
packet's pts, which is the input picture's own number, so the numbering (gaps included)
is the input's. They go into a hidden folder inside the target folder and are moved in
only when every picture is written; an error or Ctrl-C removes the hidden folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from vidcolor.errors import MediaError, UsageError
from vidcolor.media.errors import describe
from vidcolor.media.probe import PLANAR_FORMATS, VideoInfo
from vidcolor.media.rgb import rgb_from_planar
from vidcolor.media.sequence import PRINTF_NUMBER, STILL_SUFFIXES, ImageSequence, is_pattern

log = logging.getLogger(__name__)

# suffix -> (encoder, {bits: RGB pixel format}); a depth the format lacks is written at the next one up
SEQUENCE_FORMATS: dict[str, tuple[str, dict[int, str]]] = {
    ".dpx": ("dpx", {8: "rgb24", 10: "gbrp10le", 12: "gbrp12le", 16: "rgb48le"}),
    ".tif": ("tiff", {8: "rgb24", 16: "rgb48le"}),
    ".tiff": ("tiff", {8: "rgb24", 16: "rgb48le"}),
    ".png": ("png", {8: "rgb24", 16: "rgb48be"}),
}
PARTIAL_FOLDER = ".vidcolor-partial"


@dataclass(frozen=True)
class SequenceTarget:
    """Where numbered stills go: a folder and a printf name (``out/%06d.dpx``)."""

    folder: Path
    pattern: str

    @property
    def suffix(self) -> str:
        return Path(self.pattern).suffix.lower()

    def path(self, number: int) -> Path:
        return self.folder / (self.pattern % number)

    def pixel_format(self, bits: int) -> tuple[str, int]:
        """The RGB format a picture of ``bits`` is written in, and its depth."""
        formats = SEQUENCE_FORMATS[self.suffix][1]
        depth = next(b for b in sorted(formats) if b >= bits)
        return formats[depth], depth


def is_stills_output(dst: Path) -> bool:
    """``dst`` names numbered stills (``out/%06d.dpx``) rather than a video file."""
    dst = Path(dst)
    return is_pattern(dst) and (dst.suffix.lower() in SEQUENCE_FORMATS or dst.suffix.lower() in STILL_SUFFIXES
                                or PRINTF_NUMBER.search(dst.name) is not None)


def sequence_target(dst: Path) -> SequenceTarget | None:
    """The stills ``dst`` names (a printf pattern), or None for a file output.

    Raises:
        UsageError: a pattern in a format stills cannot be written in.
    """
    dst = Path(dst)
    if not is_stills_output(dst):
        return None
    if dst.suffix.lower() not in SEQUENCE_FORMATS:
        raise UsageError(f"cannot write stills as {dst.name!r}; use .dpx, .tif or .png")
    if len(PRINTF_NUMBER.findall(dst.name)) != 1 or "%" in PRINTF_NUMBER.sub("", dst.name.replace("%%", "")):
        raise UsageError(f"{dst.name!r}: a sequence pattern holds one frame number, e.g. %06d")
    return SequenceTarget(dst.parent if str(dst.parent) else Path("."), dst.name)


def check_sequence_output(target: SequenceTarget, source: ImageSequence | None, *, overwrite: bool) -> None:
    """Refuse a target over the input's files or over existing stills (without ``overwrite``), or unwritable."""
    if source is None:
        raise UsageError(f"numbered stills ({target.pattern}) are written from an image sequence input; "
                         "write a video file instead")
    folder = target.folder
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; stills go into a folder")
    parent = folder if folder.is_dir() else folder.parent
    if not parent.is_dir():
        raise MediaError(f"the output folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MediaError(f"the output folder {parent} is not writable")
    names = [target.path(n) for n in source.numbers]
    if folder.is_dir() and any(p.exists() and os.path.samefile(p, source.folder / source.name(n)) for p, n in zip(names, source.numbers)):
        raise UsageError(f"the output {target.folder / target.pattern} would write over the input; vidcolor never writes over its input")
    existing = [p for p in names if p.exists()] if folder.is_dir() else []
    if existing and not overwrite:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]}{more} already exist; pass --overwrite to replace them")


@contextlib.contextmanager
def atomic_sequence_output(target: SequenceTarget) -> Iterator[Path]:
    """Yield a hidden folder for the stills; on success they move into the target folder, else it is deleted."""
    made = not target.folder.exists()
    if made:
        try:
            target.folder.mkdir()
        except OSError as ex:
            raise MediaError(f"cannot create {target.folder}: {ex.strerror or ex}") from ex
    tmp = target.folder / f"{PARTIAL_FOLDER}-{os.getpid()}"
    try:
        tmp.mkdir(exist_ok=True)
        yield tmp
        log.debug("moved %d stills into %s", move_stills([tmp], target), target.folder)
    except OSError as ex:
        raise MediaError(f"cannot write {target.folder}: {ex.strerror or ex}") from ex
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if made:
            with contextlib.suppress(OSError):
                target.folder.rmdir()  # only when empty, i.e. the run failed


def move_stills(parts: list[Path], target: SequenceTarget) -> int:
    """The join of a split job to stills: every part folder's stills, flushed, moved into the target folder.

    Returns how many were moved. Safe file by file (each is renamed whole); the caller
    checked beforehand that none of their names is taken (or that --overwrite was given).
    """
    names = [(part, name) for part in parts for name in sorted(os.listdir(part))]
    try:
        target.folder.mkdir(exist_ok=True)
        for part, name in names:
            with open(part / name, "rb+") as f:
                os.fsync(f.fileno())
        for part, name in names:
            os.replace(part / name, target.folder / name)
    except OSError as ex:
        raise MediaError(f"cannot write {target.folder}: {ex.strerror or ex}") from ex
    return len(names)


class SequenceWriter:
    """The VideoWriter interface over numbered stills: each picture full-range BT.709 Y'CbCr to RGB.

    Args:
        folder: where the stills are written (the hidden folder of ``atomic_sequence_output``).
        target: their name pattern.
        info: the source (an image sequence); the depth written is its own where the format has it.
        first_number: the source's first number; a picture's file number is its pts plus this.
    """

    remuxer = None  # stills carry no other streams
    full_range = True

    def __init__(self, folder: Path, target: SequenceTarget, info: VideoInfo, first_number: int) -> None:
        self.info = info
        self.first_number = first_number
        self.bits = PLANAR_FORMATS[info.read_format][0]
        self.pix_fmt = f"yuv444p{'' if self.bits == 8 else f'{self.bits}le'}"  # what the predictor codes chroma for
        self.rgb_format, self.rgb_bits = target.pixel_format(self.bits)
        self.matrix = info.chroma_spec.matrix
        self.frames_written = 0
        try:
            self.container = av.open(str(folder / target.pattern), "w", format="image2", options={"frame_pts": "1"})
        except (av.error.FFmpegError, OSError) as ex:
            raise MediaError(f"cannot write {target.folder / target.pattern}: {describe(ex)}") from ex
        try:
            encoder = SEQUENCE_FORMATS[target.suffix][0]
            self.stream = self.container.add_stream(encoder, rate=info.average_rate)
            self.stream.width, self.stream.height = info.width, info.height
            self.stream.pix_fmt = self.rgb_format
            self.stream.time_base = info.time_base
        except BaseException:
            self.container.close()
            raise
        log.info("writing %s stills, %s (%d-bit)", target.suffix, self.rgb_format, self.rgb_bits)

    @property
    def chroma_shape(self) -> tuple[int, int]:
        return (self.info.height, self.info.width)

    @property
    def chroma_bits(self) -> int:
        return self.bits

    def write(self, luma: np.ndarray, chroma: np.ndarray, pts: int) -> None:
        rgb = rgb_from_planar(luma, chroma[0], chroma[1], self.bits, self.rgb_bits, self.matrix)
        frame = av.VideoFrame.from_ndarray(rgb, format=self.rgb_format)
        frame.pts = pts + self.first_number  # frame_pts names the file by it
        frame.time_base = self.info.time_base
        try:
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
        except av.error.FFmpegError as ex:
            raise MediaError(f"writing still {pts + self.first_number} failed: {describe(ex)}") from ex
        self.frames_written += 1

    def close(self) -> None:
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
            self.container.close()
        except (av.error.FFmpegError, OSError) as ex:
            self.abort()
            raise MediaError(f"finishing the stills failed: {describe(ex)}") from ex

    def abort(self) -> None:
        """Never raises (see VideoWriter.abort); the hidden folder is removed by its owner."""
        try:
            self.container.close()
        except (av.error.FFmpegError, OSError) as ex:
            log.debug("closing the abandoned stills: %s", describe(ex))
