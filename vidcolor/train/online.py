"""Train ``lite`` on simulated film: fresh crops and a fresh film look every step.

Unlike :mod:`vidcolor.train.trainer`, which trains the decoder on features precomputed
once per crop, this runs the encoder every step. That is what film simulation needs
(the grey input changes with every draw of stock, grain and exposure) and what lets
the last encoder blocks learn too. It is meant for a GPU, where the whole image bank
sits in memory and crops are cut there; on a CPU it runs, slowly (tests, resuming).

Crops keep the aspect the network will see (square to about 2:1, both ways), because
films are not square.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from torchvision.ops import roi_align

from vidcolor.color.lab import rgb_to_lab
from vidcolor.engines.select import resolve_device
from vidcolor.errors import UsageError
from vidcolor.film import apply_look, film_grey, sample_looks
from vidcolor.models.lite import DEFAULT_ENCODER, Lite, load_encoder_state
from vidcolor.train.loss import rebalanced_cross_entropy
from vidcolor.train.pack import ImageBank
from vidcolor.train.rebalance import bin_counts, rebalance_weights, smooth_prior
from vidcolor.train.targets import sparse_soft_encode

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "online_last.pt"
BEST_NAME = "online_best.pt"
KEPT_PREFIX = "weights_"
# (height, width) of the crops; each batch has one of them. Multiples of 32, as the encoder needs.
CROP_SHAPES: tuple[tuple[int, int], ...] = ((96, 96), (96, 128), (96, 160), (96, 192), (128, 96), (128, 128))


@dataclass(frozen=True)
class OnlineConfig:
    """One online training run; saved in its checkpoints.

    Attributes:
        data: a pack (.npz, see :mod:`vidcolor.train.pack`), a folder of packs, or a folder of images.
        work_dir: checkpoints; a run with the same work_dir resumes.
        val: optional pack or folder scored (loss) every ``val_every`` steps.
        steps: optimiser steps of the whole run (the cosine schedule spans them); 0 plans
            them from ``time_limit_s`` after timing the first steps.
        time_limit_s: stop (with a checkpoint) after this many seconds; 0: no limit.
        encoder: timm's name of the ImageNet encoder (``vidcolor.models.lite.ENCODER_PACKAGES``); what
            ships is efficientnet_lite0, the others are for comparing encoders.
        train_encoder_blocks: how many of the encoder's last blocks train too (0: frozen).
        encoder_lr_scale: their learning rate relative to the decoder's.
        rebalance_lambda: class-rebalancing mix with uniform (1: no rebalancing).
        init: a lite weights file (decoder, maybe encoder blocks) to start from.
        keep_checkpoints: also keep each checkpoint's weights (FP16, ``weights_<step>.pt``), for
            ``export_online(average_last=...)``: with small batches one step moves the model
            visibly, and the mean of the last few checkpoints is steadier than the last alone.
        freeze_batchnorm: keep the decoder's batch-norm statistics as they are (the encoder's always
            stay ImageNet's); None: frozen for a warm start (``init``). Statistics re-estimated from
            small batches (a CPU's 32 crops) are noisy enough to undo a warm start: 250 CPU steps
            from lite.v3 scored 0.04 validation CE worse with the statistics they re-estimated
            than the same weights with v3's (benchmarks/RESULTS.md).
    """

    data: Path
    work_dir: Path
    val: Path | None = None
    steps: int = 0
    time_limit_s: float = 0.0
    encoder: str = DEFAULT_ENCODER
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    min_crop_scale: float = 0.55
    train_encoder_blocks: int = 0
    encoder_lr_scale: float = 0.1
    rebalance_lambda: float = 0.75
    prior_sigma: float = 5.0
    prior_batches: int = 40
    short_side: int = 112
    seed: int = 0
    checkpoint_every: int = 1000
    val_every: int = 1000
    val_images: int = 660
    max_images: int = 0
    device: str = "auto"
    init: Path | None = None
    freeze_batchnorm: bool | None = None
    keep_checkpoints: bool = False
    crop_shapes: tuple[tuple[int, int], ...] = field(default=CROP_SHAPES)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("data", "work_dir", "val", "init"):
            d[key] = None if d[key] is None else str(d[key])
        d["crop_shapes"] = [list(s) for s in self.crop_shapes]
        return d


@dataclass(frozen=True)
class OnlineProgress:
    step: int
    total: int
    loss: float
    images_per_s: float
    lr: float
    val_loss: float = math.nan


def random_crops(bank: ImageBank, index: torch.Tensor, shape: tuple[int, int], min_scale: float,
                 generator: torch.Generator) -> torch.Tensor:
    """Crops of the images ``index`` at one (h, w), random position and scale, half flipped: (B,3,h,w) in [0,1]."""
    device = bank.pixels.device
    n = index.shape[0]
    sizes = bank.sizes[index].float()  # (n, 2) h, w
    h, w = shape
    aspect = w / h
    # the largest box of this aspect inside the image, times a random scale
    full_h = torch.minimum(sizes[:, 0], sizes[:, 1] / aspect)
    scale = min_scale + (1 - min_scale) * torch.rand(n, generator=generator).to(device)
    box_h = full_h * scale
    box_w = box_h * aspect
    y0 = (sizes[:, 0] - box_h) * torch.rand(n, generator=generator).to(device)
    x0 = (sizes[:, 1] - box_w) * torch.rand(n, generator=generator).to(device)
    boxes = torch.stack([torch.arange(n, device=device, dtype=torch.float32), x0, y0, x0 + box_w, y0 + box_h], 1)
    images = bank.pixels[index].float() / 255
    # sampling_ratio 2 averages a few samples per output pixel: roughly area downsampling
    crops = roi_align(images, boxes, output_size=shape, spatial_scale=1.0, sampling_ratio=2, aligned=True)
    flip = torch.rand(n, generator=generator).to(device) < 0.5
    crops[flip] = crops[flip].flip(-1)
    return crops.clamp(0, 1)


def film_batch(rgb: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour crops to the network's input from simulated film, (B,1,h,w) as (L-50)/100,
    and the truth's ab at stride 4 (B,2,h/4,w/4)."""
    stocks, look = sample_looks(rgb.shape[0], generator, rgb.device)
    grey = apply_look(film_grey(rgb, stocks), look, generator)
    l_film = rgb_to_lab(grey.expand(-1, 3, -1, -1).contiguous())[:, :1]
    ab = F.avg_pool2d(rgb_to_lab(rgb)[:, 1:], 4)
    return (l_film - 50) / 100, ab


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def trainable_state(model: Lite, blocks: int) -> dict[str, torch.Tensor]:
    """What a run changes: the decoder, and the encoder's last ``blocks`` blocks, under prefixed keys."""
    state = {f"decoder.{k}": v for k, v in model.decoder.state_dict().items()}
    if blocks:
        first = len(model.encoder.blocks) - blocks
        for k, v in model.encoder.state_dict().items():
            if k.startswith("blocks.") and int(k.split(".")[1]) >= first:
                state[f"encoder.{k}"] = v
    return state


class Trainer:
    """Holds the model, data and optimiser of one run; ``run`` trains until steps or time run out."""

    def __init__(self, config: OnlineConfig) -> None:
        self.config = config
        config.work_dir.mkdir(parents=True, exist_ok=True)
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        self.model = Lite(encoder_state=load_encoder_state(name=config.encoder), encoder=config.encoder).to(self.device)
        if config.init is not None:
            init = torch.load(config.init, map_location=self.device, weights_only=True)
            # a weights file as shipped, or a run's best/last checkpoint holding one
            self.model.load_weights(init.get("weights", init))
            # a shipped file carries its prior correction; training works on the uncorrected logits
            self.model.decoder.prior_correction.zero_()
        self.model.encoder.requires_grad_(False)
        blocks = config.train_encoder_blocks
        encoder_params = []
        if blocks:
            for block in self.model.encoder.blocks[len(self.model.encoder.blocks) - blocks :]:
                block.requires_grad_(True)
                encoder_params += list(block.parameters())
        if self.device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        groups = [{"params": list(self.model.decoder.parameters()), "lr": config.lr}]
        if encoder_params:
            groups.append({"params": encoder_params, "lr": config.lr * config.encoder_lr_scale})
        self.optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
        self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]
        self.bank = ImageBank.load(config.data, short_side=config.short_side, max_images=config.max_images).to(self.device)
        self.val = None
        if config.val is not None:
            self.val = ImageBank.load(config.val, short_side=config.short_side, max_images=config.val_images).to(self.device)
        self.checkpoint = config.work_dir / CHECKPOINT_NAME
        self.step, self.total = 0, config.steps
        self.prior: torch.Tensor | None = None
        self.history: list[dict[str, float]] = []
        if self.checkpoint.is_file():
            state = torch.load(self.checkpoint, map_location=self.device, weights_only=True)
            self.model.load_weights(state["weights"])
            self.optimizer.load_state_dict(state["optimizer"])
            # a resumed run keeps its planned length unless this config names another
            self.step, self.total, self.prior = state["step"], config.steps or state["total"], state["prior"]
            self.history = list(state.get("history", []))
            log.info("resumed from %s at step %d of %d", self.checkpoint, self.step, self.total)
        self.autocast = self.device.type == "cuda"
        self.freeze_batchnorm = config.init is not None if config.freeze_batchnorm is None else config.freeze_batchnorm

    def _train_mode(self) -> None:
        self.model.train()
        if self.freeze_batchnorm:
            for module in self.model.decoder.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.eval()

    def _generator(self, step: int) -> torch.Generator:
        # one seed per step: a resumed run draws the same crops and looks it would have drawn
        return torch.Generator().manual_seed(self.config.seed * 1_000_003 + step)

    def _batch(self, bank: ImageBank, step: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = self._generator(step)
        index = torch.randint(0, len(bank), (n,), generator=g).to(self.device)
        shape = self.config.crop_shapes[int(torch.randint(0, len(self.config.crop_shapes), (1,), generator=g))]
        return film_batch(random_crops(bank, index, shape, self.config.min_crop_scale, g), g)

    def _estimate_prior(self) -> torch.Tensor:
        counts = torch.zeros(313, dtype=torch.float64)
        for i in range(self.config.prior_batches):
            _, ab = self._batch(self.bank, -1 - i, self.config.batch_size)
            index, _ = sparse_soft_encode(ab, neighbours=1)
            counts += bin_counts(index[:, 0].cpu())
        return smooth_prior(counts, self.config.prior_sigma).float()

    def _loss(self, l_norm: torch.Tensor, ab: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            l_norm = l_norm.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            logits = self.model(l_norm)
        index, weight = sparse_soft_encode(ab)
        return rebalanced_cross_entropy(logits, index, weight, weights)

    @torch.no_grad()
    def validate(self, batches: int = 8) -> float:
        """Mean plain (not rebalanced) cross-entropy on fixed crops and looks of the val images."""
        if self.val is None:
            return math.nan
        self.model.eval()
        ones = torch.ones(313, device=self.device)
        losses = [float(self._loss(*self._batch(self.val, 10_000_000 + i, 64), ones)) for i in range(batches)]
        self._train_mode()
        return sum(losses) / len(losses)

    def save(self) -> None:
        weights = trainable_state(self.model, self.config.train_encoder_blocks)
        if self.config.keep_checkpoints:
            _save(self.config.work_dir / f"{KEPT_PREFIX}{self.step:07d}.pt",
                  {k: v.half() if v.is_floating_point() else v for k, v in weights.items()})
        _save(self.checkpoint, {
            "weights": weights,
            "optimizer": self.optimizer.state_dict(), "step": self.step, "total": self.total,
            "prior": self.prior, "config": self.config.to_dict(), "history": self.history,
        })

    def class_weights(self) -> torch.Tensor:
        """The class-rebalancing weights of the run's bin prior (estimated on first use, then kept in checkpoints)."""
        if self.prior is None:
            self.prior = self._estimate_prior()
        return rebalance_weights(self.prior, self.config.rebalance_lambda).to(self.device)

    def train_step(self, class_weights: torch.Tensor) -> float:
        """One optimiser step on the step's own batch (at the learning rates already set); its loss."""
        loss = self._loss(*self._batch(self.bank, self.step, self.config.batch_size), class_weights)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return float(loss.detach())

    def run(self, progress: Callable[[OnlineProgress], None] | None = None, log_every: int = 100) -> Path:
        config = self.config
        class_weights = self.class_weights()
        self._train_mode()
        start = window = time.perf_counter()
        loss_sum, loss_n = 0.0, 0
        if self.total == 0 and not config.time_limit_s:
            raise ValueError("steps=0 needs a time limit to plan the run from")
        # the rate is timed after the first steps, which pay for autotuning and allocation
        timing_from, timing_steps, timing_start = self.step + 20, 60, 0.0
        best_val = math.inf
        while self.total == 0 or self.step < self.total:
            if self.total == 0 and self.step == timing_from:
                timing_start = time.perf_counter()
            if self.total == 0 and self.step == timing_from + timing_steps:
                rate = timing_steps / (time.perf_counter() - timing_start)
                self.total = self.step + int(rate * (config.time_limit_s - (time.perf_counter() - start)) * 0.95)
                log.info("%.1f steps/s: planning %d steps", rate, self.total)
            factor = _lr_factor(self.step, self.total or 10**9, config.warmup_steps)
            for group, base in zip(self.optimizer.param_groups, self.base_lrs):
                group["lr"] = base * factor
            loss_sum, loss_n = loss_sum + self.train_step(class_weights), loss_n + 1
            val_loss = math.nan
            if self.val is not None and (self.step % config.val_every == 0 or self.step == self.total):
                val_loss = self.validate()
                if val_loss < best_val:
                    # the weights with the lowest validation loss so far, for when a long run overfits
                    best_val = val_loss
                    state = trainable_state(self.model, config.train_encoder_blocks)
                    _save(config.work_dir / BEST_NAME, {
                        # half precision, as shipped: small enough to bring back from a lent machine
                        "weights": {k: v.half() if v.is_floating_point() else v for k, v in state.items()},
                        "step": self.step,
                        "prior": self.prior, "config": config.to_dict(), "val_loss": val_loss,
                    })
            if self.step % log_every == 0 or self.step == self.total or not math.isnan(val_loss):
                now = time.perf_counter()
                record = {"step": self.step, "loss": loss_sum / loss_n, "val_loss": val_loss,
                          "images_per_s": loss_n * config.batch_size / (now - window)}
                self.history.append(record)
                log.info("step %d/%d loss %.4f val %.4f %.0f images/s", self.step, self.total, record["loss"],
                         val_loss, record["images_per_s"])
                if progress is not None:
                    progress(OnlineProgress(self.step, self.total, record["loss"], record["images_per_s"],
                                            self.optimizer.param_groups[0]["lr"], val_loss))
                window, loss_sum, loss_n = now, 0.0, 0
            if self.step % config.checkpoint_every == 0:
                self.save()
            if config.time_limit_s and time.perf_counter() - start > config.time_limit_s:
                log.info("time limit reached at step %d", self.step)
                break
        self.save()
        return self.checkpoint


def export_online(checkpoint: Path, out: Path, *, prior_correction: float = 0.0, half: bool = True,
                  average_last: int = 0) -> tuple[str, int]:
    """An online checkpoint to a lite weights file (prefixed decoder and encoder keys); returns (sha256, size).

    ``average_last`` > 0: the weights are the mean of the last that many checkpoints kept beside
    ``checkpoint`` (``keep_checkpoints``); the prior is the checkpoint's.
    """
    from vidcolor.models.weights_cache import sha256_of

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    encoder = state["config"].get("encoder", DEFAULT_ENCODER)
    if encoder != DEFAULT_ENCODER:
        raise UsageError(f"{checkpoint} was trained with {encoder}; a lite weights file holds an "
                         f"{DEFAULT_ENCODER} model, and no shipped model takes another encoder yet")
    weights = dict(state["weights"])
    if average_last > 0:
        kept = sorted(checkpoint.parent.glob(f"{KEPT_PREFIX}*.pt"))[-average_last:]
        if not kept:
            raise UsageError(f"no kept checkpoints ({KEPT_PREFIX}*.pt) in {checkpoint.parent}: train with keep_checkpoints")
        states = [torch.load(p, map_location="cpu", weights_only=True) for p in kept]
        for key, value in weights.items():
            if value.is_floating_point():
                weights[key] = sum(s[key].float() for s in states) / len(states)
        log.info("exporting the mean of %d checkpoints: %s", len(kept), ", ".join(p.name for p in kept))
    lam = state["config"]["rebalance_lambda"]
    weights["decoder.prior_correction"] = prior_correction * rebalance_weights(state["prior"], lam).log()
    if half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    _save(out, weights)
    return sha256_of(out), out.stat().st_size
