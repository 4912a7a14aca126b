"""Throughput of each stage and of the whole stream, on one clip, in one run.

    python benchmarks/throughput.py ../shared/media/bw/moviepy_chaplin.mp4 --model lite

Prints decode-only, transcode-only (decode + encode with neutral chroma, no network),
infer-only (the colouring stage on pre-decoded frames) and end-to-end fps, and the
ratio end-to-end / min(transcode-only, infer-only): 1.0 means the three stages overlap
perfectly, so the stream runs as fast as its slowest stage.

``--height 720`` (or 1080) first rescales the clip's video to that height (x264 crf 12,
not timed), for the 720p and 1080p figures issue 5 asks for when no such clip is at hand;
``--loops N`` plays it N times over, so a fast GPU run lasts long enough to time.
``--hwaccel cuda`` decodes on NVDEC in every stage that decodes, and the JSON says which
decoder really ran (FFmpeg falls back to software where NVDEC is missing):

    python benchmarks/throughput.py ../shared/media/bw/moviepy_chaplin.mp4 --device cuda --height 1080 --loops 4 --hwaccel cuda
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch

from vidcolor import ColorizeOptions, colorize
from vidcolor.engines import open_engine
from vidcolor.media import FrameReader, VideoWriter, probe
from vidcolor.models import load_model
from vidcolor.pipeline.colorize import CONTAINER_FORMATS, make_predictor, run_stages
from vidcolor.pipeline.progress import ProgressMeter


class NeutralChroma:
    """Stands in for the network: grey chroma at the right shape, no compute."""

    def __init__(self, shape: tuple[int, int], bits: int) -> None:
        self.value = 128 << (bits - 8)
        self.shape = shape
        self.dtype = np.uint16 if bits > 8 else np.uint8

    def __call__(self, lumas: list[np.ndarray], pts: object = None) -> np.ndarray:
        return np.full((len(lumas), 2, *self.shape), self.value, dtype=self.dtype)


def rescaled(clip: Path, height: int, dest: Path, loops: int = 1) -> Path:
    """The clip's video alone, resized to ``height`` (0: as it is; width to match, even), played ``loops`` times."""
    with av.open(str(clip)) as src, av.open(str(dest), "w") as dst:
        vin = src.streams.video[0]
        height = height or vin.codec_context.height
        width = round(vin.codec_context.width * height / vin.codec_context.height / 2) * 2
        vout = dst.add_stream("libx264", rate=vin.average_rate, options={"crf": "12", "preset": "veryfast"})
        vout.width, vout.height, vout.pix_fmt, vout.time_base = width, height, "yuv420p", vin.time_base
        offset = 0
        for _ in range(loops):
            src.seek(0, stream=vin)
            last = 0
            for frame in src.decode(vin):
                scaled = frame.reformat(width=width, height=height, format="yuv420p", interpolation="BICUBIC")
                scaled.pts, scaled.time_base = offset + frame.pts, frame.time_base
                last = frame.pts + (frame.duration or 1)
                dst.mux(vout.encode(scaled))
            offset += last
        dst.mux(vout.encode(None))
    return dest


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", type=Path)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--random-weights", type=int, default=None, help="seed; default: the shipped weights")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--temporal", default="off")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--height", type=int, default=0, help="rescale the clip to this height first (0: as it is)")
    parser.add_argument("--loops", type=int, default=1, help="play the clip this many times over")
    parser.add_argument("--hwaccel", default=None, help="e.g. cuda: decode on NVDEC")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        remade = args.height or args.loops > 1
        clip = rescaled(args.clip, args.height, Path(scratch) / "scaled.mp4", args.loops) if remade else args.clip
        results = measure(clip, args)
    for key, value in results.items():
        print(f"{key:>16}: {value:.2f}" if isinstance(value, float) else f"{key:>16}: {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def measure(clip: Path, args: argparse.Namespace) -> dict[str, float | str | int]:
    """Decode-only, transcode-only, infer-only and end-to-end fps of ``clip``, and the overlap ratio."""
    info = probe(clip).video
    frames = info.frames
    model = load_model(args.model, random_seed=args.random_weights)
    engine = open_engine(model, device=args.device, max_batch=args.batch_size)
    results: dict[str, float | str | int] = {
        "clip": args.clip.name if clip == args.clip else f"{args.clip.name} at {info.height}p, {args.loops}x",
        "frames": frames, "size": f"{info.width}x{info.height}",
        "model": model.label, "engine": engine.describe(), "batch_size": args.batch_size,
        "hwaccel_asked": args.hwaccel or "none",
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, {platform.processor() or platform.platform()}",
    }

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"out{clip.suffix if clip.suffix in CONTAINER_FORMATS else '.mkv'}"

        lumas: list[np.ndarray] = []
        reader = FrameReader(clip, info, hwaccel=args.hwaccel)
        t = timed(lambda: lumas.extend(f.luma.copy() for f in reader))
        results["decode_fps"] = len(lumas) / t
        results["decoder"] = "hardware (NVDEC)" if reader.hardware else "software"

        def transcode() -> None:
            writer = VideoWriter(out, CONTAINER_FORMATS.get(out.suffix), info, clip, ColorizeOptions().encode)
            run_stages(FrameReader(clip, info, hwaccel=args.hwaccel), NeutralChroma(writer.chroma_shape, writer.chroma_bits), writer,
                        args.batch_size, ProgressMeter(frames, None))
            writer.close()

        results["transcode_fps"] = frames / timed(transcode)
        out.unlink()

        options = ColorizeOptions(model=args.model, random_seed=args.random_weights, device=args.device,
                                  batch_size=args.batch_size, temporal=args.temporal, hwaccel=args.hwaccel)
        sizing_writer = VideoWriter(out, CONTAINER_FORMATS.get(out.suffix), info, clip, options.encode)
        predictor = make_predictor(model, engine, info, sizing_writer, options)
        sizing_writer.abort()
        out.unlink(missing_ok=True)
        predictor(lumas[: args.batch_size])  # warm-up: allocator, kernels

        def infer() -> None:
            for i in range(0, len(lumas), args.batch_size):
                predictor(lumas[i : i + args.batch_size])

        results["infer_fps"] = len(lumas) / timed(infer)

        result = colorize(clip, out, options)
        results["end_to_end_fps"] = result.fps

    results["ratio"] = results["end_to_end_fps"] / min(results["transcode_fps"], results["infer_fps"])
    results["end_to_end_over_transcode"] = results["end_to_end_fps"] / results["transcode_fps"]
    stages = {"decode": results["decode_fps"], "transcode (decode + encode)": results["transcode_fps"], "infer": results["infer_fps"]}
    results["slowest_stage"] = min(stages, key=stages.get)
    return results


if __name__ == "__main__":
    main()
