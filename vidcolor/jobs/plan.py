"""Cutting a job into segments, and the manifest that lets an interrupted job resume."""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from vidcolor.defaults import DEFAULT_SEGMENT_SECONDS
from vidcolor.errors import UsageError
from vidcolor.media.segments import FrameIndex
from vidcolor.pipeline.options import ColorizeOptions

log = logging.getLogger(__name__)

# Per segment the job pays one seek, a decode from the keyframe before it, an encoder
# start and flush, and (with smoothing) the warm-up frames' inference, which dominates:
# segments last at least DEFAULT_SEGMENT_SECONDS (vidcolor/defaults.py) and long enough
# that warm-up stays under 1.5 % of their frames (benchmarks/segments.py measures the
# whole overhead).
_WARMUP_SHARE = 0.015
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_FINGERPRINT_BYTES = 1 << 20
# options that change no output pixel or timestamp, so a resumed job may differ in them
_RUN_ONLY_OPTIONS = ("device", "engine", "batch_size", "overwrite", "hwaccel")


@dataclass(frozen=True)
class JobOptions:
    """Whether and how a long job is split, and where its finished segments are kept.

    Attributes:
        segment_seconds: target length of a segment (cuts snap to a nearby keyframe); None
            picks one that keeps the overhead under 2 %, see ``default_segment_seconds``;
            0 never splits.
        work_dir: folder for finished segments and the manifest; None puts
            ``.<output name>.vidcolor-work/`` beside the output.
        resume: continue from a matching manifest (False always starts over).
        split: True splits even a short film, False never splits, None splits films longer
            than one segment (by their packets, not by what the header claims).
    """

    segment_seconds: float | None = None
    work_dir: Path | None = None
    resume: bool = True
    split: bool | None = None

    def __post_init__(self) -> None:
        if self.segment_seconds is not None and self.segment_seconds < 0:
            raise UsageError(f"--segment-seconds must be 0 (no split) or more, not {self.segment_seconds:g}")
        if self.segment_seconds == 0 and self.split:
            raise UsageError("--segment-seconds 0 turns splitting off; it cannot be combined with a split job")
        if self.split is False and self.work_dir is not None:
            raise UsageError("--work-dir keeps the segments of a split job; drop it or drop --no-split")

    @property
    def never_split(self) -> bool:
        return self.split is False or self.segment_seconds == 0


@dataclass
class Segment:
    """Pictures with ``start_pts <= pts < end_pts`` (no end for the last one).

    ``warm_from`` is the pts of the first picture fed to the temporal smoother before
    ``start_pts`` so the join is invisible (equal to ``start_pts`` without smoothing).
    ``concealed`` counts its written frames that stand in for undecodable ones (once done);
    it is kept in the manifest so a resumed job still reports the whole film's.
    """

    index: int
    start_pts: int
    end_pts: int | None
    frames: int
    warm_from: int
    status: str = "todo"
    concealed: int = 0

    @property
    def part_name(self) -> str:
        return f"part-{self.index:05d}"


@dataclass(frozen=True)
class SegmentResult:
    """What colouring one segment wrote: its frames, and how many of them were concealed."""

    frames: int
    concealed: int = 0


def warmup_frames(options: ColorizeOptions) -> int:
    """Frames before a segment for the smoother: a few of its memories, about 1 / (1 - strength)."""
    if options.temporal == "off":
        return 0
    memory = 1.0 / max(1.0 - options.temporal_strength, 1e-3)
    return int(min(64, max(8, round(4 * memory))))


def default_segment_seconds(options: ColorizeOptions, fps: float | None) -> float:
    """60 s, or longer where the smoother's warm-up would be more than 1.5 % of a segment's frames."""
    return max(DEFAULT_SEGMENT_SECONDS, warmup_frames(options) / (_WARMUP_SHARE * (fps or 25.0)))


def plan_segments(index: FrameIndex, seconds: float, warmup: int = 0) -> list[Segment]:
    """Cut at keyframes about ``seconds`` apart; where none is near a cut, at the picture there.

    A cut that is not on a keyframe costs a decode from the keyframe before it (films with
    very long GOPs), never correctness: each segment decodes forward from a keyframe.
    """
    if seconds <= 0:
        raise ValueError("segment length must be positive")
    pts = index.pts
    times = [index.seconds(p) for p in pts]
    keys = [j for j, p in enumerate(pts) if p in index.keyframes]
    cuts = [0]
    while True:
        target = times[cuts[-1]] + seconds
        i = bisect.bisect_left(times, target)
        if i >= len(pts):
            break
        # a keyframe within a quarter segment of the target saves the decode before the cut
        near = [j for j in keys[bisect.bisect_right(keys, cuts[-1]):] if abs(times[j] - target) <= seconds / 4]
        cuts.append(min(near, key=lambda j: abs(times[j] - target)) if near else i)
    segments = []
    for n, first in enumerate(cuts):
        last = cuts[n + 1] if n + 1 < len(cuts) else len(pts)
        segments.append(Segment(
            index=n,
            start_pts=pts[first],
            end_pts=pts[last] if last < len(pts) else None,
            frames=last - first,
            warm_from=pts[max(0, first - warmup)],
        ))
    return segments


def fingerprint(path: Path) -> dict[str, object]:
    """Size, mtime and sha256 of the first and last MiB: cheap, and any re-encode or truncation changes it.

    An image sequence (a pattern or a folder) is fingerprinted by every still's name, size and mtime.
    """
    if not path.is_file():
        from vidcolor.media.sequence import find_sequence

        seq = find_sequence(path)
        if seq is not None:
            h = hashlib.sha256()
            for n in seq.numbers:
                st = (seq.folder / seq.name(n)).stat()
                h.update(f"{seq.name(n)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
            return {"stills": len(seq.numbers), "sha256_names_sizes_mtimes": h.hexdigest()}
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(_FINGERPRINT_BYTES))
        f.seek(max(0, st.st_size - _FINGERPRINT_BYTES))
        h.update(f.read(_FINGERPRINT_BYTES))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256_ends": h.hexdigest()}


def output_options(options: ColorizeOptions) -> dict[str, object]:
    """The options that decide the output, as JSON-able values."""
    values = dataclasses.asdict(options)
    for name in _RUN_ONLY_OPTIONS:
        values.pop(name, None)
    # a reference is its content, not its name: a keyframe re-coloured in place must not resume old segments
    values["references"] = [{"reference": str(r), "sha256": _file_sha256(r.path)} for r in options.references]
    return json.loads(json.dumps(values, default=str))


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # reported as a one-line error when the references are checked


@dataclass
class Manifest:
    """What a job is (input, options, cuts) and which segments are finished."""

    input: dict[str, object]
    options: dict[str, object]
    model: str
    segment_seconds: float
    frames: int
    segments: list[Segment] = field(default_factory=list)
    version: int = MANIFEST_VERSION

    def mismatch(self, other: Manifest) -> str | None:
        """Why ``other`` (a new job) cannot resume this one, or None when it can."""
        if self.version != other.version:
            return "the work folder is from another vidcolor version"
        if self.input != other.input:
            changed = [k for k in self.input if self.input.get(k) != other.input.get(k)]
            return f"the input changed ({', '.join(changed)})"
        if self.model != other.model:
            return f"the model changed ({self.model} -> {other.model})"
        changed = sorted(k for k in set(self.options) | set(other.options) if self.options.get(k) != other.options.get(k))
        if changed:
            return "options changed: " + ", ".join(f"{k} {self.options.get(k)} -> {other.options.get(k)}" for k in changed)
        if self.segment_seconds != other.segment_seconds:
            return f"--segment-seconds changed ({self.segment_seconds:g} -> {other.segment_seconds:g})"
        return None

    @property
    def done_frames(self) -> int:
        return sum(s.frames for s in self.segments if s.status == "done")

    def save(self, path: Path) -> None:
        """Write atomically: a kill mid-write leaves the previous manifest."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=1))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or None when there is none or it cannot be read."""
        with contextlib.suppress(FileNotFoundError):
            try:
                data = json.loads(path.read_text())
                data["segments"] = [Segment(**s) for s in data["segments"]]
                return cls(**data)
            except (ValueError, TypeError, KeyError) as ex:
                log.warning("ignoring unreadable %s (%s); starting over", path, ex)
        return None
