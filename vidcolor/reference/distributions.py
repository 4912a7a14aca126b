"""Per-position bin distributions from reference colours, and their combination with the network's.

Two kinds of opinion:

- exact colours (a keyframe warped onto the frame): each ab value is split bilinearly over
  its four surrounding bins, with the split weights raised to the decoding temperature, so
  that annealed-mean decoding of that distribution alone gives the ab value back exactly;
- palettes (a photograph, or a keyframe where motion could not follow): a table of bin
  distributions indexed by what a frame position looks like (L, local contrast, where it is),
  built once from the reference by soft assignment (Gaussian kernels over those features).
  These features are what the pipeline already has at the colour grid (L) or costs next to
  nothing (contrast, position); the frozen encoder's features, which the design suggests,
  would need a second encoder pass per picture (the engines return logits only) and have not
  been tried: with these, a palette lowered the ab error on all seven benchmark clips at
  93 % of the fps without one (benchmarks/RESULTS.md).

Either reweights the network's distribution per position, log-linearly (:func:`pool`):
``p ∝ p_net^(1-b) * (q + eps)^b``, with ``b`` in [0, 1] from the match confidence. Where
``b`` is 0 (nothing matched) the network's distribution comes back (up to float rounding; bit for bit
when a picture has no opinion at all).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from vidcolor.color.bins import AB_BIN_STEP, ab_bins, soft_encode

NUM_BINS = 313
EPS = 1e-4


@functools.cache
def _grid_to_bin() -> tuple[torch.Tensor, int, int]:
    """A lookup from ab grid cells (a from -110, b from -110, step 10) to bin index, -1 outside the gamut."""
    bins = ab_bins().round().long()
    lut = torch.full((23, 23), -1, dtype=torch.long)
    lut[(bins[:, 0] + 110) // AB_BIN_STEP, (bins[:, 1] + 110) // AB_BIN_STEP] = torch.arange(bins.shape[0])
    return lut, -110, 23


def exact_corners(ab: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,2,h,w) ab to the sparse distribution that annealed-mean decoding at ``temperature`` maps back to ab.

    Returns the four bins around each ab value (B,4,h,w) and their probabilities (B,4,h,w).
    Decoding computes softmax(log q / T) = q^(1/T) / sum; with q_j ∝ w_j^T over the four bins
    around an ab value (w_j its bilinear weights) that is w_j again, and the expectation over
    bin centres is the bilinear interpolation, i.e. the ab value. A corner outside the sRGB
    gamut (no bin) gets probability 0 (and index 0) and the rest are renormalised.
    """
    lut, origin, size = _grid_to_bin()
    lut = lut.to(ab.device)
    g = (ab.float().clamp(-109.9, 109.9) - origin) / AB_BIN_STEP  # grid coordinates
    g0 = g.floor()
    frac = g - g0
    g0 = g0.long().clamp(0, size - 2)
    idx, weight = [], []
    for da in (0, 1):
        for db in (0, 1):
            wa = frac[:, 0] if da else 1 - frac[:, 0]
            wb = frac[:, 1] if db else 1 - frac[:, 1]
            i = lut[g0[:, 0] + da, g0[:, 1] + db]  # (B,h,w)
            idx.append(i.clamp_min(0))
            weight.append((wa * wb).clamp_min(0) ** temperature * (i >= 0))
    q = torch.stack(weight, dim=1)
    total = q.sum(dim=1, keepdim=True)
    # all four corners out of gamut cannot happen for a colour that came from sRGB; guarded anyway
    return torch.stack(idx, dim=1), q / total.clamp_min(1e-12)


def exact_distribution(ab: torch.Tensor, temperature: float) -> torch.Tensor:
    """:func:`exact_corners` as dense (B,313,h,w) distributions."""
    idx, q = exact_corners(ab, temperature)
    b, _, h, w = ab.shape
    return torch.zeros(b, NUM_BINS, h, w, device=ab.device).scatter_add_(1, idx, q)


@dataclass
class Opinions:
    """What references say about one picture, to pool with the network's distribution.

    dense: (log(q + eps) (1,313,h,w), weight (1,1,h,w)) pairs, e.g. palette lookups;
    sparse: (bins (1,4,h,w), q (1,4,h,w), weight (1,1,h,w)) from :func:`exact_corners`.
    """

    dense: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    sparse: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.dense or self.sparse)

    def scaled(self, factor: torch.Tensor | float) -> Opinions:
        return Opinions([(q, b * factor) for q, b in self.dense], [(i, q, b * factor) for i, q, b in self.sparse])

    def extend(self, other: Opinions) -> None:
        self.dense += other.dense
        self.sparse += other.sparse

    def total(self) -> torch.Tensor:
        return sum(b for *_, b in self.dense) + sum(b for *_, b in self.sparse)


def pool(probs: torch.Tensor, opinions: Opinions) -> torch.Tensor:
    """The weighted geometric pool ``p ∝ p_net^(1-B) * prod_j (q_j + eps)^(b_j)``, B = sum_j b_j <= 1, per position.

    probs (B,313,h,w), opinions' tensors with the same batch and size. Computed in log space, where
    a sparse opinion (four bins) is log(eps) off its bins: it costs a scatter, not a dense log.
    Where every weight is 0 the result is the network's distribution (up to float rounding).
    """
    if not opinions:
        return probs
    logp = probs.float().clamp_min(1e-12).log()
    log_eps = math.log(EPS)
    if opinions.sparse:
        base = sum(b for *_, b in opinions.sparse) * log_eps
    else:
        base = torch.zeros_like(logp[:, :1])
    out = torch.addcmul(base, logp, 1 - opinions.total())
    for log_q, b in opinions.dense:
        out.addcmul_(log_q, b)
    for idx, q, b in opinions.sparse:
        out.scatter_add_(1, idx, b * ((q + EPS).log() - log_eps))
    return torch.softmax(out, dim=1)


def local_contrast(l: torch.Tensor) -> torch.Tensor:
    """Standard deviation of L (in L* units) over each position's 3x3 neighbourhood, (B,1,h,w) -> (B,1,h,w)."""
    pad = F.pad(l, (1, 1, 1, 1), mode="replicate")
    mean = F.avg_pool2d(pad, 3, stride=1)
    mean_sq = F.avg_pool2d(pad * pad, 3, stride=1)
    return (mean_sq - mean * mean).clamp_min(0).sqrt()


@dataclass(frozen=True)
class PaletteLayout:
    """The cells of a palette table: centres and kernel widths of each feature.

    l_step / l_sigma: L* centres every l_step (0..100) and the kernel width in L*.
    contrast: centres of local contrast (L* standard deviation over 3x3 positions); contrast_sigma its width.
    grid: (rows, columns) of position cells over the picture; position_sigma in picture heights/widths.
    support: soft count of reference positions at which a cell's confidence reaches 1 - 1/e.
    """

    l_step: float = 4.0
    l_sigma: float = 5.0
    contrast: tuple[float, ...] = (0.0, 3.0, 8.0, 16.0)
    contrast_sigma: float = 3.0
    grid: tuple[int, int] = (3, 1)
    position_sigma: float = 0.25
    support: float = 4.0


# A photograph of other scenes: where a colour sits in it says little, so position is three bands.
PHOTO_LAYOUT = PaletteLayout()
# A keyframe's own colours, for positions where motion cannot be followed: same shot, so where it is matters.
KEYFRAME_LAYOUT = PaletteLayout(grid=(4, 4), position_sigma=0.15, support=3.0)


class PaletteTable:
    """Bin distributions indexed by (L, local contrast, position cell), from one reference's pixels."""

    def __init__(self, lab: torch.Tensor, layout: PaletteLayout) -> None:
        """``lab``: (3,h,w) float32 reference at the frames' colour-grid resolution."""
        self.layout = layout
        rows, cols = layout.grid
        self.l_centres = torch.arange(0, 100 + 1e-6, layout.l_step)
        self.c_centres = torch.tensor(layout.contrast)
        self.y_centres = (torch.arange(rows) + 0.5) / rows
        self.x_centres = (torch.arange(cols) + 0.5) / cols
        l = lab[:1][None]
        feats = self._features(l)  # (4, N): L, contrast, y, x
        ab = lab[1:][None]
        target = soft_encode(ab).reshape(NUM_BINS, -1).T  # (N, 313)
        centres = torch.cartesian_prod(self.l_centres, self.c_centres, self.y_centres, self.x_centres).T  # (4, cells)
        sig = torch.tensor([layout.l_sigma, layout.contrast_sigma, layout.position_sigma, layout.position_sigma])
        z = (centres[:, :, None] - feats[:, None, :]) / sig[:, None, None]
        weights = torch.exp(-0.5 * z.square().sum(dim=0))  # (cells, N)
        count = weights.sum(dim=1)
        table = weights @ target / count.clamp_min(1e-12)[:, None]
        # bins first: a lookup is then one index_select into the (313, h*w) layout the pipeline uses
        self.log_table_t = (table + EPS).log().T.contiguous()  # (313, cells)
        self.confidence = 1 - torch.exp(-count / layout.support)  # (cells,)

    def _features(self, l: torch.Tensor) -> torch.Tensor:
        _, _, h, w = l.shape
        c = local_contrast(l)
        y = ((torch.arange(h, dtype=torch.float32) + 0.5) / h)[:, None].expand(h, w)
        x = ((torch.arange(w, dtype=torch.float32) + 0.5) / w)[None, :].expand(h, w)
        return torch.stack([l[0, 0].reshape(-1), c[0, 0].reshape(-1), y.reshape(-1), x.reshape(-1)])

    def lookup(self, l: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For frames' L (B,1,h,w) in L*: log q (B,313,h,w) and confidence (B,1,h,w), nearest cell."""
        bsz, _, h, w = l.shape
        c = local_contrast(l)
        il = (l / self.layout.l_step).round().long().clamp(0, len(self.l_centres) - 1)
        ic = (c[..., None] - self.c_centres).abs().argmin(dim=-1)
        rows, cols = self.layout.grid
        iy = (torch.arange(h) * rows // h)[:, None]
        ix = (torch.arange(w) * cols // w)[None, :]
        idx = ((il * len(self.c_centres) + ic) * rows + iy) * cols + ix  # (B,1,h,w)
        out = [self.log_table_t.index_select(1, i.reshape(-1)).view(1, NUM_BINS, h, w) for i in idx]
        return torch.cat(out), self.confidence[idx.reshape(-1)].reshape(bsz, 1, h, w)
