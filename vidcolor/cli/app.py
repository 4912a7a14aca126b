"""The typer application: one module per command, registered here."""

from __future__ import annotations

import logging

import typer

from vidcolor.cli import engine, weights
from vidcolor.cli.doctor import doctor
from vidcolor.cli.evaluate import evaluate
from vidcolor.cli.preview import preview
from vidcolor.cli.probe import probe
from vidcolor.cli.run import run
from vidcolor.cli.train import train

app = typer.Typer(
    name="vidcolor",
    help="Colourise black-and-white film.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _configure(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more detail.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="vidcolor: %(message)s",
        force=True,
    )
    for noisy in ("libav", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


app.command()(run)
app.command()(probe)
app.command()(preview)
app.command()(doctor)
app.command()(train)
app.command()(evaluate)
app.add_typer(weights.app, name="weights")
app.add_typer(engine.app, name="engine")
