"""GPU checks of issue 14 that gpu_network.py and throughput.py do not make.

* FP16 parity on real film: the CUDA FP16 engine against the float32 CPU engine on
  chaplin and steamboat, ECCV16 (seeded random weights) and the shipped ``lite``, at
  the shape and decoding the product uses for each clip. Bound: mean ab difference
  at most 1.0, 99th percentile at most 5.
* torch.compile against the CUDA-graph engine: the same FP16 channels-last network,
  network-only, input already on the GPU, compiled in inductor's ``default`` and
  ``reduce-overhead`` (its own CUDA graphs) modes; the compile time is reported too.
* Out-of-memory halving on a batch that really does not fit: the card is filled
  with one allocation until only ``--free-gib`` is left, as another process on a
  shared GPU would, and an ECCV16 batch of 256 at 256x256 goes through the
  engine that the pipeline uses (``HalvingEngine``), then a whole film through
  ``colorize``.

Run from the repository root on a machine with a CUDA GPU:

    python benchmarks/gpu_checks.py --out gpu_checks.json
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vidcolor import ColorizeOptions, colorize
from vidcolor.color.lab import l_from_luma
from vidcolor.engines.torch_engine import TorchEngine
from vidcolor.media import FrameReader, probe
from vidcolor.models import load_model
from vidcolor.pipeline.oom import HalvingEngine
from vidcolor.pipeline.predict import predict_ab, render_plan

log = logging.getLogger("gpu_checks")

CLIPS = ("bw/moviepy_chaplin.mp4", "bw/hackverify_steamboat_willie_1928.mp4")
MODELS = (("eccv16", 0), ("lite", None))  # (name, random seed or None for the shipped weights)


def clip_l(path: Path, frames: int) -> torch.Tensor:
    """L* (frames,1,H,W) of ``frames`` pictures spread over the clip."""
    info = probe(path).video
    every = max(1, info.frames // frames)
    lumas = [f.luma.copy() for i, f in enumerate(FrameReader(path, info)) if i % every == 0][:frames]
    return l_from_luma(torch.from_numpy(np.stack(lumas)).unsqueeze(1), info.chroma_spec)


def parity(media: Path, frames: int) -> list[dict]:
    rows = []
    for clip in CLIPS:
        l_full = clip_l(media / clip, frames)
        for name, seed in MODELS:
            model = load_model(name, random_seed=seed)
            size = model.weights.input_size
            cpu = TorchEngine(copy.deepcopy(model.network), device=torch.device("cpu"), input_size=size, max_batch=8)
            plan = render_plan(model, cpu, ColorizeOptions(), *l_full.shape[-2:])
            cuda = TorchEngine(model.network, device=torch.device("cuda"), input_size=size, max_batch=8)
            errors = []
            with torch.inference_mode():
                for chunk in l_full.split(8):
                    ref = predict_ab(cpu, chunk, plan)
                    errors.append((predict_ab(cuda, chunk.cuda(), plan).cpu() - ref).abs().flatten())
            err = torch.cat(errors)
            row = {
                "clip": clip, "model": model.label, "random_weights": seed is not None, "frames": len(l_full),
                "network_input": list(plan.shape),
                # torch.quantile takes at most 2^24 values: an even subsample of the larger clips
                "mean_ab_diff": err.mean().item(), "p99_ab_diff": torch.quantile(err[:: max(1, len(err) // 10_000_000)], 0.99).item(),
                "max_ab_diff": err.max().item(),
            }
            row["within_bound"] = row["mean_ab_diff"] <= 1.0 and row["p99_ab_diff"] <= 5.0
            log.info("parity %s %s: mean %.3f, p99 %.3f, max %.2f", clip, model.label, row["mean_ab_diff"], row["p99_ab_diff"], row["max_ab_diff"])
            rows.append(row)
    return rows


def seconds_per_call(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, warmup: int, iters: int) -> tuple[float, float]:
    """(seconds of the first call, seconds per call after ``warmup`` more), between device synchronisations."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn(x)
    torch.cuda.synchronize()
    first = time.perf_counter() - start
    for _ in range(warmup):
        fn(x)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        fn(x)
    torch.cuda.synchronize()
    return first, (time.perf_counter() - start) / iters


def compiled(network: torch.nn.Module, mode: str) -> Callable[[torch.Tensor], torch.Tensor]:
    body = torch.compile(copy.deepcopy(network).cuda().half().to(memory_format=torch.channels_last), mode=mode, dynamic=False)

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return body(x.half().contiguous(memory_format=torch.channels_last))

    return run


def compile_vs_graphs(batches: list[int], size: int, iters: int, budget_s: float) -> list[dict]:
    rows = []
    started = time.perf_counter()
    for name, _ in MODELS:
        network = load_model(name, random_seed=0).network.eval()
        variants: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
            "cuda-graphs (vidcolor)": TorchEngine(copy.deepcopy(network), device=torch.device("cuda"), input_size=size, max_batch=max(batches)),
            "eager (vidcolor, graphs off)": TorchEngine(copy.deepcopy(network), device=torch.device("cuda"), input_size=size,
                                                        max_batch=max(batches), cuda_graphs=False),
            "torch.compile default": compiled(network, "default"),
            "torch.compile reduce-overhead": compiled(network, "reduce-overhead"),
        }
        for variant, fn in variants.items():
            for batch in batches:
                if time.perf_counter() - started > budget_s:
                    log.warning("compile comparison stopped at its %.0f s budget", budget_s)
                    return rows
                x = torch.rand(batch, 1, size, size, device="cuda") - 0.5
                try:
                    first, per_call = seconds_per_call(fn, x, warmup=3, iters=iters)
                except Exception as ex:  # noqa: BLE001 (a compiler failure is a result to report, not a crash)
                    rows.append({"model": name, "variant": variant, "batch": batch, "error": f"{type(ex).__name__}: {str(ex)[:300]}"})
                    log.warning("%s %s batch %d failed: %s", name, variant, batch, ex)
                    continue
                rows.append({"model": name, "variant": variant, "batch": batch, "size": size, "fps": batch / per_call,
                             "ms_per_batch": per_call * 1e3, "first_call_s": first})
                log.info("%-7s %-30s batch %3d: %8.1f fps (first call %.1f s)", name, variant, batch, batch / per_call, first)
    return rows


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def oom_halving(free_gib: float, batch: int, size: int, media: Path) -> dict:
    torch.cuda.empty_cache()  # blocks cached by the checks before would otherwise stay ours
    free, total = torch.cuda.mem_get_info()
    hog = torch.empty(int(free - free_gib * 2**30), dtype=torch.uint8, device="cuda")
    records = _Records()
    logging.getLogger("vidcolor").addHandler(records)
    try:
        network = load_model("eccv16", random_seed=0).network
        engine = HalvingEngine(TorchEngine(network, device=torch.device("cuda"), input_size=size, max_batch=batch))
        x = torch.rand(batch, 1, size, size, device="cuda") - 0.5
        start = time.perf_counter()
        with torch.inference_mode():
            out = engine(x)
            torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            again = engine(x[: engine.limit or batch])  # the same frames in one chunk of the size that fitted
        result = {
            "gpu_total_gib": total / 2**30, "left_free_gib": free_gib, "model": "eccv16 (random)", "batch": batch, "size": size,
            "halvings": engine.halvings, "batch_that_ran": engine.limit, "frames_out": out.shape[0], "seconds": seconds,
            "chunks_agree": bool(torch.equal(out[: len(again)], again)),
        }
        del out, again, x, engine, network
        torch.cuda.empty_cache()
        # the same through the product: a whole film with a batch that does not fit
        result["film"] = CLIPS[0]
        try:
            with tempfile.TemporaryDirectory() as tmp:
                run = colorize(media / CLIPS[0], Path(tmp) / "out.mp4",
                               ColorizeOptions(model="eccv16", random_seed=0, device="cuda", batch_size=batch))
                result.update({"film_frames": run.frames, "film_fps": run.fps,
                               "film_frames_in_output": probe(Path(tmp) / "out.mp4").video.frames})
        except Exception as ex:  # noqa: BLE001 (reported beside the engine's own result, which stands)
            result["film_error"] = f"{type(ex).__name__}: {str(ex)[:300]}"
    finally:
        logging.getLogger("vidcolor").removeHandler(records)
        del hog
        torch.cuda.empty_cache()
    result["log"] = [m for m in records.messages if "memory" in m]
    log.info("OOM halving: %s", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media")
    parser.add_argument("--frames", type=int, default=32, help="pictures of each clip in the parity check")
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--compile-budget", type=float, default=180, help="seconds for the compile comparison")
    parser.add_argument("--free-gib", type=float, default=3.0, help="GPU memory left free for the OOM check")
    parser.add_argument("--only", nargs="+", choices=("parity", "compile", "oom"), default=["parity", "oom", "compile"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not torch.cuda.is_available():
        parser.error("needs a CUDA GPU")

    result: dict = {"benchmark": "gpu_checks", "device": torch.cuda.get_device_name(), "torch": torch.__version__,
                    "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    checks = {"parity": lambda: parity(args.media, args.frames),
              "oom": lambda: oom_halving(args.free_gib, 256, args.size, args.media),
              "compile": lambda: compile_vs_graphs(args.batches, args.size, args.iters, args.compile_budget)}
    for name in args.only:
        try:
            result[name] = checks[name]()
        except Exception as ex:  # each check reports on its own; one failing must not lose the others
            log.exception("%s failed", name)
            result[name] = {"error": f"{type(ex).__name__}: {ex}"}
        args.out.write_text(json.dumps(result, indent=2, default=str))
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
