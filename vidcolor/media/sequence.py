"""Film scans as numbered stills: finding a sequence, describing it, and reading it as one stream.

A scanner delivers a folder of numbered frames (``scan_000001.dpx`` ...). FFmpeg's image2
demuxer reads them through a printf pattern, but stops at the first missing number, so a
sequence with gaps is read run by run (:class:`SequenceContainer`), each picture timed by its
own number: pts = number - first, time base 1/fps, and a gap stays a gap in time.

The rule that tells a sequence folder from a batch folder of videos: a folder whose visible
files are all stills (``STILL_SUFFIXES``), all named one prefix + a number + one suffix, is
a sequence (and its pictures must share one size, checked on the first picture of each run
and the last one); a folder with videos, or without stills, is a batch of videos; anything
else (stills beside other files, two prefixes, a still without a number) is an error.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av

from vidcolor.defaults import STILL_SUFFIXES, VIDEO_SUFFIXES
from vidcolor.errors import MediaError, UsageError
from vidcolor.media.errors import reading

if TYPE_CHECKING:
    from vidcolor.media.probe import MediaInfo

log = logging.getLogger(__name__)

DEFAULT_FPS = Fraction(24)

# one printf conversion for the frame number: %d, %6d or %06d (image2's own syntax)
PRINTF_NUMBER = re.compile(r"%(0?)(\d*)d")
_NUMBERED = re.compile(r"^(.*?)(\d+)([^\d]*)$")


@dataclass(frozen=True)
class ImageSequence:
    """Numbered stills read as one film.

    Attributes:
        folder: where the stills are.
        pattern: their printf name, e.g. ``scan_%06d.dpx`` (image2's syntax).
        numbers: the numbers present, ascending.
        fps: the frame rate the film is played at (stills carry none).
    """

    folder: Path
    pattern: str
    numbers: tuple[int, ...]
    fps: Fraction = DEFAULT_FPS

    @property
    def path(self) -> Path:
        """The printf path image2 opens."""
        return self.folder / self.pattern

    @property
    def first(self) -> int:
        return self.numbers[0]

    def position(self, number: int) -> int | None:
        """Which picture of the film the still numbered ``number`` is (gaps skipped), or None."""
        i = bisect.bisect_left(self.numbers, number)
        return i if i < len(self.numbers) and self.numbers[i] == number else None

    @property
    def last(self) -> int:
        return self.numbers[-1]

    @property
    def suffix(self) -> str:
        return Path(self.pattern).suffix.lower()

    def name(self, number: int) -> str:
        return self.pattern % number

    @property
    def runs(self) -> list[tuple[int, int]]:
        """Contiguous (first, last) runs of numbers; image2 reads one run per open."""
        runs: list[tuple[int, int]] = []
        for n in self.numbers:
            if runs and n == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], n)
            else:
                runs.append((n, n))
        return runs

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """Missing (first, last) number ranges between the runs."""
        runs = self.runs
        return [(a[1] + 1, b[0] - 1) for a, b in itertools.pairwise(runs)]

    def describe_gaps(self, limit: int = 8) -> str:
        parts = [str(a) if a == b else f"{a}-{b}" for a, b in self.gaps]
        more = f" and {len(parts) - limit} more" if len(parts) > limit else ""
        return ", ".join(parts[:limit]) + more

    @property
    def duration(self) -> float:
        return float((self.last - self.first + 1) / self.fps)


def is_pattern(path: Path | str) -> bool:
    """A printf-style name such as ``scans/%06d.dpx`` (``%%`` is a literal ``%``); checked by ``find_sequence``."""
    path = Path(path)
    return "%" in path.name.replace("%%", "") and not path.is_file()


def _check_fps(fps: Fraction | float | str | None) -> Fraction:
    if fps is None:
        return DEFAULT_FPS
    try:
        rate = Fraction(str(fps)).limit_denominator(100000)
    except (ValueError, ZeroDivisionError) as ex:
        raise UsageError(f"--fps must be a number such as 24 or 23.976, not {fps!r}") from ex
    if not 0 < rate <= 1000:
        raise UsageError(f"--fps must be above 0 and at most 1000, not {fps}")
    # 23.976 and 29.97 mean the NTSC rates exactly, as in FFmpeg
    for ntsc in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)):
        if abs(float(rate - ntsc)) < 1e-3:
            return ntsc
    return rate


def _visible_files(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if not e.name.startswith(".") and e.is_file())


def _from_pattern(path: Path, fps: Fraction) -> ImageSequence:
    name = path.name
    if len(PRINTF_NUMBER.findall(name)) != 1 or "%" in PRINTF_NUMBER.sub("", name.replace("%%", "")):
        raise UsageError(f"{name!r}: a sequence pattern holds one frame number, e.g. %06d or %d")
    if "/" in name or any(PRINTF_NUMBER.search(part) for part in path.parent.parts):
        raise UsageError(f"{path}: only the file name may hold the frame number")
    if Path(name).suffix.lower() not in STILL_SUFFIXES:
        raise UsageError(f"{name!r}: an image sequence is one of {', '.join(STILL_SUFFIXES)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MediaError(f"the folder {folder} does not exist")
    match = PRINTF_NUMBER.search(name)
    prefix, suffix = name[: match.start()], name[match.end():]
    numbered = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + "$")
    numbers = sorted({int(m.group(1)) for f in _visible_files(folder) if (m := numbered.match(f)) and name % int(m.group(1)) == f})
    if not numbers:
        raise MediaError(f"no files in {folder} match {name}")
    return ImageSequence(folder, name, tuple(numbers), fps)


def _from_folder(folder: Path, fps: Fraction) -> ImageSequence | None:
    """The folder's sequence; None when it holds no stills (a batch folder of videos, or empty)."""
    files = _visible_files(folder)
    stills = [f for f in files if Path(f).suffix.lower() in STILL_SUFFIXES]
    if not stills or any(Path(f).suffix.lower() in VIDEO_SUFFIXES for f in files):
        return None  # a batch of videos (a poster or contact sheet beside them is no sequence)
    others = [f for f in files if Path(f).suffix.lower() not in STILL_SUFFIXES]
    if others:
        raise MediaError(f"{folder} mixes stills with other files ({others[0]!r}); "
                         "an image sequence folder holds only numbered stills")
    parsed = [(m.group(1), m.group(2), m.group(3)) if (m := _NUMBERED.match(f)) else None for f in stills]
    if None in parsed:
        bad = stills[parsed.index(None)]
        raise MediaError(f"{folder}: {bad!r} has no frame number; an image sequence folder holds only numbered stills")
    names = {(p, s) for p, _, s in parsed}
    if len(names) > 1:
        (p1, s1), (p2, s2) = sorted(names)[:2]
        raise MediaError(f"{folder} holds more than one sequence ({p1}#{s1} and {p2}#{s2}); "
                         "give one as a pattern, e.g. " + str(folder / f"{p1}%0{len(parsed[0][1])}d{s1}"))
    prefix, suffix = names.pop()
    digits = [d for _, d, _ in parsed]
    widths = {len(d) for d in digits}
    if len(widths) == 1 and next(iter(widths)) > 1:
        pattern = f"{prefix}%0{widths.pop()}d{suffix}"
    elif not any(d.startswith("0") and len(d) > 1 for d in digits):
        pattern = f"{prefix}%d{suffix}"
    else:
        width = min(widths)
        pattern = f"{prefix}%0{width}d{suffix}"
    mismatched = [f for f, (_, d, _) in zip(stills, parsed) if pattern % int(d) != f]
    if mismatched:
        raise MediaError(f"{folder}: {mismatched[0]!r} is numbered with another padding than {pattern}")
    return ImageSequence(folder, pattern, tuple(sorted(int(d) for d in digits)), fps)


def find_sequence(path: Path | str, fps: Fraction | float | str | None = None) -> ImageSequence | None:
    """The image sequence ``path`` names (a printf pattern or a folder), or None for anything else.

    Raises:
        UsageError: a malformed pattern or frame rate.
        MediaError: the pattern matches no file, or a folder of stills is not one numbered sequence.
    """
    path = Path(path)
    if is_pattern(path):
        return _from_pattern(path, _check_fps(fps))
    if path.is_dir():
        return _from_folder(path, _check_fps(fps))
    return None


def is_sequence(path: Path | str) -> bool:
    """Cheap: a pattern, or a folder that holds stills (``find_sequence`` says whether it is a good one)."""
    path = Path(path)
    if is_pattern(path):
        return True
    if not path.is_dir():
        return False
    try:
        suffixes = {Path(f).suffix.lower() for f in _visible_files(path)}
    except OSError:
        return False
    return bool(suffixes & set(STILL_SUFFIXES)) and not suffixes & set(VIDEO_SUFFIXES)


def warn_gaps(seq: ImageSequence) -> None:
    """One warning naming the missing numbers (a run calls it once; probing is silent)."""
    if seq.gaps:
        missing = sum(b - a + 1 for a, b in seq.gaps)
        log.warning("%s: %d frame number(s) missing (%s); the gaps stay gaps in time", seq.path, missing, seq.describe_gaps())


def _open_run(seq: ImageSequence, start: int) -> av.container.InputContainer:
    options = {"framerate": str(seq.fps), "start_number": str(start), "start_number_range": "1"}
    return av.open(str(seq.path), format="image2", options=options, metadata_errors="replace")


class SequenceContainer:
    """An image sequence behind the small part of PyAV's InputContainer that vidcolor uses.

    ``streams``, ``format`` and the codec come from the first run; ``demux`` chains the runs,
    shifting every packet's pts to its own number; ``seek`` starts the next ``demux`` at a
    picture (every still is a keyframe, so this is exact).
    """

    def __init__(self, seq: ImageSequence) -> None:
        self.sequence = seq
        self._first = _open_run(seq, seq.first)
        self._others: list[av.container.InputContainer] = []
        self._start = 0
        self.metadata: dict[str, str] = {}
        self.streams = self._first.streams
        self.format = self._first.format
        self.duration = int(seq.duration * av.time_base)

    def chapters(self) -> list:
        return []

    def seek(self, offset: int, *, stream: object = None, backward: bool = True, **_: object) -> None:
        self._start = max(0, int(offset))

    def demux(self, *streams: object) -> Iterator[av.Packet]:
        seq = self.sequence
        want = seq.first + self._start
        thread_type = self._first.streams.video[0].thread_type
        for run_first, run_last in seq.runs:
            if run_last < want:
                continue
            start = max(run_first, want)
            if start == seq.first:
                container = self._first
                container.seek(0)
            else:
                container = _open_run(seq, start)
                container.streams.video[0].thread_type = thread_type
                self._others.append(container)
            shift = start - seq.first
            stream = container.streams.video[0]
            # image2 finds where a run ends by probing numbers at growing steps, which can jump
            # a gap (100-104, 106-111: it probes 108 and reads on into the missing 105), so
            # each run stops at its own last still, flushing its decoder as demux would
            left = run_last - start + 1
            for packet in container.demux(stream):
                if not packet.size:
                    yield packet
                    break
                if packet.pts is not None:
                    packet.pts += shift
                    packet.dts = packet.pts
                yield packet
                left -= 1
                if left == 0:
                    flush = av.Packet()
                    flush.stream = stream
                    yield flush
                    break

    def decode(self, *streams: object) -> Iterator[av.VideoFrame]:
        for packet in self.demux():
            yield from packet.decode()

    def close(self) -> None:
        for container in [self._first, *self._others]:
            container.close()
        self._others = []

    def __enter__(self) -> SequenceContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_input(path: Path | str, *, fps: Fraction | float | None = None, **kwargs: object):  # noqa: ANN201 (an InputContainer or a SequenceContainer)
    """Open any input: a media file with PyAV, an image sequence (pattern or folder) as a SequenceContainer.

    ``fps`` is the sequence's rate (ignored for files); ``kwargs`` go to ``av.open`` for files.
    """
    path = Path(path)
    if not path.is_file():
        seq = find_sequence(path, fps)
        if seq is not None:
            return SequenceContainer(seq)
    kwargs.setdefault("metadata_errors", "replace")
    return av.open(str(path), **kwargs)


def _size(seq: ImageSequence, number: int) -> tuple[int, int]:
    file = seq.folder / seq.name(number)
    with reading(file), av.open(str(file), format="image2", metadata_errors="replace") as c:
        vs = c.streams.video[0]
        if vs.codec_context is None or not vs.width:
            raise MediaError(f"{file}: not a readable picture")
        return vs.width, vs.height


def probe_sequence(seq: ImageSequence) -> MediaInfo:
    """A MediaInfo for the sequence: one video stream, its frames and duration from the numbering."""
    from vidcolor.media.probe import MediaInfo, StreamInfo, VideoInfo

    sizes = {n: _size(seq, n) for n in sorted({a for a, _ in seq.runs} | {seq.last})}
    if len(set(sizes.values())) > 1:
        first = sizes[seq.first]
        other, size = next((n, s) for n, s in sizes.items() if s != first)
        raise MediaError(f"{seq.path}: {seq.name(seq.first)} is {first[0]}x{first[1]} but {seq.name(other)} is "
                         f"{size[0]}x{size[1]}; a sequence has one picture size")
    with reading(seq.path), SequenceContainer(seq) as container:
        vs = container.streams.video[0]
        cc = vs.codec_context
        if cc is None:
            raise MediaError(f"{seq.path}: no decoder for these stills")
        video = VideoInfo(
            index=vs.index,
            codec=cc.name,
            width=vs.width,
            height=vs.height,
            pix_fmt=cc.pix_fmt or "rgb24",
            time_base=Fraction(1) / seq.fps,
            average_rate=seq.fps,
            frames=len(seq.numbers),
            duration=seq.duration,
            rotation=0,
            sample_aspect_ratio=vs.sample_aspect_ratio,
            # a scan's values are its own: full range, BT.709 (see VideoInfo.chroma_spec)
            color_range=2,
            colorspace=1,
            color_primaries=int(cc.color_primaries or 0),
            color_trc=int(cc.color_trc or 0),
            still=True,
        )
        streams = (StreamInfo(vs.index, "video", cc.name, None),)
    return MediaInfo(path=seq.path, format="image2", duration=seq.duration, video=video, streams=streams)
