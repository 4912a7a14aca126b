"""``vidcolor evaluate``: score a model on a folder of colour photographs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidcolor.cli.options import DeviceOpt, WeightsOpt
from vidcolor.errors import UsageError


def evaluate(
    images: Annotated[Path, typer.Argument(help="Folder of colour images (searched recursively), or colour video(s): "
                                             "a video file or a folder of .mp4/.mkv/.mov, made into film and coloured.")],
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
    stock: Annotated[
        list[str] | None, typer.Option("--stock", help="Video input: film stock (blue, ortho, pan, luma); repeat for several.")
    ] = None,
    frames: Annotated[int, typer.Option("--frames", min=5, help="Video input: pictures scored per clip.")] = 40,
) -> None:
    """Colourise each image from its L alone and compare with the original, beside the grayscale baseline.

    With colour video, each clip is first made into black-and-white film (stock, grain,
    flicker, blur), then coloured by the real pipeline and scored against its own colour.
    """
    clips = _videos(images)
    if clips:
        _evaluate_videos(clips, out, model=model, weights=weights, temperature=temperature, device=device,
                         stocks=tuple(stock or ("ortho", "pan")), frames=frames)
        return
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


_VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".m4v", ".avi", ".webm")


def _videos(path: Path) -> list[Path]:
    if path.is_file() and path.suffix.lower() in _VIDEO_SUFFIXES:
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in _VIDEO_SUFFIXES)
    return []


def _evaluate_videos(clips: list[Path], out: Path, *, model: str, weights: Path | None, temperature: list[float] | None,
                     device: str, stocks: tuple[str, ...], frames: int) -> None:
    import json

    import cv2

    from vidcolor.evaluate.archival import evaluate_films
    from vidcolor.evaluate.report import sheet_image
    from vidcolor.film import STOCKS
    from vidcolor.pipeline import ColorizeOptions

    unknown = [s for s in stocks if s not in STOCKS]
    if unknown:
        raise UsageError(f"--stock must be one of {', '.join(STOCKS)}, not {unknown[0]!r}")
    if temperature and len(temperature) > 1:
        raise UsageError("video input scores one temperature at a time")
    options = ColorizeOptions(model=model, weights=weights, device=device, overwrite=True,
                              temperature=temperature[0] if temperature else None)
    out.mkdir(parents=True, exist_ok=True)
    result = evaluate_films(clips, options, out / "work", stocks=stocks, frames=frames)
    (out / "films.json").write_text(json.dumps({"model": model, "clips": result.clips, "stocks": result.stocks,
                                                "frames": frames, "methods": result.summary()}, indent=2) + "\n")
    (out / "films.md").write_text(result.markdown())
    cv2.imwrite(str(out / "films_sheet.png"), cv2.cvtColor(sheet_image(result.sheet), cv2.COLOR_RGB2BGR))
    typer.echo(result.markdown())
    typer.echo(f"report written to {out}")
