"""Split jobs at the container level: a demux-only frame index, and joining encoded parts by their packets."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from collections.abc import Sequence
from pathlib import Path

import av

from vidcolor.errors import MediaError
from vidcolor.media.errors import describe, reading
from vidcolor.media.probe import VideoInfo, main_video_stream
from vidcolor.media.remux import Remuxer
from vidcolor.media.sequence import open_input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameIndex:
    """Every picture's pts in presentation order, and which of them start a keyframe."""

    pts: tuple[int, ...]
    keyframes: frozenset[int]
    time_base: Fraction

    @property
    def frames(self) -> int:
        return len(self.pts)

    def seconds(self, pts: int) -> float:
        return float((pts - self.pts[0]) * self.time_base)


def scan_frames(path: Path, fps: Fraction | float | None = None) -> FrameIndex:
    """Demux (never decode) the first video stream: packets' pts and keyframe flags.

    An image sequence (``fps`` its rate) is indexed by its numbers, each still a keyframe.

    Raises:
        MediaError: the file cannot be read, or its video packets carry no timestamps.
    """
    path = Path(path)
    pts: list[int] = []
    keys: set[int] = set()
    with reading(path), open_input(path, fps=fps) as container:
        stream = main_video_stream(container)
        for packet in container.demux(stream):
            if not packet.size:
                continue
            if packet.pts is None:
                raise MediaError(f"{path}: video packets without timestamps cannot be split; run without segments")
            pts.append(packet.pts)
            if packet.is_keyframe:
                keys.add(packet.pts)
        time_base = stream.time_base
    if not pts:
        raise MediaError(f"{path}: no video packets")
    return FrameIndex(tuple(sorted(set(pts))), frozenset(keys), time_base)


@dataclass
class JoinStats:
    frames: int
    reorder_delay: int
    dropped_streams: list[str]


def _decode_order_pts(part: Path) -> list[int]:
    """The pts of a part's video packets in decode (file) order, in whatever time base it stored them."""
    with reading(part), av.open(str(part)) as container:
        out = [p.pts for p in container.demux(container.streams.video[0]) if p.size]
    if any(p is None for p in out):
        raise MediaError(f"{part.name} has packets without timestamps; delete the work folder and rerun")
    return out


def join_parts(parts: list[Path], pts: Sequence[int], output: Path, container_format: str | None, info: VideoInfo, source: Path) -> JoinStats:
    """Concatenate the video packets of ``parts`` into ``output`` and copy the source's other streams once.

    Packets are copied, never re-encoded, and re-timed: a part's containers may round or
    shift its timestamps, but never reorder them, so the k-th picture of the film in display
    order gets ``pts[k]`` exactly. Decode timestamps are rebuilt for the whole film as
    ``pts[j - delay]`` (the encoder's own rule at a constant rate), with ``delay`` the largest
    reordering in any part, so they rise strictly across the joins and never pass pts.

    Raises:
        MediaError: a part is unreadable, parts were encoded differently, the parts hold
            another number of pictures than ``pts``, or the output cannot be written.
    """
    orders = [_decode_order_pts(part) for part in parts]
    if sum(len(o) for o in orders) != len(pts):
        raise MediaError(f"the segments hold {sum(len(o) for o in orders)} pictures, the input {len(pts)}; delete the work folder and rerun")
    ranks = []
    delay = 0
    for order in orders:
        rank_of = {p: r for r, p in enumerate(sorted(order))}
        ranks.append([rank_of[p] for p in order])
        delay = max([delay] + [i - r for i, r in enumerate(ranks[-1])])
    step = pts[1] - pts[0] if len(pts) > 1 else 1

    def dts_of(j: int) -> int:
        return pts[j - delay] if j >= delay else pts[0] - (delay - j) * step

    try:
        out = av.open(str(output), "w", format=container_format)
    except (av.error.FFmpegError, OSError) as ex:
        raise MediaError(f"cannot write {output}: {describe(ex)}") from ex
    remuxer: Remuxer | None = None
    tb = info.time_base
    try:
        with reading(parts[0]), av.open(str(parts[0])) as first:
            template = first.streams.video[0]
            extradata = template.codec_context.extradata
            video = out.add_stream_from_template(template)
        video.time_base = tb
        remuxer = Remuxer(source, out, skip_index=info.index)
        out.metadata.update(remuxer.metadata)
        video.metadata.update({k: v for k, v in remuxer.video_metadata.items() if not k.startswith(("_STATISTICS", "BPS", "NUMBER_OF", "DURATION", "encoder"))})
        if info.rotation:
            video.set_display_rotation(info.rotation)
        offset = 0
        for part, part_ranks in zip(parts, ranks):
            with reading(part), av.open(str(part)) as container:
                stream = container.streams.video[0]
                if stream.codec_context.extradata != extradata:
                    raise MediaError(f"{part.name} was encoded with other settings than {parts[0].name}; delete the work folder and rerun")
                packets = [p for p in container.demux(stream) if p.size]
            for i, packet in enumerate(packets):
                k = offset + part_ranks[i]
                duration = pts[k + 1] - pts[k] if k + 1 < len(pts) else step
                packet.stream = video
                packet.time_base = tb
                packet.pts, packet.dts, packet.duration = pts[k], dts_of(offset + i), duration
                remuxer.mux_until(float(packet.dts * tb))
                out.mux(packet)
            offset += len(packets)
        remuxer.mux_until(None)
        dropped = list(remuxer.dropped)
    except av.error.FFmpegError as ex:
        raise MediaError(f"joining the segments into {output} failed: {describe(ex)}") from ex
    finally:
        if remuxer is not None:
            remuxer.close()
        try:
            out.close()
        except (av.error.FFmpegError, OSError) as ex:
            raise MediaError(f"closing {output} failed: {describe(ex)}") from ex
    return JoinStats(offset, delay, dropped)
