"""`preview`: a sheet of pictures from across the film, grey beside colour."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import media
from vidcolor.errors import UsageError
from vidcolor.pipeline import ColorizeOptions
from vidcolor.pipeline.preview import preview, preview_times

TINY = ColorizeOptions(model="tiny", random_seed=0)


def test_preview_times_spread_over_the_film() -> None:
    assert preview_times(10.0, 4) == [1.25, 3.75, 6.25, 8.75]


@pytest.mark.parametrize("frames", [1, 5])
def test_sheet_has_the_requested_pictures(tmp_path, frames: int) -> None:
    src = media("bw/moviepy_chaplin.mp4")  # 640x360, 9.64 s
    result = preview(src, tmp_path / "sheet.png", TINY, frames=frames)
    assert len(result.times) == frames
    assert result.times == sorted(result.times) and len(set(result.times)) == frames
    assert all(0 <= t < 9.64 for t in result.times)
    sheet = cv2.imread(str(tmp_path / "sheet.png"))
    tile_h, gap = 270, 4  # 360 rows scaled to the 480-pixel tile width
    assert sheet.shape == (frames * tile_h + (frames - 1) * gap, 2 * 480 + gap, 3)
    grey, colour = sheet[:tile_h, 100:480].astype(int), sheet[:tile_h, 484 + 100:].astype(int)
    assert np.abs(grey[..., 0] - grey[..., 2]).max() <= 2  # left: the input, grey
    assert np.abs(colour[..., 0] - colour[..., 2]).mean() > 1  # right: coloured


def test_preview_refuses_zero_frames(tmp_path) -> None:
    with pytest.raises(UsageError):
        preview(media("bw/moviepy_chaplin.mp4"), tmp_path / "s.png", TINY, frames=0)


def test_preview_command(tmp_path) -> None:
    from vidcolor.cli.main import main

    out = tmp_path / "sheet.jpg"
    code = main(["preview", str(media("bw/moviepy_chaplin.mp4")), "-o", str(out), "--frames", "2",
                 "--model", "tiny", "--random-weights", "0"])
    assert code == 0 and cv2.imread(str(out)).shape[0] == 2 * 270 + 4


def test_colour_gain_from_the_command_line(tmp_path) -> None:
    """--colour-gain strengthens the colour of the same pictures (and 1 is the model's own)."""
    from vidcolor.cli.main import main

    sheets = {}
    for gain in ("1", "2"):
        sheets[gain] = tmp_path / f"sheet{gain}.png"
        assert main(["preview", str(media("bw/moviepy_chaplin.mp4")), "-o", str(sheets[gain]), "--frames", "2",
                     "--model", "tiny", "--random-weights", "0", "--colour-gain", gain]) == 0
    chroma = {g: np.abs(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2LAB)[..., 1:].astype(float) - 128).mean() for g, p in sheets.items()}
    assert chroma["2"] > 1.5 * chroma["1"] > 0


def test_neutral_shadows_turn_chaplins_maroon_coats_black() -> None:
    """The shipped model paints the policeman's and the tramp's coats maroon-brown (issue 11);
    --neutral-shadows 30:45 makes them near-neutral and leaves the lighter pavement its colour."""
    from vidcolor.engines import open_engine
    from vidcolor.media.seek import rgb_frames_at
    from vidcolor.models.loading import load_model
    from vidcolor.pipeline.image import colorize_rgb
    from vidcolor.pipeline.predict import render_plan

    (_, rgb), = rgb_frames_at(media("bw/moviepy_chaplin.mp4"), [101 / 25])
    model = load_model("lite")
    engine = open_engine(model, device="cpu", max_batch=1)
    boxes = {"policeman": (0.19, 0.27, 0.45, 0.62), "tramp": (0.47, 0.55, 0.45, 0.62), "pavement": (0.2, 0.45, 0.82, 0.95)}

    def mean_ab(shadows: str | None) -> dict[str, np.ndarray]:
        plan = render_plan(model, engine, ColorizeOptions(model="lite", neutral_shadows=shadows), *rgb.shape[:2])
        lab = cv2.cvtColor(colorize_rgb(engine, rgb, plan), cv2.COLOR_RGB2LAB).astype(float)
        h, w = rgb.shape[:2]
        return {k: lab[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w), 1:].mean((0, 1)) - 128
                for k, (x0, x1, y0, y1) in boxes.items()}

    plain, neutral = mean_ab(None), mean_ab("30:45")
    for coat in ("policeman", "tramp"):
        assert (plain[coat] > 3).all() and np.hypot(*plain[coat]) > 7  # warm: maroon-brown
        assert np.hypot(*neutral[coat]) < 4
    assert np.hypot(*neutral["pavement"]) > 0.6 * np.hypot(*plain["pavement"])
