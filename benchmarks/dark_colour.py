"""What colour the dark pixels of colour photographs really are: the truth a network learns its
shadows from (issue 11, the maroon coats).

For each folder: over pixels with L* in [--low, --high) (CIELAB of the sRGB file), the mean ab,
the chroma's quartiles and 90th percentile, and the share near-neutral (chroma < 6). ``--rows
0.8:1`` keeps a horizontal band of each picture (e.g. the torso band of centred face photos).

    python benchmarks/dark_colour.py ../shared/datasets/train/* /work/data/people/lfw_c200
    python benchmarks/dark_colour.py /work/data/people/lfw_c200 --rows 0.8:1
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from vidcolor.train.data import list_images


def dark_ab(path: Path, low: float, high: float, rows: tuple[float, float]) -> np.ndarray:
    """(N, 2) ab of the picture's pixels with L* in [low, high) inside the row band."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return np.zeros((0, 2), np.float32)
    h = bgr.shape[0]
    lab = cv2.cvtColor(bgr[int(rows[0] * h):int(rows[1] * h)].astype(np.float32) / 255, cv2.COLOR_BGR2LAB)
    mask = (lab[..., 0] >= low) & (lab[..., 0] < high)
    return lab[..., 1:][mask]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--low", type=float, default=15.0)
    parser.add_argument("--high", type=float, default=40.0)
    parser.add_argument("--rows", default="0:1", help="band of each picture, fractions top:bottom")
    parser.add_argument("--max", type=int, default=300, help="pictures per folder, evenly spaced")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = tuple(float(x) for x in args.rows.split(":"))
    print(f"L* {args.low:g}-{args.high:g}, rows {args.rows}")
    print("| folder | pictures | dark pixels | mean ab | chroma p25 / p50 / p75 / p90 | neutral (chroma < 6) |")
    print("|---|---|---|---|---|---|")
    for folder in args.folders:
        paths = list_images(folder, args.max)
        ab = np.concatenate([dark_ab(p, args.low, args.high, rows) for p in paths])
        chroma = np.hypot(ab[:, 0], ab[:, 1])
        quartiles = " / ".join(f"{q:.1f}" for q in np.percentile(chroma, [25, 50, 75, 90]))
        print(f"| {folder.name} | {len(paths)} | {len(ab)} | ({ab[:, 0].mean():.1f}, {ab[:, 1].mean():.1f}) "
              f"| {quartiles} | {100 * (chroma < 6).mean():.0f} % |")


if __name__ == "__main__":
    main()
