"""Copying audio, subtitle, data and attachment streams, packet for packet, without re-encoding."""

from __future__ import annotations

import logging
from pathlib import Path

import av

from vidcolor.media.errors import describe
from vidcolor.media.sequence import open_input

log = logging.getLogger(__name__)


class Remuxer:
    """Copies every stream of ``source`` but the video one into ``output``.

    Packets are read from a second demuxer over the same file and muxed just ahead
    of the video packets with the same time, so the output stays interleaved and
    memory stays flat. A stream the output container cannot carry is left out with
    a warning.
    """

    def __init__(self, source: Path, output: av.container.OutputContainer, *, skip_index: int) -> None:
        self.input = open_input(source)  # an image sequence has no other streams to copy
        self.metadata = dict(self.input.metadata)
        self.video_metadata = dict(self.input.streams[skip_index].metadata)
        self.dropped: list[str] = []
        self._map: dict[int, av.stream.Stream] = {}
        supported = output.supported_codecs
        for stream in self.input.streams:
            if stream.index == skip_index:
                continue
            label = f"stream #{stream.index} ({stream.type})"
            if stream.type == "attachment":
                if "matroska" not in output.format.name:
                    # FFmpeg accepts the stream, then fails writing the header
                    self.dropped.append(f"{label}: {output.format.name} cannot carry attachments")
                    continue
                try:
                    output.add_attachment(name=stream.name, mimetype=stream.mimetype, data=stream.data)
                except (av.error.FFmpegError, ValueError, TypeError) as ex:
                    self.dropped.append(f"{label}: attachments are not supported here ({describe(ex)})")
                continue
            if stream.type not in ("audio", "subtitle", "data"):
                self.dropped.append(f"{label}: only one video stream is colourised")
                continue
            codec = stream.codec_context.name if stream.codec_context else None
            if codec is None or codec not in supported:
                self.dropped.append(f"{label}: {output.format.name} cannot carry {codec or 'this codec'}")
                continue
            try:
                out = output.add_stream_from_template(stream)
            except (av.error.FFmpegError, ValueError) as ex:
                self.dropped.append(f"{label}: {describe(ex)}")
                continue
            out.metadata.update(stream.metadata)
            out.disposition = stream.disposition
            self._map[stream.index] = out
        if self.dropped:
            hint = "" if "matroska" in output.format.name else " (an .mkv output keeps more)"
            log.warning("leaving out %d stream(s): %s%s", len(self.dropped), "; ".join(self.dropped), hint)
        try:
            chapters = self.input.chapters()
            if chapters:
                output.set_chapters(chapters)
        except (av.error.FFmpegError, ValueError, AttributeError) as ex:
            log.warning("chapters not copied: %s", describe(ex))
        self._packets = self.input.demux([self.input.streams[i] for i in self._map]) if self._map else iter(())
        self._pending: av.Packet | None = None
        self._output = output

    def _next(self) -> av.Packet | None:
        if self._pending is not None:
            packet, self._pending = self._pending, None
            return packet
        try:
            for packet in self._packets:
                if packet.size:  # the flush packet at the end carries nothing
                    return packet
        except av.error.FFmpegError as ex:
            log.warning("stopped copying streams early: %s", describe(ex))
            self._packets = iter(())
        return None

    def mux_until(self, seconds: float | None) -> None:
        """Mux the copied packets whose time is at or before ``seconds`` (all if None)."""
        while (packet := self._next()) is not None:
            ts = packet.dts if packet.dts is not None else packet.pts
            if seconds is not None and ts is not None and float(ts * packet.time_base) > seconds:
                self._pending = packet
                return
            packet.stream = self._map[packet.stream_index]
            self._output.mux(packet)

    def close(self) -> None:
        self.input.close()
