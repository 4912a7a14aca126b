"""Choose a model's decoding by the archival score (issue 11): prior correction, temperature,
confidence gate and render size, on simulated film and photographs.

The network runs once per picture and render size; every decoding setting is then scored on
the stored distributions (no smoother, no encoder), so a grid of settings costs seconds, not a
pipeline run each. The choice is confirmed by benchmarks/archival.py, which runs the real
pipeline. Rule: among the settings with a wrong-vivid share under --max-wrong-vivid (films and
photos alike) and colourfulness at least --min-colour of the truth's, the lowest ab error on
films plus photos; when none qualifies, the lowest penalised score.

    python benchmarks/archival_tune.py --weights /tmp/lite_a0.pt --meta aspect \\
        --photos ../shared/datasets/val --out /tmp/tune.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from vidcolor.color.decoding import Decoding
from vidcolor.color.lab import lab_to_rgb
from vidcolor.engines import open_engine
from vidcolor.evaluate.archival import SCORE_SIDE, Scores, film_clip
from vidcolor.models.loading import load_model
from vidcolor.pipeline import ColorizeOptions
from vidcolor.pipeline.image import grey_l
from vidcolor.pipeline.predict import predict_probs, render_plan
from vidcolor.train.data import list_images

from archival import SHARED, _photo_film, register_candidate  # noqa: E402  (sibling benchmark script)


def _score_size(h: int, w: int) -> tuple[int, int]:
    scale = min(1.0, SCORE_SIDE / max(h, w))
    return round(h * scale), round(w * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lite")
    parser.add_argument("--weights", type=Path, default=None, help="exported with prior correction 0")
    parser.add_argument("--meta", choices=["aspect", "square"], default=None)
    parser.add_argument("--prior", type=Path, default=None, help="training checkpoint holding the prior (for alphas)")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.0])
    parser.add_argument("--alpha-base", type=float, default=None,
                        help="the weights already carry this prior correction: take log w from them, and --alphas are totals")
    parser.add_argument("--gains", type=float, nargs="+", default=[1.0], help="ab multiplied by this after the gate")
    parser.add_argument("--dark-knees", type=float, nargs="+", default=[0.0],
                        help="L* below which ab fades linearly to 0 at black (0: off)")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.38, 0.5, 0.7, 1.0])
    parser.add_argument("--gates", nargs="+", default=["0:0", "0.1:0.3", "0.2:0.3", "0.3:0.3"])
    parser.add_argument("--render", type=int, nargs="+", default=[224])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--every", type=int, default=4, help="score every Nth film frame")
    parser.add_argument("--stocks", nargs="+", default=["ortho", "pan"])
    parser.add_argument("--photos", type=Path, default=SHARED / "datasets" / "val")
    parser.add_argument("--max-photos", type=int, default=120)
    parser.add_argument("--max-wrong-vivid", type=float, default=7.0)
    parser.add_argument("--min-colour", type=float, default=0.6)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)

    model, weights = register_candidate("tuning", args.model, args.weights, args.meta)
    loaded = load_model(model, weights_path=weights)
    engine = open_engine(loaded, device="cpu", max_batch=8)
    log_w = None
    if args.prior is not None:
        from vidcolor.train.rebalance import rebalance_weights

        state = torch.load(args.prior, map_location="cpu", weights_only=True)
        log_w = rebalance_weights(state["prior"], state["config"]["rebalance_lambda"]).log().view(1, -1, 1, 1)
    elif args.alpha_base:
        if args.weights is None:
            parser.error("--alpha-base reads log w from the weights file: name it with --weights")
        state = torch.load(args.weights, map_location="cpu", weights_only=True)
        log_w = (state["decoder.prior_correction"].float() / args.alpha_base).view(1, -1, 1, 1)

    # pictures: (set, L at scoring size, truth RGB at scoring size)
    pictures: list[tuple[str, np.ndarray, np.ndarray]] = []
    for ci, path in enumerate(sorted((SHARED / "media" / "color").glob("*.mp4"))):
        for si, stock in enumerate(args.stocks):
            clip = film_clip(path, stock, args.frames, seed=ci * 10 + si)
            for i in range(0, len(clip.truth), args.every):
                pictures.append(("films", clip.grey[i], clip.truth[i]))
    for i, path in enumerate(list_images(args.photos, args.max_photos)):
        truth, grey = _photo_film(path, i)
        pictures.append(("photos", grey, truth))

    results = []
    for render in args.render:
        options = ColorizeOptions(render_size=render)
        stored = []
        with torch.inference_mode():
            for kind, grey, truth in pictures:
                l_full = grey_l(np.repeat(grey[..., None], 3, -1))
                plan = render_plan(loaded, engine, options, *grey.shape)
                probs, _ = predict_probs(engine, l_full, plan.shape)
                size = _score_size(*grey.shape)
                l_small = F.interpolate(l_full, size=size, mode="area")
                truth_small = F.interpolate(torch.from_numpy(truth).permute(2, 0, 1)[None].float(), size=size, mode="area")
                stored.append((kind, probs.half(), l_small, truth_small[0].permute(1, 2, 0).round().byte().numpy()))
        for alpha, t, gate, gain, knee in itertools.product(args.alphas, args.temperatures, args.gates, args.gains, args.dark_knees):
            floor, span = (float(x) for x in gate.split(":"))
            decoding = Decoding(t, floor, span, gain=gain, dark_knee=knee)
            scores = {"films": Scores(), "photos": Scores()}
            for kind, probs, l_small, truth in stored:
                p = probs.float()
                if log_w is not None and alpha != (args.alpha_base or 0):
                    p = p * torch.exp(-(alpha - (args.alpha_base or 0)) * log_w)
                    p = p / p.sum(1, keepdim=True)
                ab = F.interpolate(decoding(p), size=l_small.shape[-2:], mode="bilinear", align_corners=False)
                ab = decoding.by_lightness(ab, l_small)
                rgb = lab_to_rgb(torch.cat([l_small, ab], 1))[0].permute(1, 2, 0)
                scores[kind].add((rgb * 255).round().byte().numpy(), truth, ciede=False)
            summary = {k: s.summary() for k, s in scores.items()}
            results.append({"render": render, "alpha": alpha, "temperature": t, "gate": [floor, span], "gain": gain,
                            "dark_knee": knee, **summary})
            f, ph = summary["films"], summary["photos"]
            print(f"render {render} alpha {alpha:g} T {t:g} gate {gate} gain {gain:g} knee {knee:g}: films ab {f['ab_error']:.2f} wv {f['wrong_vivid_pct']:.1f} "
                  f"col {f['colourfulness_ratio']:.2f} | photos ab {ph['ab_error']:.2f} wv {ph['wrong_vivid_pct']:.1f} "
                  f"col {ph['colourfulness_ratio']:.2f}", flush=True)
    grey = {"films": Scores(), "photos": Scores()}
    for kind, _, l_small, truth in stored:
        g = (lab_to_rgb(torch.cat([l_small, torch.zeros(1, 2, *l_small.shape[-2:])], 1))[0].permute(1, 2, 0) * 255).round().byte().numpy()
        grey[kind].add(g, truth, ciede=False)
    baseline = {k: s.summary() for k, s in grey.items()}

    def penalty(r: dict) -> float:
        over = sum(max(0.0, r[k]["wrong_vivid_pct"] - args.max_wrong_vivid) + 10 * max(0.0, args.min_colour - r[k]["colourfulness_ratio"])
                   for k in ("films", "photos"))
        return over

    ok = [r for r in results if penalty(r) == 0]
    best = min(ok or results, key=lambda r: (penalty(r), r["films"]["ab_error"] + r["photos"]["ab_error"]))
    print(f"grayscale: films ab {baseline['films']['ab_error']:.2f} photos ab {baseline['photos']['ab_error']:.2f}")
    print(f"chosen ({'within bounds' if ok else 'none within bounds, least penalty'}): {json.dumps({k: best[k] for k in ('render', 'alpha', 'temperature', 'gate', 'gain', 'dark_knee')})}")
    args.out.write_text(json.dumps({"grayscale": baseline, "results": results, "best": best}, indent=2) + "\n")


if __name__ == "__main__":
    main()
