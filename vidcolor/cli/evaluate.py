"""``vidcolor evaluate``: score a model on a folder of colour photographs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidcolor.cli.options import DeviceOpt, WeightsOpt


def evaluate(
    images: Annotated[Path, typer.Argument(help="Folder of colour images (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for eval.json, eval.md and the PNGs.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Registered model name.")] = "lite",
    weights: WeightsOpt = None,
    temperature: Annotated[
        list[float] | None,
        typer.Option("--temperature", "-t", min=0.01, max=10.0, help="Temperature to score; repeat to compare several."),
    ] = None,
    upsample: Annotated[
        list[str] | None, typer.Option(help="ab upsampling: bilinear or guided; repeat to score both.")
    ] = None,
    split: Annotated[str, typer.Option(help="all, even or odd positions of the sorted image list.")] = "all",
    max_images: Annotated[int, typer.Option("--max-images", min=0, help="At most this many images (0: all).")] = 0,
    device: DeviceOpt = "auto",
) -> None:
    """Colourise each image from its L alone and compare with the original, beside the grayscale baseline."""
    from vidcolor.evaluate import EvalConfig, markdown_table, write_report
    from vidcolor.evaluate import evaluate as run_evaluation

    config = EvalConfig(
        images=images, model=model, weights=weights, temperatures=tuple(temperature) if temperature else None,
        upsample=tuple(upsample or ("bilinear",)), split=split, max_images=max_images, device=device,
    )
    result = run_evaluation(config)
    paths = write_report(result, out)
    typer.echo(markdown_table(result))
    if len(result.methods) > 2:
        typer.echo(f"best temperature by the issue-3 criteria: {result.best_temperature():g}")
    typer.echo(f"report written to {paths['json'].parent}")
