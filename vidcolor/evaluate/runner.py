"""Colourise a folder of colour photographs from their L alone and score the result against them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vidcolor.color.decoding import DEFAULT_TEMPERATURE, annealed_mean, probabilities
from vidcolor.color.lab import lab_to_rgb, rgb_to_lab
from vidcolor.color.upsample import guided_upsample_ab
from vidcolor.engines import open_engine
from vidcolor.errors import UsageError
from vidcolor.evaluate.metrics import (
    AucAccumulator,
    colourfulness,
    mean_ciede2000,
    psnr,
    rgb_to_lab_np,
    ssim_rgb,
)
from vidcolor.models.loading import LoadedModel, load_model
from vidcolor.pipeline.options import ColorizeOptions
from vidcolor.pipeline.predict import network_input, render_plan, upsample_ab
from vidcolor.train.data import list_images, read_rgb
from vidcolor.train.rebalance import nearest_bin

log = logging.getLogger(__name__)

UPSAMPLERS = ("bilinear", "guided")
SPLITS = ("all", "even", "odd")
BASELINE = "grayscale"

# (images done, images total)
EvalProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and how.

    Attributes:
        images: folder of colour images (searched recursively, sorted by path).
        model: registered model name (``arch`` or ``arch.tag``).
        weights: a local weights file instead of the packaged or cached one.
        temperatures: annealed-mean temperatures, all scored in one pass; None uses the
            weights' tuned ``meta["temperature"]`` or the paper's 0.38.
        upsample: ab upsamplers to score, each of ``bilinear`` and ``guided`` (edge-aware,
            guided by full-resolution L); all share one network pass.
        split: ``all`` images, or the ``even`` / ``odd`` positions of the sorted list, so a
            parameter tuned on one half can be checked on the other.
        max_images: at most this many images after splitting (0: all).
        sheet_images: how many images the contact sheet shows (spread evenly over the set).
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
    """

    images: Path
    model: str = "lite"
    weights: Path | None = None
    temperatures: tuple[float, ...] | None = None
    upsample: tuple[str, ...] = ("bilinear",)
    split: str = "all"
    max_images: int = 0
    sheet_images: int = 8
    device: str = "auto"

    def __post_init__(self) -> None:
        unknown = set(self.upsample) - set(UPSAMPLERS)
        if unknown or not self.upsample:
            raise UsageError(f"unknown upsampler {sorted(unknown)}; use one or more of {', '.join(UPSAMPLERS)}")
        if self.split not in SPLITS:
            raise UsageError(f"unknown split {self.split!r}; use one of {', '.join(SPLITS)}")
        if self.temperatures is not None and (not self.temperatures or min(self.temperatures) <= 0):
            raise UsageError("temperatures must be positive")


@dataclass
class MethodScores:
    """Running sums of one method's per-image metrics over the set, and its AuC counts."""

    sums: dict[str, float] = field(default_factory=dict)
    count: int = 0
    auc: AucAccumulator = field(default_factory=AucAccumulator)

    def add(self, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.count += 1

    def summary(self) -> dict[str, float]:
        out = {k: v / max(1, self.count) for k, v in self.sums.items()}
        out["auc_raw"] = self.auc.auc(rebalanced=False)
        out["auc_rebalanced"] = self.auc.auc(rebalanced=True)
        return out


@dataclass
class EvalResult:
    """Scores per method: ``grayscale`` (ab = 0) and ``T=<temperature>`` (bilinear) or
    ``T=<temperature> guided`` for each temperature and upsampler."""

    config: EvalConfig
    model_label: str
    num_images: int
    methods: dict[str, MethodScores]
    truth_colourfulness: float
    sheet_rows: list[tuple[str, list[np.ndarray]]]  # (method, images) incl. truth, for the contact sheet

    def summary(self) -> dict[str, dict[str, float]]:
        return {name: scores.summary() for name, scores in self.methods.items()}

    def shortfall(
        self, scores: dict[str, float], colour_range: tuple[float, float] = (0.7, 1.2), max_psnr_drop: float = 2.0
    ) -> float:
        """How far a method's summary misses issue 3's bounds: colourfulness within ``colour_range``
        of the truth's, PSNR within ``max_psnr_drop`` dB of the grayscale baseline (0: within both)."""
        base = self.summary()[BASELINE]
        ratio = scores["colourfulness"] / max(self.truth_colourfulness, 1e-9)
        off_colour = max(0.0, colour_range[0] - ratio, ratio - colour_range[1])
        over_psnr = max(0.0, base["psnr"] - scores["psnr"] - max_psnr_drop)
        return off_colour * 10 + over_psnr

    def best_temperature(self) -> float:
        """The (bilinear) temperature with the best rebalanced AuC among those within issue 3's
        bounds (see ``shortfall``); when none is, the one closest to them."""
        summary = self.summary()
        temps = {name: float(name[2:]) for name in summary if name.startswith("T=") and " " not in name}
        best = max(temps, key=lambda n: (-self.shortfall(summary[n]), summary[n]["auc_rebalanced"]))
        return temps[best]


def method_name(temperature: float, upsample: str = "bilinear") -> str:
    return f"T={temperature:g}" if upsample == "bilinear" else f"T={temperature:g} {upsample}"


def _select(paths: list[Path], split: str, max_images: int) -> list[Path]:
    if split == "even":
        paths = paths[0::2]
    elif split == "odd":
        paths = paths[1::2]
    return paths[:max_images] if max_images > 0 else paths


def _to_numpy(rgb: torch.Tensor) -> np.ndarray:
    return rgb[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy().astype(np.float64)


def _score(out_lab: torch.Tensor, truth_rgb: np.ndarray, truth_lab: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    out_np = _to_numpy(lab_to_rgb(out_lab))
    metrics = {
        "psnr": psnr(out_np, truth_rgb),
        "ssim": ssim_rgb(out_np, truth_rgb),
        # of what is displayed: the output after gamut clipping, back in Lab
        "ciede2000": mean_ciede2000(rgb_to_lab_np(out_np), truth_lab),
        "colourfulness": colourfulness(out_np),
    }
    return metrics, out_np


def evaluate(config: EvalConfig, progress: EvalProgress | None = None, *, model: LoadedModel | None = None) -> EvalResult:
    """Desaturate each image, colourise it from L and score it, beside the grayscale baseline (ab = 0).

    ``model`` replaces loading ``config.model``: candidate weights that are not a published
    file (and so fail the registry's checksum) can be scored that way while tuning.

    Raises:
        UsageError: no images, or bad options.
        WeightsError: the model's weights are missing or corrupt.
    """
    paths = _select(list_images(config.images), config.split, config.max_images)
    if not paths:
        raise UsageError(f"split {config.split!r} of {config.images} holds no images")
    model = model or load_model(config.model, weights_path=config.weights)
    engine = open_engine(model, device=config.device, max_batch=1)
    temperatures = config.temperatures or (float(model.weights.meta.get("temperature", DEFAULT_TEMPERATURE)),)
    combos = [(method_name(t, up), t, up) for up in config.upsample for t in temperatures]
    names = [name for name, _, _ in combos]
    methods = {name: MethodScores() for name in [BASELINE, *names]}
    truth_colour = 0.0
    sheet_at = set(np.linspace(0, len(paths) - 1, min(config.sheet_images, len(paths))).round().astype(int).tolist())
    sheet: dict[str, list[np.ndarray]] = {name: [] for name in [BASELINE, *names, "truth"]}
    for i, path in enumerate(paths):
        truth = torch.from_numpy(read_rgb(path)).permute(2, 0, 1).unsqueeze(0).float().div(255)
        truth_np = _to_numpy(truth)
        lab = rgb_to_lab(truth.to(engine.device))
        lum, truth_ab = lab[:, :1], lab[:, 1:]
        truth_lab_np = rgb_to_lab_np(truth_np)
        truth_bins = nearest_bin(truth_ab)
        truth_colour += colourfulness(truth_np)
        shape = render_plan(model, engine, ColorizeOptions(), *lum.shape[-2:]).shape
        probs = probabilities(engine(network_input(lum, shape)))
        candidates = {BASELINE: torch.zeros_like(truth_ab)}
        ab_lows = {t: annealed_mean(probs, t) for t in temperatures}
        for name, t, upsample in combos:
            if upsample == "guided":
                candidates[name] = guided_upsample_ab(ab_lows[t], lum)
            else:
                candidates[name] = upsample_ab(ab_lows[t], lum.shape[-2:])
        for name, ab in candidates.items():
            metrics, out_np = _score(torch.cat([lum, ab], dim=1), truth_np, truth_lab_np)
            methods[name].add(metrics)
            methods[name].auc.add(ab, truth_ab, truth_bins)
            if i in sheet_at:
                sheet[name].append(out_np)
        if i in sheet_at:
            sheet["truth"].append(truth_np)
        if progress is not None:
            progress(i + 1, len(paths))
    log.info("evaluated %s on %d images", model.label, len(paths))
    return EvalResult(config, model.label, len(paths), methods, truth_colour / len(paths), list(sheet.items()))
