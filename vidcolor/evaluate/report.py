"""Write an evaluation: JSON, a Markdown table, a contact sheet and the AuC curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

from vidcolor.evaluate.metrics import AUC_MAX_THRESHOLD
from vidcolor.evaluate.runner import BASELINE, EvalResult

_COLUMNS = (
    ("psnr", "PSNR dB"), ("ssim", "SSIM"), ("ciede2000", "CIEDE2000"), ("colourfulness", "colourfulness"),
    ("auc_raw", "AuC raw"), ("auc_rebalanced", "AuC rebal."),
)
# row names on the contact sheet, readable at its default 128 px rows
_LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX
_LABEL_SCALE = 0.5
_LABEL_PAD = 8


def to_json(result: EvalResult) -> dict:
    summary = result.summary()
    return {
        "model": result.model_label,
        "images": str(result.config.images),
        "split": result.config.split,
        "num_images": result.num_images,
        "upsample": list(result.config.upsample),
        "truth_colourfulness": result.truth_colourfulness,
        # inf (identical images) is not JSON; write it as null
        "methods": {m: {k: (None if math.isinf(v) else v) for k, v in s.items()} for m, s in summary.items()},
    }


def markdown_table(result: EvalResult) -> str:
    summary = result.summary()
    lines = [
        f"{result.model_label} on {result.num_images} images of {result.config.images} "
        f"(split {result.config.split}); truth colourfulness "
        f"{result.truth_colourfulness:.1f}",
        "",
        "| method | " + " | ".join(title for _, title in _COLUMNS) + " |",
        "|---" * (len(_COLUMNS) + 1) + "|",
    ]
    for method, scores in summary.items():
        cells = [f"{scores[key]:.4f}" if key == "ssim" else f"{scores[key]:.2f}" for key, _ in _COLUMNS]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _label_band(names: list[str], height: int) -> np.ndarray:
    """A white uint8 column, as wide as the longest name, with each row's name in black."""
    sizes = [cv2.getTextSize(name, _LABEL_FONT, _LABEL_SCALE, 1)[0] for name in names]
    band = np.full((height * len(names), max(w for w, _ in sizes) + 2 * _LABEL_PAD, 3), 255, np.uint8)
    for i, (name, (_, text_height)) in enumerate(zip(names, sizes)):
        baseline = i * height + (height + text_height) // 2  # centred on its row
        cv2.putText(band, name, (_LABEL_PAD, baseline), _LABEL_FONT, _LABEL_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return band


def contact_sheet(result: EvalResult, height: int = 128) -> np.ndarray:
    """(H, W, 3) uint8 RGB: rows grayscale / each method / truth, each named in a column on the left,
    then one column per sampled image."""
    return sheet_image([(name, [im.astype(np.float32) for im in images]) for name, images in result.sheet_rows], height)


def sheet_image(rows: list[tuple[str, list[np.ndarray]]], height: int = 144) -> np.ndarray:
    """(H, W, 3) uint8 RGB: one row per (name, RGB pictures), each row named in a column on the left.

    Pictures are uint8, or float in [0, 1] (resized as float and rounded once, at the end).
    """
    pictures = []
    for _, images in rows:
        tiles = [cv2.resize(im, (max(1, round(im.shape[1] * height / im.shape[0])), height), interpolation=cv2.INTER_AREA)
                 for im in images]
        pictures.append(np.concatenate(tiles, axis=1))
    width = max(p.shape[1] for p in pictures)
    white = 255 if pictures[0].dtype == np.uint8 else 1.0
    sheet = np.concatenate([np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=white)
                            for p in pictures], axis=0)
    if sheet.dtype != np.uint8:
        sheet = (np.clip(sheet, 0, 1) * 255).round().astype(np.uint8)
    # beside the pictures, not over them: a label would hide the colours being compared
    return np.concatenate([_label_band([name for name, _ in rows], height), sheet], axis=1)


def plot_auc(result: EvalResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    thresholds = np.arange(AUC_MAX_THRESHOLD + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, rebalanced in zip(axes, (False, True)):
        for method, scores in result.methods.items():
            style = "--" if method == BASELINE else "-"
            ax.plot(thresholds, scores.auc.curve(rebalanced), style, label=f"{method} ({scores.auc.auc(rebalanced):.1f})")
        ax.set_title("class-rebalanced" if rebalanced else "raw")
        ax.set_xlabel("ab L2 threshold")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("fraction of pixels within threshold")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(result: EvalResult, out_dir: Path, stem: str = "eval") -> dict[str, Path]:
    """Write ``stem``.json, .md, _sheet.png and _auc.png into ``out_dir``; returns the paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / f"{stem}.json", "markdown": out_dir / f"{stem}.md",
        "sheet": out_dir / f"{stem}_sheet.png", "auc": out_dir / f"{stem}_auc.png",
    }
    paths["json"].write_text(json.dumps(to_json(result), indent=2) + "\n")
    paths["markdown"].write_text(markdown_table(result))
    cv2.imwrite(str(paths["sheet"]), cv2.cvtColor(contact_sheet(result), cv2.COLOR_RGB2BGR))
    plot_auc(result, paths["auc"])
    return paths
