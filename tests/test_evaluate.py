"""Evaluation metrics on images with known answers, the guided upsampler, and a small end-to-end report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidcolor.color.upsample import guided_upsample_ab
from vidcolor.evaluate import EvalConfig, evaluate, write_report
from vidcolor.evaluate.report import contact_sheet
from vidcolor.evaluate.runner import EvalResult
from vidcolor.evaluate.metrics import AucAccumulator, colourfulness, mean_ciede2000, psnr, ssim_rgb
from vidcolor.models import load_model


@pytest.fixture
def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.random((24, 32, 3))


def test_identical_images(photo: np.ndarray) -> None:
    assert psnr(photo, photo) == math.inf
    assert ssim_rgb(photo, photo) == pytest.approx(1.0)
    lab = cv2.cvtColor(photo.astype(np.float32), cv2.COLOR_RGB2Lab).astype(np.float64)
    assert mean_ciede2000(lab, lab) == 0.0


def test_psnr_known_value(photo: np.ndarray) -> None:
    shifted = np.clip(photo, 0.1, 0.9) + 0.1  # every sample off by exactly 0.1
    assert psnr(shifted, np.clip(photo, 0.1, 0.9)) == pytest.approx(20.0)


def test_colourfulness() -> None:
    assert colourfulness(np.full((8, 8, 3), 0.3)) == 0.0
    red = np.zeros((8, 8, 3))
    red[..., 0] = 1.0
    # rg = 255, yb = 127.5 everywhere: no spread, so M = 0.3 * |(255, 127.5)|
    assert colourfulness(red) == pytest.approx(0.3 * math.hypot(255, 127.5))


def test_auc_perfect_wrong_and_rebalanced() -> None:
    truth = torch.zeros(1, 2, 10, 10)
    truth[..., 0, :] = torch.tensor([60.0, 40.0]).view(1, 2, 1)  # one row of a rare colour
    perfect = AucAccumulator()
    perfect.add(truth, truth)
    assert perfect.auc() == 100.0 and perfect.auc(rebalanced=True) == 100.0
    # grey everywhere: the 90 grey pixels are exact, the 10 coloured ones 72 off
    grey = AucAccumulator()
    grey.add(torch.zeros_like(truth), truth)
    off = math.hypot(60, 40)
    coloured_auc = (150 - math.ceil(off) + 1) / 151  # fraction of thresholds 0..150 with error <= t
    assert grey.auc() == pytest.approx(100 * (0.9 + 0.1 * coloured_auc))
    assert grey.auc(rebalanced=True) == pytest.approx(100 * (1 + coloured_auc) / 2)  # each bin counts once
    far = AucAccumulator()
    far.add(truth + 200, truth)
    assert far.auc() == 0.0


def test_guided_upsample_keeps_flat_ab_and_follows_edges() -> None:
    l_full = torch.full((1, 1, 32, 32), 50.0)
    flat = torch.tensor([20.0, -30.0]).view(1, 2, 1, 1).expand(1, 2, 8, 8)
    assert torch.allclose(guided_upsample_ab(flat, l_full), flat.mean(dim=(2, 3), keepdim=True).expand(1, 2, 32, 32), atol=1e-4)
    # a step edge in L at column 16 with colour only on the bright side
    l_full[..., 16:] = 90.0
    ab = torch.zeros(1, 2, 8, 8)
    ab[..., 4:] = 40.0
    up = guided_upsample_ab(ab, l_full, eps=1.0)
    bilinear = torch.nn.functional.interpolate(ab, size=(32, 32), mode="bilinear", align_corners=False)
    # just left of the edge (dark side), the guided result bleeds less colour than bilinear
    assert up[0, 0, 16, 15] < bilinear[0, 0, 16, 15]


def test_evaluate_writes_report(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for i, colour in enumerate([(200, 40, 40), (40, 160, 60), (50, 80, 200)]):
        image = np.full((40, 56, 3), colour, np.uint8)
        image[:, :20] = 128
        cv2.imwrite(str(images / f"{i}.png"), image[:, :, ::-1])
    config = EvalConfig(images, temperatures=(0.38, 1.0), upsample=("bilinear", "guided"), device="cpu")
    result = evaluate(config, model=load_model("lite", random_seed=0))
    assert result.num_images == 3
    assert set(result.methods) == {"grayscale", "T=0.38", "T=1", "T=0.38 guided", "T=1 guided"}
    assert result.best_temperature() in (0.38, 1.0)
    paths = write_report(result, tmp_path / "out")
    report = json.loads(paths["json"].read_text())
    assert report["methods"]["grayscale"]["colourfulness"] < 0.01  # ab = 0, up to Lab round-off
    assert "| grayscale |" in paths["markdown"].read_text()
    sheet = cv2.imread(str(paths["sheet"]))
    assert sheet.shape[0] == 6 * 128  # grayscale, two temperatures x two upsamplers, truth
    assert sheet.shape[1] > 3 * round(56 * 128 / 40)  # the row names before the three pictures
    assert paths["auc"].stat().st_size > 0


def test_contact_sheet_names_each_row_beside_the_pictures(tmp_path: Path) -> None:
    shades = {"grayscale": 0.5, "T=0.38 guided": 0.2, "truth": 0.8}
    rows = [(name, [np.full((40, 56, 3), v, np.float32), np.full((40, 80, 3), v, np.float32)]) for name, v in shades.items()]
    result = EvalResult(EvalConfig(tmp_path), "test", 2, {}, 0.0, rows)
    sheet = contact_sheet(result, height=64)
    pictures = round(56 * 64 / 40) + 128
    band = sheet.shape[1] - pictures
    assert sheet.shape[0] == 3 * 64 and band > 0
    labels = []
    for i, v in enumerate(shades.values()):
        row = sheet[i * 64 : (i + 1) * 64]
        assert (row[:, band:] == round(v * 255)).all()  # the pictures are untouched
        label = row[:, :band]
        assert label.max() == 255 and label.min() < 64  # dark text on white
        labels.append(label)
    assert not np.array_equal(labels[0], labels[1]) and not np.array_equal(labels[1], labels[2])
    assert cv2.imwrite(str(tmp_path / "sheet.png"), sheet)
