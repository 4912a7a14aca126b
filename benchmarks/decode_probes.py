"""What decoding alone can still win for a model on simulated film (issue 11): a learned logit
offset, test-time flipping, and how reliable its reddish shadows are.

Pictures: the photographs of ../shared/datasets/train that lite.v3 never saw (its training pack
kept an evenly spaced 13,541 of the sorted 18,896; see vidcolor/train/pack.py), each made into
film as in training (vidcolor/film: a random stock from the training mix, or --stock, and a
random look), coloured at the product's render plan and scored at the network's resolution
(stride 4) against the photograph's own ab, with the model's shipped decoding (T, gate, knee).

1. Logit offset: the 313 values a lite file subtracts from its logits (its prior correction) are
   refitted, once for all pixels and once per band of L*, on every picture but each fifth, by
   the mean ab error of the shipped decoding (``err``) or by cross-entropy with the truth's bin
   (``nll``); the fifth pictures score the fit. A systematic tilt (too red in shadows, say)
   would show as a clear drop in their error.
2. Test-time flip: the distributions of the picture and of its mirror image, averaged.
3. Reddish shadows: where the decoding paints a reddish hue at L* 10-60, how often the truth is
   reddish too, and their mean ab side by side.

The figures in benchmarks/RESULTS.md are lite.v3's, whose file lite.v4 replaced (lite.v4 was
trained on all of train, so these pictures are not unseen for it):

    git show e419764:vidcolor/models/weights/lite_v3.pt > /tmp/lite_v3.pt
    python benchmarks/decode_probes.py --weights /tmp/lite_v3.pt --images 2500 --out /tmp/probes.json --threads 1
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch
from torch.nn import functional as F

from vidcolor.color.bins import ab_bins
from vidcolor.color.decoding import Decoding, probabilities
from vidcolor.color.lab import rgb_to_lab
from vidcolor.engines import open_engine
from vidcolor.evaluate.archival import HUE_OFF_DEG, NEUTRAL, VIVID
from vidcolor.film.look import sample_looks, apply_look
from vidcolor.film.stocks import STOCKS, film_grey
from vidcolor.models.loading import load_model
from vidcolor.pipeline import ColorizeOptions
from vidcolor.pipeline.predict import network_input, render_plan
from vidcolor.train.data import list_images, read_rgb

from archival import SHARED  # noqa: E402  (sibling benchmark script)

V3_PACK_SIZE = 13_541  # lite.v3's training pack (vidcolor/models/cards/lite.md)


def unseen_photos(folder: Path, kept: int, n: int) -> list[Path]:
    paths = list_images(folder)
    step = len(paths) / kept
    seen = {int(i * step) for i in range(kept)}
    unseen = [p for i, p in enumerate(paths) if i not in seen]
    return [unseen[int(i * len(unseen) / n)] for i in range(min(n, len(unseen)))]


class Tally:
    """Mean ab error, |ab| against the truth's (colourfulness proxy), wrong-vivid share."""

    def __init__(self) -> None:
        self.err = self.mag = self.truth = self.wrong = self.n = 0.0

    def add(self, ab: torch.Tensor, truth: torch.Tensor) -> None:
        mag, tmag = ab.norm(dim=1), truth.norm(dim=1)
        hue_off = (ab * truth).sum(1) / (mag * tmag).clamp_min(1e-6) < math.cos(math.radians(HUE_OFF_DEG))
        wrong = (mag > VIVID) & ((tmag < NEUTRAL) | hue_off)  # the archival benchmark's rule (Scores)
        self.err += (ab - truth).norm(dim=1).sum().item()
        self.mag += mag.sum().item()
        self.truth += tmag.sum().item()
        self.wrong += wrong.sum().item()
        self.n += mag.numel()

    def summary(self) -> dict[str, float]:
        return {"ab_error": self.err / self.n, "grey_ab_error": self.truth / self.n,
                "chroma_ratio": self.mag / self.truth, "wrong_vivid_pct": 100 * self.wrong / self.n}


def decode_rows(logp: torch.Tensor, offset: torch.Tensor, decoding: Decoding, lightness: torch.Tensor) -> torch.Tensor:
    """The product's decoding of (N, 313) log-probabilities after subtracting ``offset`` (313 or (N, 313))."""
    probs = torch.softmax(logp.float() - offset, 1)[..., None, None]
    return decoding.by_lightness(decoding(probs), lightness.view(-1, 1, 1, 1))[..., 0, 0]


def fit_offset(rows: dict[str, torch.Tensor], train: torch.Tensor, decoding: Decoding, *, bands: int, objective: str,
               steps: int = 300, batch: int = 40_000, seed: int = 0) -> torch.Tensor:
    """(bands, 313) offsets fitted on the rows ``train``."""
    offset = torch.zeros(bands, 313, requires_grad=True)
    optimiser = torch.optim.Adam([offset], lr=0.05)
    generator = torch.Generator().manual_seed(seed)
    bins = ab_bins()
    for _ in range(steps):
        idx = train[torch.randint(0, len(train), (batch,), generator=generator)]
        band = (rows["l"][idx] / 100 * bands).long().clamp(0, bands - 1)
        if objective == "err":
            ab = decode_rows(rows["logp"][idx], offset[band], decoding, rows["l"][idx])
            loss = (ab - rows["ab"][idx]).norm(dim=1).mean()
        else:
            target = torch.cdist(rows["ab"][idx], bins).argmin(1)
            loss = F.cross_entropy(rows["logp"][idx].float() - offset[band], target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return offset.detach()


def score_rows(rows: dict[str, torch.Tensor], index: torch.Tensor, offset: torch.Tensor, decoding: Decoding) -> dict[str, float]:
    tally = Tally()
    bands = offset.shape[0]
    for chunk in index.split(50_000):
        band = (rows["l"][chunk] / 100 * bands).long().clamp(0, bands - 1)
        tally.add(decode_rows(rows["logp"][chunk], offset[band], decoding, rows["l"][chunk]), rows["ab"][chunk])
    return tally.summary()


def reddish_shadows(rows: dict[str, torch.Tensor], decoding: Decoding) -> list[dict[str, float]]:
    out = []
    zero = torch.zeros(1, 313)
    for lo, hi in ((10, 25), (25, 40), (40, 60)):
        sel = torch.nonzero((rows["l"] >= lo) & (rows["l"] < hi)).squeeze(1)
        ab = torch.cat([decode_rows(rows["logp"][c], zero, decoding, rows["l"][c]) for c in sel.split(50_000)])
        red = (ab[:, 0] > 6) & (ab[:, 0] > ab[:, 1].abs() * 0.5)
        truth = rows["ab"][sel][red]
        out.append({"L": [lo, hi], "painted_reddish_pct": 100 * red.float().mean().item(),
                    "truth_reddish_pct": 100 * (truth[:, 0] > 6).float().mean().item(),
                    "truth_neutral_pct": 100 * (truth.norm(dim=1) < 6).float().mean().item(),
                    "painted_mean_ab": ab[red].mean(0).tolist(), "truth_mean_ab": truth.mean(0).tolist()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lite")
    parser.add_argument("--weights", type=Path, default=None, help="a weights file for the model's record (lite.v3's, see above)")
    parser.add_argument("--photos", type=Path, default=SHARED / "datasets" / "train")
    parser.add_argument("--kept", type=int, default=V3_PACK_SIZE, help="size of the model's evenly spaced training pack")
    parser.add_argument("--images", type=int, default=2500)
    parser.add_argument("--pixels", type=int, default=320, help="sampled per picture for the offset fits")
    parser.add_argument("--stock", choices=sorted(STOCKS), default=None, help="one stock instead of the training mix")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    loaded = load_model(args.model, weights_path=args.weights)
    engine = open_engine(loaded, device="cpu", max_batch=2)
    generator = torch.Generator().manual_seed(11)
    tallies = {"shipped": Tally(), "flip": Tally()}
    parts: dict[str, list[torch.Tensor]] = {"logp": [], "ab": [], "l": []}
    decoding = None
    with torch.inference_mode():
        for path in unseen_photos(args.photos, args.kept, args.images):
            rgb = torch.from_numpy(read_rgb(path)).permute(2, 0, 1)[None].float() / 255
            stocks, look = sample_looks(1, generator)
            if args.stock:
                stocks = torch.tensor([STOCKS[args.stock].weights])
            grey = apply_look(film_grey(rgb, stocks), look, generator)
            l_full = rgb_to_lab(grey.expand(-1, 3, -1, -1).contiguous())[:, :1]
            plan = render_plan(loaded, engine, ColorizeOptions(), *l_full.shape[-2:])
            decoding = plan.decoding
            x = network_input(l_full, plan.shape)
            probs = probabilities(engine(torch.cat([x, x.flip(-1)])))
            own, mirrored = probs[:1], probs[1:].flip(-1)
            size = own.shape[-2:]
            truth = F.interpolate(rgb_to_lab(rgb)[:, 1:], size=size, mode="area")
            l_low = F.interpolate(l_full, size=size, mode="area")
            for name, p in (("shipped", own), ("flip", (own + mirrored) / 2)):
                tallies[name].add(decoding.by_lightness(decoding(p), l_low), truth)
            pick = torch.randperm(size[0] * size[1], generator=generator)[: args.pixels]
            parts["logp"].append(own.clamp_min(1e-12).log().flatten(2)[0, :, pick].T.half())
            parts["ab"].append(truth.flatten(2)[0, :, pick].T)
            parts["l"].append(l_low.flatten(2)[0, 0, pick])
    rows = {k: torch.cat(v) for k, v in parts.items()}
    picture = torch.cat([torch.full((len(a),), i) for i, a in enumerate(parts["l"])])
    held = torch.nonzero(picture % 5 == 0).squeeze(1)
    train = torch.nonzero(picture % 5 != 0).squeeze(1)

    results: dict[str, object] = {"model": args.model, "pictures": len(parts["l"]), "stock": args.stock or "training mix",
                                  "decoding": vars(decoding) if decoding else None,
                                  "full_maps": {k: t.summary() for k, t in tallies.items()}}
    fits = {"shipped (held fifth)": score_rows(rows, held, torch.zeros(1, 313), decoding)}
    for bands in (1, 8):
        for objective in ("err", "nll"):
            offset = fit_offset(rows, train, decoding, bands=bands, objective=objective)
            fits[f"offset {objective}, {bands} L band{'s' if bands > 1 else ''}"] = score_rows(rows, held, offset, decoding)
    results["offset_fits"] = fits
    results["reddish_shadows"] = reddish_shadows(rows, decoding)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for name, s in {**results["full_maps"], **fits}.items():
        print(f"{name:32s} ab {s['ab_error']:.2f} (grey {s['grey_ab_error']:.2f}) chroma {s['chroma_ratio']:.3f} "
              f"wrong-vivid {s['wrong_vivid_pct']:.2f} %")
    for r in results["reddish_shadows"]:
        print(f"L* {r['L'][0]}-{r['L'][1]}: painted reddish {r['painted_reddish_pct']:.1f} %, of which truth reddish "
              f"{r['truth_reddish_pct']:.0f} %, neutral {r['truth_neutral_pct']:.0f} %; mean ab painted "
              f"{[round(v, 1) for v in r['painted_mean_ab']]} truth {[round(v, 1) for v in r['truth_mean_ab']]}")


if __name__ == "__main__":
    main()
