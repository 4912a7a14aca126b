"""Damaged media and a time-limited runner of the real CLI: shared by the robustness tests and benchmarks/corpus.py.

Variants are generated from short excerpts of the shared clips (stream copies of their
first seconds), so that a run costs seconds on a shared CPU; the damage itself is what
the issue asks for: truncation, byte flips, a zeroed header, the moov box at the end,
garbled packets mid-stream.

Each case runs ``vidcolor.cli.main.main`` (what the ``vidcolor`` console script and
``python -m vidcolor`` call) in its own process, forked from a forkserver that has
imported vidcolor once: a fresh interpreter per case would cost ~13 s of imports here.
The child's stderr goes to a file, it is killed at the time limit, and its exit code,
stderr and the files it left are judged like a subprocess's.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import re
import struct
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from vidcolor.media.probe import main_video_stream

PARTIAL_GLOB = ".*.vidcolor-partial-*"
WROTE = re.compile(r"wrote .*: (\d+) frames in ")


# ---- damaged variants ---------------------------------------------------------------------


def mp4_boxes(path: Path) -> list[tuple[str, int, int]]:
    """Top-level ISO-BMFF boxes as (type, offset, size)."""
    data = path.read_bytes()
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        elif size == 0:
            size = len(data) - at
        boxes.append((kind.decode("latin-1"), at, size))
        if size < 8:
            break
        at += size
    return boxes


def excerpt(src: Path, dst: Path, seconds: float, *, faststart: bool = False, garble: set[int] = frozenset(), audio: bool = True) -> int:
    """Stream-copy the first ``seconds`` of ``src`` into mp4 ``dst``; packets numbered in ``garble`` get scrambled payloads.

    FFmpeg's mp4 muxer writes the moov box after mdat unless ``movflags=faststart``.
    Returns the number of video packets written.
    """
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4", options=options) as out:
        video = inp.streams.video[0]
        streams = [video] + ([s for s in inp.streams.audio[:1] if s.codec_context.name in out.supported_codecs] if audio else [])
        mapping = {s.index: out.add_stream_from_template(s) for s in streams}
        count = 0
        for packet in inp.demux(streams):
            if not packet.size or packet.pts is None or packet.pts * packet.time_base >= seconds:
                continue
            if packet.stream_index == video.index:
                if count in garble:
                    packet = _scrambled(packet)
                count += 1
            packet.stream = mapping[packet.stream_index]
            out.mux(packet)
    return count


def _scrambled(packet: av.Packet) -> av.Packet:
    # keep the first bytes (length prefix, NAL header) so the decoder tries, and fails, on the slice
    data = bytearray(bytes(packet))
    for i in range(8, len(data), 7):
        data[i] ^= 0x5A
    garbled = av.Packet(bytes(data))
    garbled.pts, garbled.dts, garbled.time_base = packet.pts, packet.dts, packet.time_base
    garbled.is_keyframe = packet.is_keyframe
    return garbled


def truncated(src: Path, dst: Path, at: int) -> Path:
    dst.write_bytes(src.read_bytes()[:at])
    return dst


def flipped(src: Path, dst: Path, rng: random.Random, flips: int) -> Path:
    data = bytearray(src.read_bytes())
    for _ in range(flips):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    dst.write_bytes(bytes(data))
    return dst


def zeroed_header(src: Path, dst: Path, length: int = 1024) -> Path:
    data = bytearray(src.read_bytes())
    data[:length] = bytes(min(length, len(data)))
    dst.write_bytes(bytes(data))
    return dst


@dataclass(frozen=True)
class Variant:
    name: str
    path: Path


def damaged_variants(src: Path, folder: Path, *, seed: int, seconds: float = 1.0, truncations: int = 10, flip_sets: int = 1, flips: int = 50) -> list[Variant]:
    """The damaged family of one clip, reproducible from ``seed``, written under ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    stem = src.stem
    base = folder / f"{stem}.faststart.mp4"
    excerpt(src, base, seconds, faststart=True)
    moov_end = folder / f"{stem}.moov-at-end.mp4"
    excerpt(src, moov_end, seconds)
    size = base.stat().st_size
    variants = [Variant(f"{stem}/moov-at-end", moov_end), Variant(f"{stem}/zeroed-header", zeroed_header(base, folder / f"{stem}.zeroed.mp4"))]
    for at in sorted(rng.sample(range(1, size), truncations)):
        variants.append(Variant(f"{stem}/truncated@{at}", truncated(base, folder / f"{stem}.trunc{at}.mp4", at)))
    for k in range(flip_sets):
        variants.append(Variant(f"{stem}/flips{flips}#{k}", flipped(base, folder / f"{stem}.flips{k}.mp4", rng, flips)))
    return variants


# ---- archive inputs: size changes, lying headers, extra streams, empty packets ---------------

ARCHIVE_RATE = 24
# container format -> file suffix, for the size-change family
SIZE_CHANGE_FORMATS = {"mp4": "mp4", "matroska": "mkv", "mpegts": "ts"}


def _pictures(src: Path, count: int, size: tuple[int, int]) -> list[av.VideoFrame]:
    with av.open(str(src)) as container:
        out = []
        for frame in container.decode(video=0):
            out.append(frame.reformat(width=size[0], height=size[1], format="yuv420p"))
            if len(out) == count:
                return out
    return out


def _annexb(frames: list[av.VideoFrame], rate: int) -> bytes:
    """H.264 with its parameter sets in-band (no global header), so encodes concatenate into one stream."""
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
    enc.time_base, enc.framerate = Fraction(1, rate), Fraction(rate)
    enc.options = {"preset": "ultrafast", "bframes": "0", "g": "12"}
    data = bytearray()
    for i, frame in enumerate(frames):
        frame.pts = i
        data += b"".join(bytes(p) for p in enc.encode(frame))
    data += b"".join(bytes(p) for p in enc.encode(None))
    return bytes(data)


def size_changed(src: Path, dst: Path, container_format: str, *, sizes: tuple[tuple[int, int], ...] = ((192, 144), (320, 240)),
                 frames_each: int = 12) -> Path:
    """Two encodes of different picture sizes concatenated into one H.264 stream (a concatenated reel, a broadcast capture)."""
    raw = dst.with_suffix(".h264")
    raw.write_bytes(b"".join(_annexb(_pictures(src, frames_each, size), ARCHIVE_RATE) for size in sizes))
    tb = Fraction(1, ARCHIVE_RATE)
    with av.open(str(raw), format="h264", options={"framerate": str(ARCHIVE_RATE)}) as inp, \
            av.open(str(dst), "w", format=container_format) as out:
        video = out.add_stream_from_template(inp.streams.video[0])
        video.time_base = tb
        for i, packet in enumerate(p for p in inp.demux(inp.streams.video[0]) if p.size):
            packet.stream, packet.time_base = video, tb
            packet.pts = packet.dts = i  # no B-frames: decode order is display order
            packet.duration = 1
            out.mux(packet)
    raw.unlink()
    return dst


def _scaled_duration(data: bytearray, box: bytes, offset: int, factor: float) -> None:
    """Scale the 32-bit duration ``offset`` bytes after the version/flags of every ``box`` (version 0) in an MP4."""
    at = data.find(box)
    while at >= 0:
        start = at + 4 + offset  # after the type: version/flags (4), then the fields before the duration
        if data[at + 4] == 0:
            (value,) = struct.unpack(">I", data[start : start + 4])
            data[start : start + 4] = struct.pack(">I", max(1, min(0xFFFFFFFE, round(value * factor))))
        at = data.find(box, at + 4)


def lying_duration(src: Path, dst: Path, factor: float) -> Path:
    """``src`` (an MP4 or Matroska file) with the durations in its header multiplied by ``factor``; packets untouched."""
    data = bytearray(src.read_bytes())
    if src.suffix == ".mkv":
        at = data.find(b"\x44\x89\x88")  # Segment Info Duration, an 8-byte float
        if at < 0:
            raise ValueError(f"{src} has no 8-byte Duration element")
        (value,) = struct.unpack(">d", data[at + 3 : at + 11])
        data[at + 3 : at + 11] = struct.pack(">d", value * factor)
    else:
        _scaled_duration(data, b"mvhd", 4 + 4 + 4 + 4, factor)  # creation, modification, timescale
        _scaled_duration(data, b"tkhd", 4 + 4 + 4 + 4 + 4, factor)  # creation, modification, track id, reserved
        _scaled_duration(data, b"mdhd", 4 + 4 + 4 + 4, factor)
    dst.write_bytes(bytes(data))
    return dst


def with_extra_video(src: Path, dst: Path, kind: str) -> Path:
    """``src``'s first video stream and after it a ``thumbnail`` (one MJPEG picture) or a ``second-angle`` (H.264, other size)."""
    tb = Fraction(1, ARCHIVE_RATE)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        main = inp.streams.video[0]
        video = out.add_stream_from_template(main)
        if kind == "thumbnail":
            extra = out.add_stream("mjpeg", rate=1)
            extra.width, extra.height, extra.pix_fmt = 160, 120, "yuvj420p"
            pictures = _pictures(src, 1, (160, 120))
        else:
            extra = out.add_stream("libx264", rate=ARCHIVE_RATE)
            extra.width, extra.height, extra.pix_fmt = 128, 96, "yuv420p"
            extra.options = {"preset": "ultrafast"}
            pictures = _pictures(src, 12, (128, 96))
        extra.time_base = tb if kind != "thumbnail" else Fraction(1, 1)
        for packet in inp.demux(main):
            if packet.size:
                packet.stream = video
                out.mux(packet)
        for i, picture in enumerate(pictures):
            picture = picture.reformat(format=extra.pix_fmt)
            picture.pts, picture.time_base = i, extra.time_base
            out.mux(extra.encode(picture))
        out.mux(extra.encode(None))
    return dst


def without_pictures(src: Path, dst: Path, packets: range, *, frames: int = 24) -> int:
    """MPEG-2 (as broadcast recordings carry) whose packets numbered in ``packets`` hold no picture.

    Such packets demux like pictures but decode to none, without an error: a truncated
    recording whose index promises more than it holds. Returns how many pictures decode.
    """
    stream_format = {".ts": "mpegts", ".mkv": "matroska"}.get(dst.suffix, "mp4")
    tb = Fraction(1, 25)
    with av.open(str(dst), "w", format=stream_format) as out:
        video = out.add_stream("mpeg2video", rate=25)
        video.width, video.height, video.pix_fmt = 320, 176, "yuv420p"
        video.options = {"bf": "0", "g": "12"}
        encoded = []
        for i, picture in enumerate(_pictures(src, frames, (320, 176))):
            picture = av.VideoFrame.from_ndarray(picture.to_ndarray(), format="yuv420p")  # a fresh frame, no source timing
            picture.pts, picture.time_base = i, tb
            encoded += video.encode(picture)
        encoded += video.encode(None)
        for j, packet in enumerate(encoded):
            if j in packets:
                empty = av.Packet(bytes(64))
                empty.pts, empty.dts, empty.time_base, empty.duration = packet.pts, packet.dts, packet.time_base, packet.duration
                empty.stream = video
                packet = empty
            out.mux(packet)
    return len(encoded) - len(packets)


def archive_variants(src: Path, folder: Path, *, seed: int, seconds: float = 1.0, truncations: int = 10) -> list[Variant]:
    """The archive family of one clip (issue 13), reproducible from ``seed``, written under ``folder``.

    Picture size changes mid-stream (MP4, MKV, TS), truncations of an MP4 with and without
    its moov box at the end, header durations 10x and 100x too long or 10x too short (MP4, MKV;
    FFmpeg believes the Matroska ones and checks the MP4 ones against the sample tables), an
    extra video stream (thumbnail, second angle) and MPEG-2 packets that decode to no picture.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    stem = src.stem
    out = [Variant(f"{stem}/size-change.{suffix}", size_changed(src, folder / f"{stem}.size.{suffix}", fmt))
           for fmt, suffix in SIZE_CHANGE_FORMATS.items()]
    faststart, moov_end = folder / f"{stem}.fast.mp4", folder / f"{stem}.end.mp4"
    excerpt(src, faststart, seconds, faststart=True)
    excerpt(src, moov_end, seconds)
    for base, label in ((faststart, "moov-first"), (moov_end, "moov-at-end")):
        for at in sorted(rng.sample(range(1, base.stat().st_size), truncations)):
            out.append(Variant(f"{stem}/truncated-{label}@{at}", truncated(base, folder / f"{stem}.{label}.{at}.mp4", at)))
    mkv = folder / f"{stem}.mkv"
    with av.open(str(faststart)) as inp, av.open(str(mkv), "w") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.size:
                packet.stream = streams[packet.stream_index]
                dst.mux(packet)
    for base in (faststart, mkv):
        for factor, label in ((10, "10x-long"), (0.1, "10x-short"), (100, "100x-long")):
            name = f"{stem}/header-{label}.{base.suffix[1:]}"
            out.append(Variant(name, lying_duration(base, folder / f"{stem}.{label}{base.suffix}", factor)))
    for kind in ("thumbnail", "second-angle"):
        out.append(Variant(f"{stem}/extra-{kind}.mkv", with_extra_video(faststart, folder / f"{stem}.{kind}.mkv", kind)))
    # a truncated broadcast recording: the last pictures missing, the header 1000x too long (24 s -> 16 min)
    tail = folder / f"{stem}.no-picture-tail.mkv"
    without_pictures(src, tail, range(18, 24))
    out.append(Variant(f"{stem}/no-picture-tail-1000x-long.mkv", lying_duration(tail, folder / f"{stem}.no-picture-tail-long.mkv", 1000)))
    out.append(Variant(f"{stem}/no-picture-middle.ts", folder / f"{stem}.no-picture-middle.ts"))
    without_pictures(src, out[-1].path, range(8, 11))
    return out


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- running the CLI on a case --------------------------------------------------------------


@dataclass
class CaseResult:
    name: str
    exit_code: int | None  # None: killed at the time limit
    stderr: str
    seconds: float
    reported_frames: int | None = None
    output_frames: int | None = None
    output_error: str | None = None
    leftovers: list[str] = field(default_factory=list)
    input_changed: bool = False
    timing_error: str | None = None

    @property
    def hung(self) -> bool:
        return self.exit_code is None

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("vidcolor: error:")]

    @property
    def valid_output(self) -> bool:
        return self.exit_code == 0 and self.output_error is None and self.reported_frames is not None and self.reported_frames == self.output_frames > 0

    @property
    def clean_error(self) -> bool:
        return self.exit_code not in (0, None) and len(self.error_lines) == 1 and not self.traceback and not self.leftovers

    def problems(self) -> list[str]:
        """Why this case breaks the rules; empty when it is fine."""
        found = []
        if self.hung:
            found.append("hung (killed at the time limit)")
        if self.traceback:
            found.append("printed a traceback")
        if self.input_changed:
            found.append("changed its input")
        if self.exit_code == 0 and not self.valid_output:
            found.append(f"exit 0 but output invalid: reported {self.reported_frames}, decoded {self.output_frames}, {self.output_error}")
        if self.exit_code not in (0, None) and len(self.error_lines) != 1:
            found.append(f"exit {self.exit_code} without exactly one error line")
        if self.leftovers:
            found.append(f"left {self.leftovers}")
        if self.timing_error:
            found.append(self.timing_error)
        if "internal error" in self.stderr:
            found.append("internal error (a bug, not a one-line explanation)")
        return found


def _child(argv: list[str], stderr_path: str, preload: list[str]) -> None:
    """Forked case: stderr to a file, run the CLI entry point, exit with its code."""
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 2)
    os.dup2(fd, 1)
    sys.stderr = sys.stdout = open(2, "w", closefd=False, buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115
    for module in preload:
        __import__(module)
    from vidcolor.cli.main import main

    code = main(argv)
    sys.stderr.flush()
    os._exit(code)


# `vidcolor run` imports torch and the pipeline only when it runs (the CLI itself starts
# without them); the forkserver imports them once so that every case starts warm
RUN_MODULES = ("vidcolor.jobs.job", "vidcolor.jobs.batch", "vidcolor.pipeline.image", "vidcolor.media.image")


class CliRunner:
    """Runs ``vidcolor ARGS`` per case in a process forked from a warm forkserver, with a time limit."""

    def __init__(self, preload: tuple[str, ...] = ("vidcolor.cli.app",)) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._preload = [*preload, *(m for m in RUN_MODULES if m not in preload)]
        self._ctx.set_forkserver_preload(self._preload)

    def start(self, args: list[str], *, log_path: Path) -> multiprocessing.process.BaseProcess:
        """Start a case without waiting (to signal it); the caller joins it."""
        proc = self._ctx.Process(target=_child, args=(args, str(log_path), self._preload), daemon=True)
        proc.start()
        return proc

    def run(self, args: list[str], *, timeout: float, log_path: Path) -> tuple[int | None, str, float]:
        start = time.perf_counter()
        proc = self.start(args, log_path=log_path)
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join()
            code = None
        else:
            code = proc.exitcode
        return code, log_path.read_text(errors="replace") if log_path.exists() else "", time.perf_counter() - start


def picture_times(path: Path) -> list[Fraction]:
    """The time of every picture of the film's stream (the first that is not a cover) that decodes, up to the first error."""
    times = []
    with av.open(str(path)) as container:
        stream = main_video_stream(container)
        try:
            for frame in container.decode(stream):
                times.append(frame.pts * stream.time_base)
        except av.error.FFmpegError:
            pass
    return times


def timing_mismatch(src: Path, out: Path, tick: Fraction = Fraction(1, 1000)) -> str | None:
    """Why ``out`` does not hold the pictures of ``src`` that decode, each at its own time (1 ms covers a
    container's rounding of the time base), or None when it does."""
    expected, written = picture_times(src), picture_times(out)
    if len(expected) != len(written):
        return f"{len(written)} pictures written, {len(expected)} decode from the input"
    for k, (a, b) in enumerate(zip(expected, written)):
        if abs(a - b) > tick:
            return f"picture {k} at {float(b):.4f} s, the input's at {float(a):.4f} s"
    return None


def count_frames(path: Path) -> int:
    """Decode every frame of ``path``; raises on any decoder error."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for _ in container.decode(stream))


def run_case(runner: CliRunner, name: str, src: Path, out_dir: Path, *, timeout: float, extra: tuple[str, ...] = ()) -> CaseResult:
    """One corpus case: hash the input, run, judge the exit, the output and what was left behind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / "out.mp4"
    before = sha256_of(src)
    log_path = out_dir.parent / f"{out_dir.name}.stderr"
    code, stderr, seconds = runner.run(["run", str(src), "-o", str(dst), "-q", *extra], timeout=timeout, log_path=log_path)
    result = CaseResult(name=name, exit_code=code, stderr=stderr, seconds=seconds, input_changed=sha256_of(src) != before)
    found = WROTE.search(stderr)
    result.reported_frames = int(found.group(1)) if found else None
    expected = ["out.mp4"] if code == 0 else []
    result.leftovers = sorted(p.name for p in out_dir.iterdir() if p.name not in expected) + sorted(p.name for p in src.parent.glob(PARTIAL_GLOB))
    if code == 0:
        if not dst.is_file():
            result.output_error = "no output file"
        else:
            try:
                result.output_frames = count_frames(dst)
            except (av.error.FFmpegError, IndexError) as ex:
                result.output_error = f"output not decodable: {ex}"
            else:
                if "skip" not in extra:  # concealed pictures stand in for ones that do not decode
                    result.timing_error = timing_mismatch(src, dst)
    return result


# the fast options of every corpus run: tiny test network, quickest x264 preset
TINY_ARGS = ("--model", "tiny", "--random-weights", "0", "--preset", "ultrafast")
