"""End-to-end fps of several settings on one clip, measured side by side: runs alternate
(A B C, C B A, A B C, ...) so that the machine's load swings hit every setting alike, and the
figure that matters is the ratio to the first setting, not the absolute fps.

Each setting is ``NAME=MODEL[,render=S][,t=T]`` as in benchmarks/archival.py.

    python benchmarks/speed_ab.py ../shared/media/bw/moviepy_chaplin.mp4 --rounds 4 \\
        --setting v2=lite.v2 --setting v4=lite.v4 --setting v4r192=lite.v4,render=192
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from vidcolor import ColorizeOptions, colorize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--setting", action="append", required=True)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = {}
    for text in args.setting:
        name, _, spec = text.partition("=")
        model, *pairs = spec.split(",")
        fields = dict(p.split("=", 1) for p in pairs)
        settings[name] = ColorizeOptions(model=model, render_size=int(fields["render"]) if "render" in fields else None,
                                         temperature=float(fields["t"]) if "t" in fields else None, overwrite=True)
    fps: dict[str, list[float]] = {name: [] for name in settings}
    names = list(settings)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mp4"
        colorize(args.clip, out, settings[names[0]])  # warm-up: page cache, allocator, weights
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                start = time.perf_counter()
                result = colorize(args.clip, out, settings[name])
                fps[name].append(result.frames / (time.perf_counter() - start))
                print(f"round {r} {name}: {fps[name][-1]:.1f} fps", flush=True)
    base = statistics.median(fps[names[0]])
    report = {name: {"median_fps": statistics.median(v), "ratio_to_first": statistics.median(v) / base, "runs": v}
              for name, v in fps.items()}
    for name, r in report.items():
        print(f"{name}: median {r['median_fps']:.1f} fps, {r['ratio_to_first']:.2f}x {names[0]}")
    if args.json:
        args.json.write_text(json.dumps({"clip": str(args.clip), "threads": torch.get_num_threads(), "settings": report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
