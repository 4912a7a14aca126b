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
from pathlib import Path

import av

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
    return result


# the fast options of every corpus run: tiny test network, quickest x264 preset
TINY_ARGS = ("--model", "tiny", "--random-weights", "0", "--preset", "ultrafast")
