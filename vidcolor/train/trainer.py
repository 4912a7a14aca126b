"""Train the ``lite`` decoder on precomputed encoder features; resumable and seeded."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from vidcolor.engines.select import resolve_device
from vidcolor.models.lite import Lite, LiteDecoder, load_encoder_state
from vidcolor.train.config import TrainConfig
from vidcolor.train.features import load_or_build
from vidcolor.train.loss import rebalanced_cross_entropy
from vidcolor.train.rebalance import bin_counts, rebalance_weights, smooth_prior

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "last.pt"


@dataclass(frozen=True)
class TrainProgress:
    """One progress report; ``stage`` is ``features`` (precomputing) or ``train``."""

    stage: str
    done: int
    total: int
    loss: float = math.nan
    images_per_s: float = 0.0
    lr: float = 0.0


ProgressCallback = Callable[[TrainProgress], None]


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Path
    steps_done: int
    finished: bool
    final_loss: float
    seconds: float


def _lr_factor(step: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    span = max(1, config.steps - config.warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - config.warmup_steps) / span)))


def _batch_index(step: int, n: int, config: TrainConfig) -> torch.Tensor:
    # Each epoch's order depends only on (seed, epoch), so a resumed run sees the same batches.
    first = step * config.batch_size
    idx = []
    while len(idx) < config.batch_size:
        epoch, offset = divmod(first + len(idx), n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch))
        idx.extend(perm[offset : offset + config.batch_size - len(idx)].tolist())
    return torch.tensor(idx)


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train(config: TrainConfig, progress: ProgressCallback | None = None, log_every: int = 50) -> TrainResult:
    """Train the decoder of ``lite`` from the images in ``config.data``.

    Resumes from ``work_dir/last.pt`` when it exists. Stops after ``config.steps``
    steps or ``config.time_limit_s`` seconds, whichever comes first, always
    leaving a checkpoint.
    """
    config.work_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    encoder_model = Lite(encoder_state=load_encoder_state()).to(device)

    def feature_progress(done: int, total: int, rate: float) -> None:
        if progress is not None:
            progress(TrainProgress("features", done, total, images_per_s=rate))

    bank = load_or_build(config, encoder_model.encoder, Lite.encoder_input, device, feature_progress)
    del encoder_model
    prior = smooth_prior(bin_counts(bank.target_index[:, 0]), config.prior_sigma)
    weights = rebalance_weights(prior, config.rebalance_lambda).to(device)

    decoder = LiteDecoder(config.decoder_widths).to(device)
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, config))
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    checkpoint = config.work_dir / CHECKPOINT_NAME
    step = 0
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        decoder.load_state_dict(state["decoder"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        step = state["step"]
        log.info("resumed from %s at step %d", checkpoint, step)

    def save() -> None:
        _save(checkpoint, {
            "decoder": decoder.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "step": step,
            "config": config.to_dict(), "prior": prior,
        })

    decoder.train()
    start = window_start = time.perf_counter()
    window_images, loss_sum, loss_n, last_loss = 0, 0.0, 0, math.nan
    while step < config.steps:
        feats, t_index, t_weight = bank.batch(_batch_index(step, len(bank), config), device)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            logits = decoder(feats)
        loss = rebalanced_cross_entropy(logits, t_index, t_weight, weights)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        step += 1
        window_images += config.batch_size
        loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
        if step % log_every == 0 or step == config.steps:
            now = time.perf_counter()
            last_loss = loss_sum / loss_n
            rate = window_images / (now - window_start)
            log.info("step %d/%d loss %.4f %.1f images/s lr %.2e", step, config.steps, last_loss, rate, scheduler.get_last_lr()[0])
            if progress is not None:
                progress(TrainProgress("train", step, config.steps, last_loss, rate, scheduler.get_last_lr()[0]))
            window_start, window_images, loss_sum, loss_n = now, 0, 0.0, 0
        if step % config.checkpoint_every == 0:
            save()
        if config.time_limit_s and time.perf_counter() - start > config.time_limit_s:
            log.info("time limit %.0f s reached at step %d", config.time_limit_s, step)
            break
    if loss_n:
        last_loss = loss_sum / loss_n
    save()
    return TrainResult(checkpoint, step, step >= config.steps, last_loss, time.perf_counter() - start)
