"""Build the period colour photographs for the archival benchmark (issue 11): 77 scenes by
Sergei Prokudin-Gorsky, 1905-1915 (public domain, Library of Congress), from the glass-plate
scans and aligned results that computer-vision course repositories carry.

The other photo sets are modern: their dark clothes are as often red or blue as black, so a
model that paints a dark coat maroon is not wrong there. These pictures show what people,
buildings and landscapes of the silent-film era looked like, with their own colour: coats of
navy and black wool, painted wood, period dress. They are scored like any photo folder:

    python benchmarks/archival.py ... --photos /work/data/period_photos

Caveats, visible in the scores: each colour is three exposures taken in turn (moving water and
leaves shimmer), the plates carry colour casts (shadows are rarely neutral), and five results
(entrance, forest, man, shop, settlers) were colour-edited by the students who made them.

Sources: benchmarks/period_photos.tsv (repository, commit, path). Fetch each repository first
(the `fetch` tool or `git clone`), into --mirrors as owner+name/repo[/.git]. A ``plate`` is a
raw scan, blue, green and red thirds from top to bottom; it is aligned here (red and blue onto
green, integer shifts, normalised cross-correlation of gradient magnitude, coarse to fine) and
12 % of each side is cut, where plate edges and fringes are. A ``colour`` row is a student's
aligned result: its channels are re-registered the same way (three were off by 7-13 px) and
5 % is cut. Both then lose the row's own ``crop`` (fractions top, bottom, left, right) and are
shrunk to a long side of 800 (area).

    OMP_NUM_THREADS=1 python benchmarks/period_photos.py --mirrors /work/.mirror --out /work/data/period_photos
"""

from __future__ import annotations

import argparse
import csv
import subprocess
from pathlib import Path

import cv2
import numpy as np

MANIFEST = Path(__file__).with_name("period_photos.tsv")
LONG_SIDE = 800


def _gradient(x: np.ndarray) -> np.ndarray:
    # the three exposures differ in brightness per colour; their edges do not
    x = cv2.GaussianBlur(x, (0, 0), 1.0)
    return np.hypot(cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3))


def _best_shift(ref: np.ndarray, mov: np.ndarray, cy: int, cx: int, radius: int) -> tuple[int, int]:
    h, w = ref.shape
    m = int(0.1 * min(h, w)) + radius + max(abs(cy), abs(cx))
    r = ref[m:h - m, m:w - m]
    r = (r - r.mean()) / (r.std() + 1e-6)
    best = (-np.inf, 0, 0)
    for dy in range(cy - radius, cy + radius + 1):
        for dx in range(cx - radius, cx + radius + 1):
            c = mov[m - dy:h - m - dy, m - dx:w - m - dx]
            score = float((r * (c - c.mean())).mean() / (c.std() + 1e-6))
            if score > best[0]:
                best = (score, dy, dx)
    return best[1], best[2]


def align(ref: np.ndarray, mov: np.ndarray, radius: int = 20) -> tuple[int, int]:
    """Integer (dy, dx) that puts ``mov`` onto ``ref`` (np.roll convention), coarse to fine."""
    levels = [(ref, mov)]
    while max(levels[-1][0].shape) > 400:
        levels.append((cv2.pyrDown(levels[-1][0]), cv2.pyrDown(levels[-1][1])))
    dy, dx = _best_shift(_gradient(levels[-1][0]), _gradient(levels[-1][1]), 0, 0, radius)
    for r, m in reversed(levels[:-1]):
        dy, dx = _best_shift(_gradient(r), _gradient(m), 2 * dy, 2 * dx, 2)
    return dy, dx


def _cut(img: np.ndarray, fractions: list[float]) -> np.ndarray:
    h, w = img.shape[:2]
    t, b, l, r = fractions
    return img[int(t * h):h - int(b * h), int(l * w):w - int(r * w)]


def compose(blue: np.ndarray, green: np.ndarray, red: np.ndarray, radius: int, margin: float) -> np.ndarray:
    """Float RGB in [0, 1]: blue and red shifted onto green, cut to the overlap and ``margin``."""
    (by, bx), (ry, rx) = align(green, blue, radius), align(green, red, radius)
    h, w = green.shape
    rgb = np.dstack([np.roll(red, (ry, rx), (0, 1)), green, np.roll(blue, (by, bx), (0, 1))])
    top, bottom = max(0, by, ry, int(margin * h)), min(h + min(0, by, ry), h - int(margin * h))
    left, right = max(0, bx, rx, int(margin * w)), min(w + min(0, bx, rx), w - int(margin * w))
    return rgb[top:bottom, left:right]


def build_one(img: np.ndarray, kind: str, source_crop: list[float], crop: list[float]) -> np.ndarray:
    """(H, W, 3) BGR uint8 as read from the repository to the finished RGB uint8 picture."""
    img = _cut(img, source_crop)
    if kind == "plate":
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255
        third = grey.shape[0] // 3
        rgb = compose(grey[:third], grey[third:2 * third], grey[2 * third:3 * third], radius=20, margin=0.12)
    elif kind == "colour":
        f = img.astype(np.float32) / 255
        rgb = compose(f[..., 0].copy(), f[..., 1].copy(), f[..., 2].copy(), radius=12, margin=0.05)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    rgb = (np.clip(_cut(rgb, crop), 0, 1) * 255 + 0.5).astype(np.uint8)
    scale = min(1.0, LONG_SIDE / max(rgb.shape[:2]))
    if scale < 1:
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    return rgb


def read_blob(mirrors: Path, repo: str, commit: str, path: str) -> np.ndarray:
    root = mirrors / repo.replace("/", "+") / "repo"
    git_dir = root / ".git" if (root / ".git").is_dir() else root
    data = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
                          check=True, capture_output=True).stdout
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{repo}@{commit[:8]}:{path} does not decode as an image")
    return img


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="fetched repositories, owner+name/repo")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    with MANIFEST.open() as fh:
        rows = list(csv.reader((line for line in fh if not line.startswith("#")), delimiter="\t"))
    missing = sorted({repo for _, _, repo, *_ in rows if not (args.mirrors / repo.replace("/", "+")).is_dir()})
    if missing:
        raise SystemExit(f"fetch these repositories into {args.mirrors} first: {', '.join(missing)}")
    for name, kind, repo, commit, path, source_crop, crop in rows:
        img = read_blob(args.mirrors, repo, commit, path)
        rgb = build_one(img, kind, [float(x) for x in source_crop.split(",")], [float(x) for x in crop.split(",")])
        cv2.imwrite(str(args.out / f"{name}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        print(f"{name}: {rgb.shape[1]}x{rgb.shape[0]}", flush=True)


if __name__ == "__main__":
    main()
