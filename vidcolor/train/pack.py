"""Training photographs as one compact file, and in memory as one padded uint8 tensor.

A pack holds every image re-encoded (WebP) at a fixed short side: small enough to carry
to a lent GPU machine, and decoded once into memory there, so crops are cut on the GPU
instead of by a CPU data loader.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vidcolor.errors import UsageError
from vidcolor.train.data import list_images, read_rgb

log = logging.getLogger(__name__)

# wider pictures are centre-cropped to this aspect: a frame wider than 2:1 is rare in film
MAX_ASPECT = 2.0


def _resize_short(rgb: np.ndarray, short_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = short_side / min(h, w)
    size = (max(short_side, round(w * scale)), max(short_side, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out = cv2.resize(rgb, size, interpolation=interp)
    h, w = out.shape[:2]
    long_max = int(short_side * MAX_ASPECT)
    if w > long_max:
        x = (w - long_max) // 2
        out = out[:, x : x + long_max]
    if h > long_max:
        y = (h - long_max) // 2
        out = out[y : y + long_max]
    return np.ascontiguousarray(out)


def write_pack(folder: Path, out: Path, *, short_side: int = 112, quality: int = 70, max_bytes: int = 0,
               max_images: int = 0) -> int:
    """Re-encode the images under ``folder`` into ``out`` (.npz); returns how many it holds.

    With ``max_bytes`` the pack keeps an evenly spaced subset (every subfolder sampled) that fits.
    """
    paths = list_images(folder, max_images)
    blobs: list[bytes] = []
    for path in paths:
        bgr = cv2.cvtColor(_resize_short(read_rgb(path), short_side), cv2.COLOR_RGB2BGR)
        ok, enc = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, quality])
        if not ok:
            raise UsageError(f"cannot encode {path} as WebP")
        blobs.append(enc.tobytes())
    if max_bytes and sum(map(len, blobs)) > max_bytes:
        mean = sum(map(len, blobs)) / len(blobs)
        keep = int(max_bytes / mean * 0.98)
        step = len(blobs) / keep
        blobs = [blobs[int(i * step)] for i in range(keep)]
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, blob=np.frombuffer(b"".join(blobs), np.uint8), offsets=offsets, short_side=short_side)
    return len(blobs)


@dataclass
class ImageBank:
    """Images of one short side, padded into ``pixels`` (N, 3, S, L) uint8, ``sizes`` (N, 2) = (h, w)."""

    pixels: torch.Tensor
    sizes: torch.Tensor

    def __len__(self) -> int:
        return self.pixels.shape[0]

    def to(self, device: torch.device) -> ImageBank:
        return ImageBank(self.pixels.to(device), self.sizes.to(device))

    @classmethod
    def from_arrays(cls, images: list[np.ndarray]) -> ImageBank:
        h = max(im.shape[0] for im in images)
        w = max(im.shape[1] for im in images)
        pixels = torch.zeros(len(images), 3, h, w, dtype=torch.uint8)
        for i, im in enumerate(images):
            pixels[i, :, : im.shape[0], : im.shape[1]] = torch.from_numpy(im).permute(2, 0, 1)
        sizes = torch.tensor([im.shape[:2] for im in images], dtype=torch.int64)
        return cls(pixels, sizes)

    @classmethod
    def load(cls, source: Path, *, short_side: int = 112, max_images: int = 0, threads: int = 8) -> ImageBank:
        """From a pack file (.npz), a folder of packs (every ``*.npz`` in it: a training set grown
        shard by shard, each shard small enough to carry), or a folder of images (resized to ``short_side``)."""
        packs = [source] if source.suffix == ".npz" else sorted(source.glob("*.npz")) if source.is_dir() else []
        if packs:
            images: list[np.ndarray] = []
            for pack in packs:
                images += _unpack(pack, max_images - len(images) if max_images else 0, threads)
                if max_images and len(images) >= max_images:
                    break
        else:
            images = [_resize_short(read_rgb(p), short_side) for p in list_images(source, max_images)]
        log.info("loaded %d images from %s", len(images), source)
        return cls.from_arrays(images)


def _unpack(pack: Path, max_images: int, threads: int) -> list[np.ndarray]:
    """The RGB images of one pack (the first ``max_images``; 0: all)."""
    data = np.load(pack)
    blob, offsets = data["blob"], data["offsets"]

    def decode(i: int) -> np.ndarray:
        bgr = cv2.imdecode(blob[offsets[i] : offsets[i + 1]], cv2.IMREAD_COLOR)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    count = len(offsets) - 1
    if 0 < max_images < count:
        count = max_images
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(decode, range(count)))
