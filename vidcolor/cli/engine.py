"""``vidcolor engine``: export ONNX and build TensorRT plans ahead of time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidcolor.defaults import MIN_OPSET
from vidcolor.engines.profiles import PROFILES_DIR, find_profile, list_profiles

app = typer.Typer(help="Export ONNX and build TensorRT plans ahead of time.", no_args_is_help=True)


@app.command()
def export(
    model: Annotated[str, typer.Argument(help="Model name: arch or arch.tag, e.g. eccv16.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="ONNX file to write; its record goes beside it as OUT.json.")],
    fp16: Annotated[bool, typer.Option("--fp16/--fp32", help="FP16 weights and activations in the graph.")] = True,
    opset: Annotated[int, typer.Option(help=f"ONNX opset, at least {MIN_OPSET}.")] = MIN_OPSET,
    input_size: Annotated[int | None, typer.Option("--input-size", help="Square input side (default: the model's).")] = None,
    weights: Annotated[Path | None, typer.Option("--weights", help="Local weights file instead of the cache.")] = None,
    random_seed: Annotated[int | None, typer.Option("--random-seed", help="Seeded random weights (benchmarks, tests).")] = None,
) -> None:
    """Write a model's network body as ONNX (dynamic batch; softmax and decoding stay outside)."""
    from vidcolor.engines.onnx_export import export_onnx, read_export_info
    from vidcolor.models.loading import load_model

    loaded = load_model(model, weights_path=weights, random_seed=random_seed)
    path = export_onnx(loaded, out, fp16=fp16, opset=opset, input_size=input_size)
    info = read_export_info(path)
    typer.echo(f"{path}: {info.model} {info.precision} {info.input_size}x{info.input_size} opset {info.opset}, sha256 {info.sha256}")


@app.command()
def build(
    profile: Annotated[str, typer.Argument(help=f"Profile name in {PROFILES_DIR} or a path to a profile file.")],
    device: Annotated[str, typer.Option(help="CUDA device to build for.")] = "cuda",
    cache: Annotated[Path | None, typer.Option("--cache", help="Plan folder (default: engines/cache).")] = None,
    weights: Annotated[Path | None, typer.Option("--weights", help="Local weights file instead of the cache.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build even if a verified plan exists.")] = False,
) -> None:
    """Build the TensorRT plan for a profile (minutes); later runs load it instead of building."""
    from vidcolor.engines.tensorrt_engine import build_from_profile

    spec, _ = find_profile(profile)
    cached = build_from_profile(spec, device=device, cache=cache, weights_path=weights, rebuild=rebuild)
    state = "built" if cached.built else "already built"
    typer.echo(f"{cached.path}: {state} for {cached.key.gpu_name} (sm {cached.key.compute_capability}), TensorRT {cached.key.tensorrt_version}")


@app.command("profiles")
def profiles() -> None:
    """List the engine build profiles."""
    for p in list_profiles():
        typer.echo(f"{p.name}: {p.model} {p.input_size}x{p.input_size} {p.precision}, batch {p.min_batch}..{p.max_batch} (opt {p.opt_batch})")
