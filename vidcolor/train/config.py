"""Training configuration for the ``lite`` decoder."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; saved in every checkpoint.

    Attributes:
        data: folder of colour images (searched recursively).
        work_dir: checkpoints and the feature cache go here; a run with the same
            work_dir resumes from its last checkpoint.
        crop_size: side of the square training crops (multiple of 32).
        crops_per_image: random crops (random scale, position and flip) taken per image.
        min_crop_scale: smallest crop side as a fraction of the image's short side.
        batch_size: crops per optimiser step.
        steps: optimiser steps in the whole run (the cosine schedule spans them).
        lr: peak learning rate of AdamW.
        weight_decay: AdamW weight decay.
        warmup_steps: linear learning-rate warm-up.
        rebalance_lambda: mix of the bin prior with uniform (Zhang et al. 2016 use 0.5).
        prior_sigma: Gaussian smoothing of the bin prior in ab units.
        decoder_widths: channel widths of the decoder's three up-blocks.
        seed: seeds crops, initialisation and batch order.
        checkpoint_every: steps between checkpoints.
        time_limit_s: stop (with a checkpoint) after this many seconds of training; 0 means no limit.
        max_images: use at most this many images (0: all); for smoke runs and tests.
        device: ``auto``, ``cpu`` or ``cuda[:N]``; CUDA trains with mixed precision.
        feature_batch: crops per encoder forward while precomputing features.
    """

    data: Path
    work_dir: Path
    crop_size: int = 128
    crops_per_image: int = 2
    min_crop_scale: float = 0.5
    batch_size: int = 32
    steps: int = 5000
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    rebalance_lambda: float = 0.5
    prior_sigma: float = 5.0
    decoder_widths: tuple[int, int, int] = (128, 96, 64)
    seed: int = 0
    checkpoint_every: int = 500
    time_limit_s: float = 0.0
    max_images: int = 0
    device: str = "auto"
    feature_batch: int = 64

    def __post_init__(self) -> None:
        if self.crop_size % 32 or self.crop_size < 32:
            raise ValueError(f"crop_size must be a positive multiple of 32, got {self.crop_size}")
        if not 0 < self.min_crop_scale <= 1:
            raise ValueError(f"min_crop_scale must be in (0, 1], got {self.min_crop_scale}")
        if not 0 <= self.rebalance_lambda <= 1:
            raise ValueError(f"rebalance_lambda must be in [0, 1], got {self.rebalance_lambda}")
        for name in ("crops_per_image", "batch_size", "steps", "checkpoint_every", "feature_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data"], d["work_dir"] = str(self.data), str(self.work_dir)
        d["decoder_widths"] = list(self.decoder_widths)
        return d

    def data_key(self) -> dict[str, Any]:
        """The fields that decide the precomputed features; a cache with another key is rebuilt."""
        keys = ("data", "crop_size", "crops_per_image", "min_crop_scale", "seed", "max_images")
        return {k: self.to_dict()[k] for k in keys}
