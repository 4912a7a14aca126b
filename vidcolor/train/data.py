"""Colour images to training crops: random scale, position and flip, then Lab."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from vidcolor.color.lab import rgb_to_lab
from vidcolor.errors import UsageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def list_images(folder: Path, max_images: int = 0) -> list[Path]:
    """Image files under ``folder``, sorted so runs are reproducible; at most ``max_images`` (0: all),
    evenly spaced over the sorted list so a subset samples every subfolder."""
    if not folder.is_dir():
        raise UsageError(f"image folder {folder} does not exist")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
        raise UsageError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found under {folder}")
    if 0 < max_images < len(paths):
        step = len(paths) / max_images
        paths = [paths[int(i * step)] for i in range(max_images)]
    return paths


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise UsageError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def random_crop(rgb: np.ndarray, size: int, min_scale: float, rng: np.random.Generator) -> np.ndarray:
    """A random square crop (side a random fraction of the short side), resized to ``size``, maybe flipped."""
    h, w = rgb.shape[:2]
    side = max(1, int(round(min(h, w) * rng.uniform(min_scale, 1.0))))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    crop = rgb[y : y + side, x : x + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    crop = cv2.resize(crop, (size, size), interpolation=interp)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def crops_to_lab(crops: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 RGB crops to the network input (B,1,S,S), (L-50)/100, and ab at 1/4 resolution (B,2,S/4,S/4).

    The ab target is area-averaged to the logits' resolution, as the network
    predicts one distribution per 4x4 block.
    """
    rgb = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255
    lab = rgb_to_lab(rgb)
    l_norm = (lab[:, :1] - 50) / 100
    ab_low = F.avg_pool2d(lab[:, 1:], 4)
    return l_norm, ab_low
