"""Network-only throughput (issue 5): frames/s against batch size for each engine, and how close ECCV16 gets to the GPU's peak.

For each model (ECCV16, lite) at --size, each engine that runs here (PyTorch
CUDA FP16 with CUDA graphs, TensorRT when it imports, PyTorch CPU float32 on a
machine without a GPU) and each batch size, the input already sits on the
device and only ``engine(x)`` is timed: warm-up calls first (CUDA-graph
capture, cudnn autotuning), then --iters calls between device synchronisations.
Weights are seeded random: speed does not depend on their values.

The reference peak is measured, not taken from a data sheet: a large dense
matmul (FP16 on a GPU, float32 on a CPU). ECCV16's implied rate is
fps * 83.6 GFLOP (its cost per frame at 256x256, scaled by (size/256)^2 at
other sizes) and is reported as a fraction of that peak.

Run from the repository root:

    python benchmarks/gpu_network.py                          # GPU: batches 1..256
    python benchmarks/gpu_network.py --device cpu --batches 1 2 --size 64 --iters 2   # smoke test

Writes benchmarks/results/gpu_network-<device>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from vidcolor.engines.base import Engine
from vidcolor.engines.torch_engine import TorchEngine
from vidcolor.errors import EngineError
from vidcolor.models import load_model

log = logging.getLogger("gpu_network")

RESULTS = Path(__file__).parent / "results"
ECCV16_GFLOP_256 = 83.6
GPU_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass
class Point:
    model: str
    engine: str
    batch: int
    fps: float
    ms_per_batch: float
    implied_tflops: float | None = None
    fraction_of_peak: float | None = None


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak_tflops(device: torch.device, n: int, iters: int) -> tuple[float, str]:
    """Dense matmul rate: FP16 on a GPU (tensor cores), float32 on a CPU."""
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        torch.matmul(a, b)
    synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        torch.matmul(a, b)
    synchronize(device)
    seconds = (time.perf_counter() - start) / iters
    return 2 * n**3 / seconds / 1e12, str(dtype).removeprefix("torch.")


def time_engine(engine: Engine, batch: int, size: int, *, warmup: int, iters: int) -> float:
    """Seconds per call on a device-resident batch."""
    x = torch.rand(batch, 1, size, size, device=engine.device) - 0.5
    for _ in range(warmup):
        engine(x)
    synchronize(engine.device)
    start = time.perf_counter()
    for _ in range(iters):
        engine(x)
    synchronize(engine.device)
    return (time.perf_counter() - start) / iters


def open_engines(name: str, device: torch.device, size: int, max_batch: int) -> list[Engine]:
    model = load_model(name, random_seed=0)
    engines: list[Engine] = [TorchEngine(model.network, device=device, input_size=size, max_batch=max_batch)]
    if device.type == "cuda" and importlib.util.find_spec("tensorrt") is not None:
        from dataclasses import replace

        from vidcolor.engines.tensorrt_engine import TensorRTEngine

        model = load_model(name, random_seed=0)
        model.weights = replace(model.weights, input_size=size)
        try:
            engines.append(TensorRTEngine.for_model(model, device=device, max_batch=max_batch))
        except EngineError as ex:
            log.warning("TensorRT skipped for %s: %s", name, ex)
    return engines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batches", type=int, nargs="+", default=None, help="default: 1..256 on a GPU, 1 2 on a CPU")
    parser.add_argument("--models", nargs="+", default=["eccv16", "lite"])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--matmul-size", type=int, default=None, help="default: 8192 on a GPU, 1024 on a CPU")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    device = torch.device(args.device)
    gpu = device.type == "cuda"
    batches = args.batches or (list(GPU_BATCHES) if gpu else [1, 2])
    peak, peak_dtype = matmul_peak_tflops(device, args.matmul_size or (8192 if gpu else 1024), iters=20 if gpu else 3)
    log.info("dense %s matmul: %.3g TFLOP/s", peak_dtype, peak)
    gflop_frame = ECCV16_GFLOP_256 * (args.size / 256) ** 2

    points: list[Point] = []
    descriptions: dict[str, str] = {}
    for name in args.models:
        for engine in open_engines(name, device, args.size, max(batches)):
            descriptions[f"{name}/{engine.name}"] = engine.describe()
            for batch in batches:
                seconds = time_engine(engine, batch, args.size, warmup=args.warmup, iters=args.iters)
                point = Point(name, engine.name, batch, batch / seconds, seconds * 1e3)
                if name == "eccv16":
                    point.implied_tflops = point.fps * gflop_frame / 1e3
                    point.fraction_of_peak = point.implied_tflops / peak
                points.append(point)
                extra = f", {point.implied_tflops:.3g} TFLOP/s = {point.fraction_of_peak:.1%} of peak" if point.implied_tflops else ""
                log.info("%-7s %-16s batch %3d: %8.1f fps, %7.2f ms/batch%s", name, engine.name, batch, point.fps, point.ms_per_batch, extra)

    result = {
        "benchmark": "gpu_network",
        "device": torch.cuda.get_device_name(device) if gpu else f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "gpu_measured": gpu,
        "note": None if gpu else "no GPU in this run: CPU float32 figures from a smoke test, not GPU measurements",
        "size": args.size,
        "iters": args.iters,
        "torch": torch.__version__,
        "matmul_peak_tflops": peak,
        "matmul_dtype": peak_dtype,
        "eccv16_gflop_per_frame": gflop_frame,
        "engines": descriptions,
        "points": [asdict(p) for p in points],
    }
    out = args.out or RESULTS / f"gpu_network-{'gpu' if gpu else 'cpu'}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    log.info("wrote %s", out)


if __name__ == "__main__":
    main()
