"""What the network believes where it paints Chaplin's coats maroon (issue 11): the mean bin
distribution over a box of one frame, as the product renders it (render plan, decoding),
split into neutral (|ab| < 12), warm (hue -30 to 70 degrees: tan, brown, maroon) and blue
(hue beyond -90 or 150 degrees) mass, with the certainty and the decoded ab.

    python benchmarks/coat_probe.py                      # lite.v4, frame 101, both coats
    python benchmarks/coat_probe.py --weights OTHER.pt   # another lite file
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from vidcolor.color.bins import ab_bins
from vidcolor.color.decoding import certainty, probabilities
from vidcolor.engines import open_engine
from vidcolor.media.seek import rgb_frames_at
from vidcolor.models.loading import load_model
from vidcolor.pipeline import ColorizeOptions
from vidcolor.pipeline.image import grey_l
from vidcolor.pipeline.predict import network_input, render_plan

from archival import SHARED  # noqa: E402  (sibling benchmark script)

# (x0, x1, y0, y1) as fractions of the 640x360 frame, at frame 101 (4.04 s)
BOXES = {"policeman's coat": (0.19, 0.27, 0.45, 0.62), "tramp's coat": (0.47, 0.55, 0.45, 0.62),
         "pavement": (0.2, 0.45, 0.82, 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--frame", type=int, default=101)
    args = parser.parse_args()
    torch.set_num_threads(1)
    film = SHARED / "media" / "bw" / "moviepy_chaplin.mp4"
    (_, rgb), = rgb_frames_at(film, [args.frame / 25])  # 25 fps
    loaded = load_model("lite", weights_path=args.weights)
    engine = open_engine(loaded, device="cpu", max_batch=1)
    l_full = grey_l(rgb)
    plan = render_plan(loaded, engine, ColorizeOptions(), *l_full.shape[-2:])
    with torch.inference_mode():
        probs = probabilities(engine(network_input(l_full, plan.shape)))
    ab, sure, l_low = plan.decoding(probs), certainty(probs), network_input(l_full, probs.shape[-2:]) * 100 + 50
    bins = ab_bins()
    hue, chroma = torch.atan2(bins[:, 1], bins[:, 0]) * 180 / math.pi, bins.norm(dim=1)
    groups = {"neutral": chroma < 12, "warm": (chroma >= 12) & (hue > -30) & (hue < 70),
              "blue": (chroma >= 12) & ((hue < -90) | (hue > 150))}
    h, w = probs.shape[-2:]
    for name, (x0, x1, y0, y1) in BOXES.items():
        box = (slice(int(y0 * h), int(y1 * h)), slice(int(x0 * w), int(x1 * w)))
        p = probs[0][(slice(None), *box)].mean((1, 2))
        a = ab[0][(slice(None), *box)].mean((1, 2))
        mass = ", ".join(f"{g} {float(p[m].sum()):.2f}" for g, m in groups.items())
        print(f"{name}: L* {float(l_low[0, 0][box].mean()):.1f}, certainty {float(sure[0, 0][box].mean()):.3f}, "
              f"decoded ab ({float(a[0]):.1f}, {float(a[1]):.1f}); mass {mass}")


if __name__ == "__main__":
    main()
