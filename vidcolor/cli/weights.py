"""`vidcolor weights list|fetch`: which models exist and getting their weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from vidcolor.models import get_model_entry, get_weights, list_models
from vidcolor.models.weights_cache import fetch as fetch_weights
from vidcolor.models.weights_cache import locate

app = typer.Typer(help="List models and fetch their weights.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """Registered models, their weights and whether they are on this machine."""
    table = Table("model", "weights", "input", "licence", "local file")
    for name in list_models():
        entry = get_model_entry(name)
        for w in entry.weights:
            path = locate(w)
            size = (f"short side {w.meta.get('render_size', w.input_size)}, own aspect" if w.meta.get("aspect_true")
                    else f"{w.input_size}x{w.input_size}")
            table.add_row(name, w.name, size, w.license, str(path) if path else "missing")
    Console().print(table)


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="Model (its default weights) or arch.tag.")],
    url: Annotated[str | None, typer.Option(hidden=True, help="Override the download URL (tests).")] = None,
    insecure_loopback: Annotated[bool, typer.Option(hidden=True, help="Allow http:// (loopback tests).")] = False,
) -> None:
    """Download weights into the user cache, verify their sha256 and move them into place."""
    weights = get_weights(name)
    with Progress(BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(weights.name, total=weights.size or None)
        path: Path = fetch_weights(
            weights,
            url=url,
            allow_insecure=insecure_loopback,
            progress=lambda done, total: bar.update(task, completed=done, total=total or None),
        )
    Console(stderr=True).print(f"{weights.name}: {path}")
