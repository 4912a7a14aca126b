"""Soak: the shared clips through ``colorize`` again and again, watching memory, threads and file descriptors.

After every run it records the process's resident memory (VmRSS from /proc/self/status,
psutil is not needed), its Python threads, its OS threads (Threads: in /proc/self/status,
which includes torch's and FFmpeg's pools) and its open file descriptors (/proc/self/fd).
The first run is warm-up (allocator pools, model, codec tables); growth is measured from it.

Run from the repository root:

    python benchmarks/soak.py                                  # 30 minutes, the clips as they are
    python benchmarks/soak.py --minutes 5 --seconds 1 --model lite --random-weights 0

``--seconds N`` runs stream-copied excerpts of the first N seconds (more runs per minute
on a slow CPU); ``--model tiny`` uses the test suite's small network (imports tests/).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vidcolor import ColorizeOptions, EncodeOptions, colorize  # noqa: E402

SHARED_MEDIA = REPO.parent / "shared" / "media"
CLIPS = ("bw/moviepy_chaplin.mp4", "bw/hackverify_steamboat_willie_1928.mp4")


@dataclass
class Sample:
    run: int
    clip: str
    frames: int
    seconds: float
    rss_mib: float
    py_threads: int
    os_threads: int
    fds: int


def _status_field(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise KeyError(name)


def sample(run: int, clip: str, frames: int, seconds: float) -> Sample:
    return Sample(
        run=run,
        clip=clip,
        frames=frames,
        seconds=seconds,
        rss_mib=_status_field("VmRSS") / 1024,
        py_threads=threading.active_count(),
        os_threads=_status_field("Threads"),
        fds=len(os.listdir("/proc/self/fd")),
    )


def prepare_clips(seconds: float | None, folder: Path) -> list[Path]:
    clips = [SHARED_MEDIA / c for c in CLIPS]
    missing = [c for c in clips if not c.exists()]
    if missing:
        sys.exit(f"missing shared clips: {missing}")
    if not seconds:
        return clips
    from tests.corpus import excerpt  # stream copy, no re-encode

    out = []
    for clip in clips:
        dst = folder / f"{clip.stem}.{seconds:g}s.mp4"
        excerpt(clip, dst, seconds)
        out.append(dst)
    return out


def soak(clips: list[Path], options: ColorizeOptions, minutes: float, work: Path) -> list[Sample]:
    samples: list[Sample] = []
    deadline = time.monotonic() + minutes * 60
    run = 0
    while run == 0 or time.monotonic() < deadline:
        clip = clips[run % len(clips)]
        dst = work / f"out{run % 2}.mp4"
        dst.unlink(missing_ok=True)
        result = colorize(clip, dst, options)
        samples.append(sample(run, clip.name, result.frames, result.seconds))
        s = samples[-1]
        print(f"run {run:3d} {clip.name:45s} {s.frames:4d} frames {s.seconds:6.1f} s  RSS {s.rss_mib:7.1f} MiB  "
              f"threads {s.py_threads}/{s.os_threads}  fds {s.fds}", flush=True)
        run += 1
    return samples


def report(samples: list[Sample], args: argparse.Namespace) -> str:
    base = samples[0]
    last = samples[-1]
    after = samples[1:] or samples
    growth = (last.rss_mib - base.rss_mib) / base.rss_mib * 100
    peak = max(s.rss_mib for s in after)
    # growth over the second half alone tells a leak (still rising) from a plateau
    half = after[len(after) // 2 :]
    half_growth = (half[-1].rss_mib - half[0].rss_mib) / half[0].rss_mib * 100 if len(half) > 1 else 0.0
    # the warm-up run's own peak (model load, first-use pools) can be returned later; growth from run 1 excludes it
    second = samples[1] if len(samples) > 1 else base
    growth_from_second = (last.rss_mib - second.rss_mib) / second.rss_mib * 100
    frames = sum(s.frames for s in samples)
    lines = [
        f"soak: {len(samples)} runs, {frames} frames, {args.minutes:g} min requested, model {args.model}"
        f"{' (random weights)' if args.random_weights is not None else ''}, clips {'excerpts of ' + str(args.seconds) + ' s' if args.seconds else 'full'}, "
        f"{platform.machine()} {os.cpu_count()} cpus",
        "",
        "| measure | after warm-up run | end | change |",
        "|---|---:|---:|---:|",
        f"| RSS MiB | {base.rss_mib:.1f} | {last.rss_mib:.1f} | {growth:+.1f} % (from run 1: {growth_from_second:+.1f} %; second half {half_growth:+.1f} %; peak after warm-up {peak:.1f}) |",
        f"| Python threads | {base.py_threads} | {last.py_threads} | {last.py_threads - base.py_threads:+d} |",
        f"| OS threads | {base.os_threads} | {last.os_threads} | {last.os_threads - base.os_threads:+d} |",
        f"| open fds | {base.fds} | {last.fds} | {last.fds - base.fds:+d} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=None, help="use excerpts of the first N seconds of each clip")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--random-weights", type=int, default=None, metavar="SEED")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--preset", default="medium", help="x264 preset")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    if args.model == "tiny":
        import tests.conftest  # noqa: F401  (registers the test network)
    options = ColorizeOptions(model=args.model, random_seed=args.random_weights, batch_size=args.batch_size, encode=EncodeOptions(preset=args.preset))
    with tempfile.TemporaryDirectory(prefix="vidcolor-soak-") as tmp:
        clips = prepare_clips(args.seconds, Path(tmp))
        samples = soak(clips, options, args.minutes, Path(tmp))
    print()
    print(report(samples, args))


if __name__ == "__main__":
    main()
