"""How much a model's decoding has left to give (issue 11), before anyone tunes it again.

Upper-bound probes against the shipped decoding (gate, knee, T, prior correction), on the
film frames and val photographs that benchmarks/archival_tune.py scores (no smoother, no
encoder):

- the error-minimising chroma gain: ab = g(L*, certainty) x the plain annealed mean, with g
  a bilinear table over L* and certainty knots, fitted by iteratively reweighted least
  squares (toward the mean |ab error| the benchmark reports) on training photographs, not on
  the pictures it is scored on. It can stand in for the gate, the knee and any gain ramp; if
  it scores no better, no setting of theirs will. A second table is also split by the hue of the
  decoded colour (6 sectors): a network whose blues and greens are right but whose reds and
  browns are not could take more colour on the first and less on the second.
- test-time augmentation: the distributions of a mirrored render, and of one 1.2x larger,
  averaged with the plain one, decoded at a few temperatures.
- the geometric median of each pixel's distribution instead of its annealed mean: the ab that
  minimises the expected |ab error| under the distribution, so the best decoding there is for the
  benchmark's error if the network's distributions were calibrated (with the shipped gate and
  knee, and without the gate).
- spatial fill: where the gate takes a pixel's colour away, the colour of its sure neighbours of
  similar L* instead (normalised convolution, weighted by their gate, at the network's output
  resolution), and the same pooling applied to the distributions before decoding. Everything
  above decides per pixel; this is the one probe that uses the picture around it.

It also prints the mean ab of the shipped decoding and of the truth per L* band: a warm
bias in the shadows (the maroon coats) would show there as a shift the gain cannot undo.

    python benchmarks/decode_headroom.py --fit-photos 900 --threads 2
    python benchmarks/decode_headroom.py --weights OTHER.pt       # another lite file
"""

from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from vidcolor.color.bins import ab_bins
from vidcolor.color.decoding import Decoding, annealed_mean, certainty
from vidcolor.color.lab import lab_to_rgb
from vidcolor.engines import open_engine
from vidcolor.evaluate.archival import Scores, film_clip
from vidcolor.models.loading import load_model
from vidcolor.pipeline import ColorizeOptions
from vidcolor.pipeline.image import grey_l
from vidcolor.pipeline.predict import predict_probs, render_plan
from vidcolor.train.data import list_images

from archival import SHARED, _photo_film  # noqa: E402  (sibling benchmark script)
from archival_tune import _score_size  # noqa: E402

L_KNOTS = torch.tensor([0.0, 15, 25, 35, 45, 60, 75, 90, 100])
C_KNOTS = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0])
TTA_TEMPERATURES = (0.7, 0.6, 0.5)
MEDIAN_TEMPERATURES = (1.0, 0.85, 0.7)
HUE_SECTORS = 6  # the table by hue too: where the network's hues are right, more colour; where not, less
SPATIAL_RADII = (3, 10)  # in output pixels (stride 4): 12 and 40 pixels of the network's input


def geometric_median(probs: torch.Tensor, iterations: int = 10, eps: float = 2.0) -> torch.Tensor:
    """(B, 2, H, W): per pixel, the ab minimising sum_k p_k |ab - c_k| over the bin centres c_k
    (Weiszfeld's iteration from the mean; ``eps`` keeps a bin centre from dividing by zero)."""
    centres = ab_bins(probs.device)
    x = torch.einsum("bkhw,kc->bchw", probs, centres)
    for _ in range(iterations):
        distance = (x[:, None] - centres[None, :, :, None, None]).norm(dim=2).clamp_min(eps)
        w = probs / distance
        x = torch.einsum("bkhw,kc->bchw", w, centres) / w.sum(1, keepdim=True)
    return x


def sure_neighbours(x: torch.Tensor, weight: torch.Tensor, lightness: torch.Tensor, radius: int,
                    sigma_l: float = 8.0) -> torch.Tensor:
    """Per pixel, the mean of x over a disc of ``radius``, weighted by ``weight`` and by the
    similarity of L* (Gaussian, ``sigma_l``): an edge-aware normalised convolution."""
    pad = (radius,) * 4
    xp, lp, wp = (F.pad(t, pad, mode="replicate") for t in (x, lightness, weight))
    h, w = x.shape[-2:]
    num, den = torch.zeros_like(x), torch.zeros_like(weight)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx > radius * radius:
                continue
            window = (..., slice(radius + dy, radius + dy + h), slice(radius + dx, radius + dx + w))
            wj = wp[window] * torch.exp(-(lp[window] - lightness) ** 2 / (2 * sigma_l ** 2)
                                        - (dy * dy + dx * dx) / (radius * radius / 2))
            num += wj * xp[window]
            den += wj
    return num / den.clamp_min(1e-8)


@dataclass
class Picture:
    """One scored picture at the scoring size: film L, the network's plain annealed mean and
    certainty (upsampled), what the shipped decoding gives, the truth, and the other decodings
    (TTA, geometric median)."""

    lightness: torch.Tensor
    plain: torch.Tensor
    sure: torch.Tensor
    shipped: torch.Tensor
    truth_rgb: np.ndarray
    truth_ab: torch.Tensor
    others: dict[str, torch.Tensor]


def _tents(x: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """(N, K) linear-interpolation weights of x on the knots."""
    x = x.clamp(float(knots[0]), float(knots[-1]))
    hi = torch.bucketize(x, knots).clamp(1, len(knots) - 1)
    w = (x - knots[hi - 1]) / (knots[hi] - knots[hi - 1])
    out = torch.zeros(len(x), len(knots))
    out.scatter_(1, (hi - 1)[:, None], (1 - w)[:, None])
    out.scatter_add_(1, hi[:, None], w[:, None])
    return out


def _hue_tents(ab: torch.Tensor, sectors: int) -> torch.Tensor:
    """(N, sectors) circular linear-interpolation weights of the hue of ab (N, 2)."""
    h = torch.atan2(ab[:, 1], ab[:, 0]) % (2 * math.pi) / (2 * math.pi) * sectors
    low = h.floor().long() % sectors
    w = h - h.floor()
    out = torch.zeros(len(ab), sectors)
    out.scatter_(1, low[:, None], (1 - w)[:, None])
    out.scatter_add_(1, ((low + 1) % sectors)[:, None], w[:, None])
    return out


def _basis(lightness: torch.Tensor, sure: torch.Tensor, plain: torch.Tensor | None = None, hues: int = 0) -> torch.Tensor:
    """(N, knots) weights of each pixel on the table's knots: L* x certainty, and with ``hues``
    sectors also the hue of the plain annealed mean (N, 2)."""
    phi = (_tents(lightness, L_KNOTS)[:, :, None] * _tents(sure, C_KNOTS)[:, None, :]).flatten(1)
    if hues:
        phi = (phi[:, :, None] * _hue_tents(plain, hues)[:, None, :]).flatten(1)
    return phi


def _pixels(p: Picture, step: int, hues: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    sub = (0, slice(None), slice(None, None, step), slice(None, None, step))
    plain = p.plain[sub].flatten(1).T
    phi = _basis(p.lightness[sub].flatten(), p.sure[sub].flatten(), plain, hues)
    return phi, plain, p.truth_ab[sub].flatten(1).T


def table_gain(p: Picture, theta: torch.Tensor, hues: int = 0) -> torch.Tensor:
    """The fitted table's gain at each pixel of a picture, (1, 1, H, W)."""
    plain = p.plain.flatten(2)[0].T
    return (_basis(p.lightness.flatten(), p.sure.flatten(), plain, hues) @ theta).view_as(p.lightness)


def fit_gain_table(pictures: list[Picture], iterations: int = 4, ridge: float = 1e-3, step: int = 2,
                   hues: int = 0) -> torch.Tensor:
    """Knot gains minimising the mean |g * plain - truth| over the pictures (IRLS), with a ridge
    toward 1 and toward equal neighbours (hue sectors wrap around) so that sparse knots stay near
    their neighbours."""
    n_l, n_c, n_h = len(L_KNOTS), len(C_KNOTS), hues or 1
    theta = torch.ones(n_l * n_c * n_h, dtype=torch.float64)

    def index(i: int, j: int, k: int) -> int:
        return (i * n_c + j) * n_h + k % n_h

    pairs = [(index(i, j, k), index(i + di, j + dj, k + dk)) for i in range(n_l) for j in range(n_c) for k in range(n_h)
             for di, dj, dk in ((1, 0, 0), (0, 1, 0), (0, 0, 1))
             if i + di < n_l and j + dj < n_c and (dk == 0 or n_h > 2)]
    for it in range(iterations):
        a = torch.zeros(len(theta), len(theta), dtype=torch.float64)
        b = torch.zeros(len(theta), dtype=torch.float64)
        for p in pictures:
            phi, plain, truth = (t.double() for t in _pixels(p, step, hues))
            weight = torch.ones(len(phi), dtype=torch.float64) if it == 0 else \
                1 / ((phi @ theta)[:, None] * plain - truth).norm(dim=1).clamp_min(2.0)
            a += (phi.T * ((plain * plain).sum(1) * weight)) @ phi
            b += phi.T @ ((plain * truth).sum(1) * weight)
        reg = torch.eye(len(theta), dtype=torch.float64)
        for i, j in pairs:
            reg[i, i] += 1
            reg[j, j] += 1
            reg[i, j] -= 1
            reg[j, i] -= 1
        scale = ridge * float(a.diagonal().mean())
        theta = torch.linalg.solve(a + scale * reg, b + scale * torch.ones_like(b))
    return theta.float()


def collect(items, loaded, engine, options: ColorizeOptions, with_others: bool) -> list[Picture]:
    pictures = []
    for grey, truth in items:
        l_full = grey_l(np.repeat(grey[..., None], 3, -1))
        plan = render_plan(loaded, engine, options, *grey.shape)
        size = _score_size(*grey.shape)

        def up(t: torch.Tensor) -> torch.Tensor:
            return F.interpolate(t, size=size, mode="bilinear", align_corners=False)

        l_small = F.interpolate(l_full, size=size, mode="area")
        with torch.inference_mode():
            probs, _ = predict_probs(engine, l_full, plan.shape)
            decoded = plan.decoding(probs)  # gated annealed mean at the output resolution
            shipped = plan.decoding.by_lightness(up(decoded), l_small)
            others = {}
            if with_others:
                mirrored = predict_probs(engine, l_full.flip(-1), plan.shape)[0].flip(-1)
                larger = tuple(-(-round(s * 1.2) // 32) * 32 for s in plan.shape)
                scaled = F.interpolate(predict_probs(engine, l_full, larger)[0], size=probs.shape[-2:],
                                       mode="bilinear", align_corners=False)
                for t in TTA_TEMPERATURES:
                    decoding: Decoding = replace(plan.decoding, temperature=t)
                    for name, mix in (("mirror", (probs + mirrored) / 2), ("mirror+1.2x", (probs + mirrored + scaled) / 3)):
                        others[f"{name}, T {t:g}"] = decoding.by_lightness(up(decoding(mix)), l_small)
                gate = plan.decoding.gate(probs)
                gate = 1.0 if gate is None else gate
                for t in MEDIAN_TEMPERATURES:
                    median = geometric_median(torch.softmax(probs.clamp_min(1e-12).log() / t, 1))
                    others[f"geometric median, T {t:g}"] = plan.decoding.by_lightness(up(median * gate), l_small)
                    others[f"geometric median, T {t:g}, no gate"] = plan.decoding.by_lightness(up(median), l_small)
                l_low = F.interpolate(l_full, size=probs.shape[-2:], mode="area")
                sure_weight = gate + 1e-3 if torch.is_tensor(gate) else torch.ones_like(l_low)
                for radius in SPATIAL_RADII:
                    fill = sure_neighbours(decoded, sure_weight, l_low, radius)
                    others[f"spatial fill, r {radius}"] = plan.decoding.by_lightness(
                        up(decoded + (1 - sure_weight.clamp(0, 1)) * fill), l_small)
                    pooled = sure_neighbours(probs, sure_weight, l_low, radius)
                    others[f"pooled distributions, r {radius}"] = plan.decoding.by_lightness(
                        up(plan.decoding(pooled)), l_small)
            plain = up(annealed_mean(probs, plan.decoding.temperature))
            sure = up(certainty(probs))
        truth_small = F.interpolate(torch.from_numpy(truth).permute(2, 0, 1)[None].float(), size=size, mode="area")
        truth_rgb = truth_small[0].permute(1, 2, 0).round().byte().numpy()
        truth_ab = torch.from_numpy(cv2.cvtColor(truth_rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[..., 1:]).permute(2, 0, 1)[None]
        pictures.append(Picture(l_small, plain, sure, shipped, truth_rgb, truth_ab, others))
    return pictures


def score(pictures: list[Picture], ab_of) -> dict[str, float]:
    scores = Scores()
    for p in pictures:
        rgb = lab_to_rgb(torch.cat([p.lightness, ab_of(p)], 1))[0].permute(1, 2, 0)
        scores.add((rgb * 255).round().byte().numpy(), p.truth_rgb, ciede=False)
    return scores.summary()


def mean_ab_by_lightness(pictures: list[Picture], bands=((0, 20), (20, 30), (30, 40), (40, 60), (60, 101))) -> str:
    """Mean ab of the shipped decoding and of the truth per film-L* band: a bias the gain table
    cannot remove (it only scales) would show here."""
    parts = []
    for lo, hi in bands:
        out, truth, n = torch.zeros(2), torch.zeros(2), 0
        for p in pictures:
            m = ((p.lightness >= lo) & (p.lightness < hi))[0, 0]
            out += p.shipped[0][:, m].sum(1)
            truth += p.truth_ab[0][:, m].float().sum(1)
            n += int(m.sum())
        out, truth = out / max(n, 1), truth / max(n, 1)
        parts.append(f"L* {lo}-{hi}: ({out[0]:.1f}, {out[1]:.1f}) against ({truth[0]:.1f}, {truth[1]:.1f})")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=None, help="a lite file (default: the shipped lite.v4)")
    parser.add_argument("--fit-photos", type=int, default=900, help="training photographs the gain table is fitted on")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--max-photos", type=int, default=120)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    loaded = load_model("lite", weights_path=args.weights)
    engine = open_engine(loaded, device="cpu", max_batch=8)
    options = ColorizeOptions()

    def film_frames():
        for ci, path in enumerate(sorted((SHARED / "media" / "color").glob("*.mp4"))):
            for si, stock in enumerate(("ortho", "pan")):
                clip = film_clip(path, stock, args.frames, seed=ci * 10 + si)
                for i in range(0, len(clip.truth), args.every):
                    yield clip.grey[i], clip.truth[i]

    def photo_films(folder: Path, count: int, first_seed: int = 0):
        for i, path in enumerate(list_images(folder, count)):
            truth, grey = _photo_film(path, first_seed + i)
            yield grey, truth

    # seeds from 1000 on: the fitting pictures' film grain differs from the scored ones'
    fitting = collect(photo_films(SHARED / "datasets" / "train", args.fit_photos, 1000), loaded, engine, options, False)
    theta = fit_gain_table(fitting)
    theta_hue = fit_gain_table(fitting, hues=HUE_SECTORS)
    table = theta.view(len(L_KNOTS), len(C_KNOTS)).numpy()
    print(f"error-minimising gain, rows L* {L_KNOTS.int().tolist()}, columns certainty {C_KNOTS.tolist()}:")
    print(np.array2string(table, precision=2, suppress_small=True))
    print("| set | decoding | ab error | wrong-vivid % | shadow-tint % | colourfulness / truth |")
    print("|---|---|---|---|---|---|")
    sets = {"films": collect(film_frames(), loaded, engine, options, True),
            "val photos": collect(photo_films(SHARED / "datasets" / "val", args.max_photos), loaded, engine, options, True),
            "fitting photos": fitting[:200]}
    for name, pictures in sets.items():
        rows = {"grayscale": lambda p: torch.zeros_like(p.plain), "shipped": lambda p: p.shipped,
                "error-minimising gain": lambda p: p.plain * table_gain(p, theta),
                f"error-minimising gain, {HUE_SECTORS} hue sectors": lambda p: p.plain * table_gain(p, theta_hue, HUE_SECTORS)}
        rows.update({k: (lambda p, k=k: p.others[k]) for k in pictures[0].others})
        for label, ab_of in rows.items():
            s = score(pictures, ab_of)
            print(f"| {name} | {label} | {s['ab_error']:.2f} | {s['wrong_vivid_pct']:.1f} | {s['shadow_tint_pct']:.1f} "
                  f"| {s['colourfulness_ratio']:.2f} |", flush=True)
    for name, pictures in sets.items():
        print(f"{name}, mean ab of the shipped decoding against the truth's: {mean_ab_by_lightness(pictures)}")


if __name__ == "__main__":
    main()
