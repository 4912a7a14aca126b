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
