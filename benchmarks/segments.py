"""Cost of splitting a job into segments (and joining them) against one uninterrupted run; Ray speed-up.

    python benchmarks/segments.py --model lite --seconds 4 --segment-seconds 1 --workers 2

For each clip (a prefix of ``--seconds``, copied packet for packet so the run stays short):
the plain ``colorize`` time, the split job's time (frame scan + segments + join), the
overhead per segment, and the overhead that implies at the default segment length (60 s, longer with strong smoothing) for this
model and machine. With ``--workers N`` it also runs the split job on a private local Ray
cluster of N CPU workers and reports its speed-up over the plain run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import av

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.streams import clip_prefix  # noqa: E402 (the prefixes the split-job tests run on)
from vidcolor.media import EncodeOptions  # noqa: E402
from vidcolor.pipeline import ColorizeOptions, colorize  # noqa: E402
from vidcolor.cluster import RayRunner  # noqa: E402
from vidcolor.jobs import colorize_job  # noqa: E402
from vidcolor.jobs.plan import JobOptions, default_segment_seconds  # noqa: E402

SHARED = REPO.parent / "shared" / "media" / "bw"
CLIPS = ("moviepy_chaplin.mp4", "hackverify_steamboat_willie_1928.mp4")


def timed(fn, *args, **kwargs) -> tuple[float, float, object]:  # noqa: ANN001, ANN002, ANN003
    """Wall seconds, this process's CPU seconds (all threads; less swayed by other jobs on a shared machine), result."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path, default=[SHARED / c for c in CLIPS])
    parser.add_argument("--model", default="lite")
    parser.add_argument("--random-weights", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the prefix of each clip")
    parser.add_argument("--segment-seconds", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=0, help="also run on a local Ray cluster of this many workers")
    args = parser.parse_args()
    options = ColorizeOptions(model=args.model, random_seed=args.random_weights, encode=EncodeOptions())
    print(f"{platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, model {args.model}, "
          f"{args.seconds:g} s prefixes, {args.segment_seconds:g} s segments")
    print("| clip | frames | plain s (CPU s) | split s (CPU s) | segments | CPU overhead / segment s | overhead at "
          f"default segments | Ray x{args.workers} s | speed-up (wall) |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        # first-call costs (weights, allocator, codec init) must not land on either side
        colorize(clip_prefix(args.clips[0], tmp / "warm.mp4", 0.5), tmp / "warm-out.mp4", options)
        for clip in args.clips:
            src = clip_prefix(clip, tmp / f"in-{clip.stem}.mp4", args.seconds)
            t_plain, cpu_plain, plain = timed(colorize, src, tmp / f"plain-{clip.stem}.mp4", options)
            job = JobOptions(segment_seconds=args.segment_seconds)
            t_split, cpu_split, _ = timed(colorize_job, src, tmp / f"split-{clip.stem}.mp4", options, job)
            with av.open(str(src)) as c:
                duration = float(c.duration / av.time_base)
                rate = float(c.streams.video[0].average_rate or 25)
            default_s = default_segment_seconds(options, rate)
            segments = max(1, round(duration / args.segment_seconds))
            per_segment = (cpu_split - cpu_plain) / segments
            # CPU time one default-length segment of this film takes at the plain run's rate
            default_segment_s = default_s * cpu_plain / duration
            projected = 100 * per_segment / default_segment_s
            ray_cells = "| |"
            if args.workers:
                runner = RayRunner("local", workers=args.workers)
                t_ray, _, _ = timed(colorize_job, src, tmp / f"ray-{clip.stem}.mp4", options, job, runner=runner)
                ray_cells = f"| {t_ray:.1f} | {t_plain / t_ray:.2f}x |"
            print(f"| {clip.name} | {plain.frames} | {t_plain:.1f} ({cpu_plain:.1f}) | {t_split:.1f} ({cpu_split:.1f}) "
                  f"| {segments} | {per_segment:.2f} "
                  f"| {projected:.2f} % ({default_s:.0f} s) {ray_cells}", flush=True)


if __name__ == "__main__":
    main()
