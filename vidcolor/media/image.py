"""Still images in and out (OpenCV), for `vidcolor run photo.jpg -o photo_color.png`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidcolor.errors import MediaError, UsageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB; a grey file gives three equal channels."""
    if not path.is_file():
        raise MediaError(f"{path} does not exist")
    data = np.fromfile(path, dtype=np.uint8)  # imread cannot open some unicode paths
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise MediaError(f"cannot read {path} as an image; is it a complete JPEG/PNG/TIFF file?")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_rgb(path: Path, rgb: np.ndarray) -> None:
    """Encode to the format of ``path``'s suffix and write it (the caller handles atomicity)."""
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise UsageError(f"cannot write an image as {path.name!r}; use one of {', '.join(IMAGE_SUFFIXES)}")
    ok, encoded = cv2.imencode(suffix if suffix != ".jpeg" else ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise MediaError(f"OpenCV could not encode {path.name}")
    encoded.tofile(path)
