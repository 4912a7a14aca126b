"""The archival benchmark: colour footage made into black-and-white film, coloured, and
scored against its own colour.

What archivists judge is credibility: a muted colour is forgiven, a vivid wrong one is
not. Besides the usual errors this scores the *wrong-vivid share*: the pixels painted a
vivid colour (|ab| > 15) where the truth is near-neutral (|ab| < 6) or has a hue more
than 90 degrees away. And the *shadow-tint share*, the maroon-suit measure: of the
shadows (film L* < 40, where Lab's gamut is narrow and a chroma of 8 already reads as
maroon or brown), the share tinted (|ab| > 8) where the truth is near-neutral or the hue is
more than 90 degrees off. Every score stands beside the grayscale baseline's (ab = 0),
which has no wrong-vivid pixels and no colour at all.

CIEDE2000 is taken at the film's lightness on both sides: a stock renders lightness
differently from the truth (red goes near black on orthochromatic film), the same for
every method, and that difference would otherwise drown the colour's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np
import torch
from skimage.color import deltaE_ciede2000

from vidcolor.color.spec import MATRIX_COEFFS
from vidcolor.evaluate.flicker import cdc
from vidcolor.evaluate.metrics import colourfulness
from vidcolor.film import FilmLook, apply_look, film_grey
from vidcolor.media.decode import plane_view

if TYPE_CHECKING:
    from vidcolor.pipeline.options import ColorizeOptions

VIVID = 15.0  # |ab| above this reads as a colour, not a tint
NEUTRAL = 6.0  # |ab| below this is grey to the eye
HUE_OFF_DEG = 90.0
SHADOW_L = 40.0  # film L* below this is a shadow for the shadow-tint share
SHADOW_TINT = 8.0  # |ab| above this reads as a tint in a shadow
SCORE_SIDE = 320  # metrics are taken with the long side at most this (ab is predicted at 1/4 anyway)

# the look each simulated film gets: moderate grain, some blur and contrast, flicker of a few percent
FILM_LOOK = {"contrast": 0.35, "fade": 0.03, "blur": 0.6, "grain": 0.04}
FLICKER = 0.06  # standard deviation of the per-frame exposure gain


@dataclass
class FilmClip:
    """A colour clip and the black-and-white film made from it."""

    name: str
    stock: str
    truth: np.ndarray  # (N, H, W, 3) uint8 RGB
    grey: np.ndarray  # (N, H, W) uint8, display grey
    rate: Fraction


def read_rgb_frames(path: Path, frames: int, max_side: int = 640) -> tuple[np.ndarray, Fraction]:
    """The first ``frames`` pictures of a video as (N, H, W, 3) uint8 RGB, long side at most ``max_side``
    (even sides), and the stream's frame rate."""
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or Fraction(25)
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            scale = min(1.0, max_side / max(h, w))
            size = (round(w * scale / 2) * 2, round(h * scale / 2) * 2)
            if size != (w, h):
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            out.append(rgb)
            if len(out) == frames:
                break
    return np.stack(out), Fraction(rate)


def simulate_film(truth: np.ndarray, stock: str, seed: int, look: dict[str, float] | None = None,
                  flicker: float = FLICKER) -> np.ndarray:
    """(N, H, W, 3) uint8 colour to (N, H, W) uint8 film grey: one stock and look for the clip,
    exposure flickering per frame, grain drawn fresh each frame; seeded."""
    g = torch.Generator().manual_seed(seed)
    n = truth.shape[0]
    params = {**FILM_LOOK, **(look or {})}
    exposure = 1 + flicker * torch.randn(n, generator=g)
    film_look = FilmLook.constant(n, **params)
    film_look.exposure = exposure.clamp(0.7, 1.3)
    greys = []
    for i in range(n):  # one frame at a time keeps memory flat for long clips
        rgb = torch.from_numpy(truth[i]).permute(2, 0, 1).unsqueeze(0).float() / 255
        one = FilmLook(**{k: getattr(film_look, k)[i : i + 1] for k in film_look.__dataclass_fields__})
        greys.append((apply_look(film_grey(rgb, stock), one, g)[0, 0] * 255).round().byte().numpy())
    return np.stack(greys)


def write_film(grey: np.ndarray, rate: Fraction, path: Path) -> None:
    """Film grey to a lossless H.264 file (Y = the grey in limited range, neutral chroma, BT.709 tags)."""
    n, h, w = grey.shape
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"qp": "0", "preset": "ultrafast"}
        cc = stream.codec_context
        cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = 1, 1, 1, 1  # BT.709, limited
        for i in range(n):
            frame = av.VideoFrame(w, h, "yuv420p")
            y = plane_view(frame.planes[0], w, h, np.uint8)
            y[...] = np.round(16 + grey[i].astype(np.float32) * (219 / 255)).astype(np.uint8)
            for p in (1, 2):
                plane = frame.planes[p]
                plane_view(plane, plane.width, plane.height, np.uint8)[...] = 128
            frame.pts = i
            frame.colorspace, frame.color_range = 1, 1
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def read_ycbcr_as_rgb(path: Path, matrix: str = "bt709") -> np.ndarray:
    """A coloured 8-bit limited-range 4:2:0 video (as vidcolor writes it) to (N, H, W, 3) uint8 RGB,
    converted with the matrix it was written with rather than whatever a scaler assumes."""
    kr, kb = MATRIX_COEFFS[matrix]
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            planes = [plane_view(p, p.width, p.height, np.uint8).astype(np.float32) for p in frame.planes[:3]]
            h, w = planes[0].shape
            y = (planes[0] - 16) / 219
            cb, cr = ((cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) - 128) / 224 for p in planes[1:])
            r = y + 2 * (1 - kr) * cr
            b = y + 2 * (1 - kb) * cb
            g = (y - kr * r - kb * b) / (1 - kr - kb)
            frames.append((np.clip(np.stack([r, g, b], -1), 0, 1) * 255).round().astype(np.uint8))
    return np.stack(frames)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)


def fit_long_side(rgb: np.ndarray, side: int) -> np.ndarray:
    """The picture area-downscaled so its long side is at most ``side`` (never enlarged)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    if scale == 1.0:
        return rgb
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


@dataclass
class Scores:
    """Sums over scored pixels and pictures; ``summary`` gives the means."""

    pixels: int = 0
    ab_error: float = 0.0
    wrong_vivid: float = 0.0
    shadow_pixels: int = 0
    shadow_tint: float = 0.0
    ciede: float = 0.0
    ciede_pixels: int = 0
    colourfulness: float = 0.0
    truth_colourfulness: float = 0.0
    pictures: int = 0
    mean_chroma: float = 0.0
    cdc: list[float] = field(default_factory=list)

    def add(self, out_rgb: np.ndarray, truth_rgb: np.ndarray, *, ciede: bool = True) -> None:
        """One picture: (H, W, 3) uint8 output and truth of the same size."""
        out_rgb, truth_rgb = fit_long_side(out_rgb, SCORE_SIDE), fit_long_side(truth_rgb, SCORE_SIDE)
        out_lab, truth_lab = _lab(out_rgb), _lab(truth_rgb)
        ab_o, ab_t = out_lab[..., 1:], truth_lab[..., 1:]
        chroma_o, chroma_t = np.linalg.norm(ab_o, axis=-1), np.linalg.norm(ab_t, axis=-1)
        self.ab_error += float(np.linalg.norm(ab_o - ab_t, axis=-1).sum())
        cos = (ab_o * ab_t).sum(-1) / np.maximum(chroma_o * chroma_t, 1e-6)
        hue_off = cos < math.cos(math.radians(HUE_OFF_DEG))
        wrong_hue = (chroma_t < NEUTRAL) | hue_off
        self.wrong_vivid += float(((chroma_o > VIVID) & wrong_hue).sum())
        shadow = out_lab[..., 0] < SHADOW_L
        self.shadow_pixels += int(shadow.sum())
        self.shadow_tint += float((shadow & (chroma_o > SHADOW_TINT) & wrong_hue).sum())
        self.mean_chroma += float(chroma_o.sum())
        self.pixels += chroma_o.size
        if ciede:
            truth_at_film_l = np.concatenate([out_lab[..., :1], ab_t], axis=-1)
            self.ciede += float(deltaE_ciede2000(truth_at_film_l, out_lab).sum())
            self.ciede_pixels += chroma_o.size
        self.colourfulness += colourfulness(out_rgb / 255)
        self.truth_colourfulness += colourfulness(truth_rgb / 255)
        self.pictures += 1

    def add_clip_cdc(self, frames: np.ndarray) -> None:
        self.cdc.append(cdc(frames))

    def summary(self) -> dict[str, float]:
        px = max(self.pixels, 1)
        return {
            "ab_error": self.ab_error / px,
            "ciede2000": self.ciede / max(self.ciede_pixels, 1),
            "wrong_vivid_pct": 100 * self.wrong_vivid / px,
            "shadow_tint_pct": 100 * self.shadow_tint / max(self.shadow_pixels, 1),
            "colourfulness_ratio": self.colourfulness / max(self.truth_colourfulness, 1e-9),
            "mean_chroma": self.mean_chroma / px,
            "cdc": float(np.mean(self.cdc)) if self.cdc else math.nan,
        }


def film_clip(path: Path, stock: str, frames: int, seed: int = 0, max_side: int = 640) -> FilmClip:
    """The first ``frames`` pictures of a colour clip and their simulated film."""
    truth, rate = read_rgb_frames(path, frames, max_side)
    return FilmClip(path.stem, stock, truth, simulate_film(truth, stock, seed), rate)


def grey_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=-1)


def score_clip(clip: FilmClip, coloured: np.ndarray | None, scores: Scores, ciede_every: int = 4) -> None:
    """Add a clip's pictures to ``scores``: ``coloured`` (N, H, W, 3), or None for the grayscale baseline."""
    frames = grey_rgb(clip.grey) if coloured is None else coloured
    for i, (out, truth) in enumerate(zip(frames, clip.truth)):
        scores.add(out, truth, ciede=i % ciede_every == 0)
    if len(frames) > 4:
        scores.add_clip_cdc(frames)


def colour_clip(clip: FilmClip, work: Path, options: ColorizeOptions) -> np.ndarray:
    """Write the clip's film, colour it with the real ``vidcolor.colorize`` and read the colour back."""
    from vidcolor.pipeline import colorize

    work.mkdir(parents=True, exist_ok=True)
    film = work / f"{clip.name}_{clip.stock}.mp4"
    if not film.exists():
        write_film(clip.grey, clip.rate, film)
    out = work / f"{clip.name}_{clip.stock}_colour.mkv"
    colorize(film, out, options)
    coloured = read_ycbcr_as_rgb(out)
    out.unlink()
    if coloured.shape != clip.truth.shape:
        raise RuntimeError(f"{clip.name}: coloured {coloured.shape} against truth {clip.truth.shape}")
    return coloured


@dataclass
class FilmEvaluation:
    """Scores of one model on colour clips made into film, beside the grayscale baseline."""

    model: str
    clips: list[str]
    stocks: list[str]
    frames: int
    scores: dict[str, Scores]
    sheet: list[tuple[str, list[np.ndarray]]]  # (row name, pictures): truth, film, colour

    def summary(self) -> dict[str, dict[str, float]]:
        return {name: s.summary() for name, s in self.scores.items()}

    def markdown(self) -> str:
        lines = [f"{self.model} on {len(self.clips)} clip(s) as {', '.join(self.stocks)} film, {self.frames} frames each",
                 "", "| method | ab error | CIEDE2000 | wrong-vivid % | shadow-tint % | colourfulness / truth | CDC |",
                 "|---|---|---|---|---|---|---|"]
        for name, s in self.summary().items():
            lines.append(f"| {name} | {s['ab_error']:.2f} | {s['ciede2000']:.2f} | {s['wrong_vivid_pct']:.1f} | "
                         f"{s['shadow_tint_pct']:.1f} | {s['colourfulness_ratio']:.2f} | {s['cdc']:.5f} |")
        return "\n".join(lines) + "\n"


def evaluate_films(clips: list[Path], options: ColorizeOptions, work: Path, *, stocks: tuple[str, ...] = ("ortho", "pan"),
                   frames: int = 40) -> FilmEvaluation:
    """Make each colour clip into film of each stock, colour it with the real pipeline and score it."""
    scores = {"grayscale": Scores(), "colour": Scores()}
    rows: dict[str, list[np.ndarray]] = {"truth": [], "film": [], "colour": []}
    model = options.model
    for ci, path in enumerate(clips):
        for si, stock in enumerate(stocks):
            clip = film_clip(path, stock, frames, seed=ci * 10 + si)
            coloured = colour_clip(clip, work, options)
            score_clip(clip, None, scores["grayscale"])
            score_clip(clip, coloured, scores["colour"])
            pick = len(coloured) // 2
            rows["truth"].append(clip.truth[pick])
            rows["film"].append(grey_rgb(clip.grey[pick]))
            rows["colour"].append(coloured[pick])
    return FilmEvaluation(model, [p.stem for p in clips], list(stocks), frames, scores, list(rows.items()))
