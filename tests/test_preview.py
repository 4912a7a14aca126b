"""`preview`: a sheet of pictures from across the film, grey beside colour."""

from __future__ import annotations

import dataclasses

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


def test_keyframe_names_read_back_as_their_times() -> None:
    from vidcolor.pipeline.preview import keyframe_name
    from vidcolor.reference.spec import parse_time

    assert keyframe_name(4.04) == "00_00_04.040"
    assert keyframe_name(3725.5) == "01_02_05.500"
    for t in (0.0, 4.04, 59.9996, 3725.5):
        assert abs(parse_time(keyframe_name(t)).seconds - t) < 5e-4


def test_saved_keyframes_are_the_coloured_pictures_references_dir_reads(tmp_path) -> None:
    """--at picks the pictures; --save-keyframes writes each coloured one at full size, with the
    film's own lightness, named so that --references DIR places it on that very picture."""
    from vidcolor.media import probe
    from vidcolor.media.seek import rgb_frames_at
    from vidcolor.reference.build import check_video_references
    from vidcolor.reference.spec import references_in_dir

    src = media("bw/moviepy_chaplin.mp4")  # 25 fps
    keys = tmp_path / "keys"
    result = preview(src, tmp_path / "sheet.png", TINY, times=[4.0, 1.5], save_keyframes=keys)
    assert [round(t, 2) for t in result.times] == [4.0, 1.52]
    assert [p.name for p in result.keyframes] == ["00_00_01.520.png", "00_00_04.000.png"]
    refs = check_video_references(src, probe(src).video, references_in_dir(keys))
    assert sorted(r.frame for r in refs.loaded) == [38, 100]
    for path, t in zip(result.keyframes, (1.52, 4.0)):
        (_, grey), = rgb_frames_at(src, [t])
        saved = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        assert saved.shape == grey.shape
        ycc, film = (cv2.cvtColor(im, cv2.COLOR_RGB2YCrCb).astype(int) for im in (saved, grey))
        assert np.corrcoef(ycc[..., 0].ravel(), film[..., 0].ravel())[0, 1] > 0.99  # the film's picture, coloured
        assert np.abs(ycc[..., 1:] - 128).mean() > 1
    with pytest.raises(UsageError, match="already exists"):
        preview(src, tmp_path / "sheet2.png", TINY, times=[4.0], save_keyframes=keys)
    assert preview(src, tmp_path / "sheet2.png", dataclasses.replace(TINY, overwrite=True),
                   times=[4.0], save_keyframes=keys).keyframes == [keys / "00_00_04.000.png"]


def test_pictures_by_number_as_keyframes_name_them(tmp_path) -> None:
    from vidcolor.reference.spec import RefTime

    result = preview(media("bw/moviepy_chaplin.mp4"), tmp_path / "s.png", TINY, times=[RefTime(frame=100), 1.52])
    assert [round(t, 2) for t in result.times] == [4.0, 1.52]  # 25 fps: picture 100 is at 4 s


def test_preview_refuses_a_time_outside_the_film(tmp_path) -> None:
    with pytest.raises(UsageError, match="outside the film"):
        preview(media("bw/moviepy_chaplin.mp4"), tmp_path / "s.png", TINY, times=[12.0])


def test_sheet_shows_pictures_as_a_player_does() -> None:
    from vidcolor.media.seek import as_displayed

    picture = np.zeros((360, 640, 3), np.uint8)
    picture[0, 0] = 255  # top left
    assert as_displayed(picture, 2.0, 0).shape == (360, 1280, 3)  # SAR 2:1, stretched, never shrunk
    assert as_displayed(picture, 0.5, 0).shape == (720, 640, 3)
    turned = as_displayed(picture, 1.0, -90)  # -90: turned clockwise, as ffmpeg's autorotate
    assert turned.shape == (640, 360, 3) and turned[0, -1, 0] == 255


@pytest.mark.slow
def test_a_touched_up_keyframe_carries_black_coats_through_chaplins_shot(tmp_path) -> None:
    """The archivist's loop on real film (issue 11): the shipped model paints the coats maroon-brown;
    one picture saved by preview with its shadows neutral, passed back with --references, makes the
    dark clothes near-grey 4.5 s away from it too."""
    from vidcolor.engines import open_engine
    from vidcolor.media.seek import rgb_frames_at
    from vidcolor.models.loading import load_model
    from vidcolor.pipeline import colorize
    from vidcolor.pipeline.image import colorize_rgb
    from vidcolor.pipeline.predict import render_plan
    from vidcolor.reference.spec import references_in_dir

    src = media("bw/moviepy_chaplin.mp4")
    keys = tmp_path / "keys"
    preview(src, tmp_path / "sheet.png", ColorizeOptions(model="lite", neutral_shadows="30:45"), times=[4.0],
            save_keyframes=keys)
    colorize(src, tmp_path / "out.mp4", ColorizeOptions(model="lite", references=tuple(references_in_dir(keys))))
    (_, film), = rgb_frames_at(src, [8.5])
    (_, keyed), = rgb_frames_at(tmp_path / "out.mp4", [8.5])
    model = load_model("lite")
    engine = open_engine(model, device="cpu", max_batch=1)
    plain = colorize_rgb(engine, film, render_plan(model, engine, ColorizeOptions(model="lite"), *film.shape[:2]))

    lightness = cv2.cvtColor(film, cv2.COLOR_RGB2LAB)[..., 0].astype(float) * 100 / 255
    dark = (lightness > 15) & (lightness < 40)  # coats, trousers, the lawns' shade: about 28 % of the picture

    def dark_chroma(rgb: np.ndarray) -> float:
        ab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 1:].astype(float) - 128
        return float(np.hypot(ab[..., 0], ab[..., 1])[dark].mean())

    assert dark.mean() > 0.2
    assert dark_chroma(plain) > 6 and dark_chroma(keyed) < 3.5


def test_a_keyframe_of_a_rotated_film_colours_the_picture_the_way_it_was_painted(tmp_path) -> None:
    """Keyframes are painted on the picture as a player shows it (turned by the display rotation); the
    pipeline colours the decoded, unturned pictures, and must put the colour where it was painted."""
    from tests.streams import clip_prefix
    from vidcolor.media.seek import as_displayed, rgb_frames_at
    from vidcolor.pipeline import colorize
    from vidcolor.reference.spec import references_in_dir

    film = clip_prefix(media("edge/pyscenedetect_issue-134-rotate.mp4"), tmp_path / "rotated.mp4", 1.0)  # -90
    keys = tmp_path / "keys"
    key, = preview(film, tmp_path / "sheet.png", TINY, times=[0.5], save_keyframes=keys).keyframes
    shown = cv2.imread(str(key))
    assert shown.shape[:2] == (1280, 544)  # portrait, as played
    lab = cv2.cvtColor(shown, cv2.COLOR_BGR2LAB)
    lab[:640, :, 1:] = (170, 150)  # paint the top half red
    lab[640:, :, 1:] = (140, 80)  # and the bottom half blue
    cv2.imwrite(str(key), cv2.cvtColor(lab, cv2.COLOR_LAB2BGR))
    colorize(film, tmp_path / "out.mp4", dataclasses.replace(TINY, references=tuple(references_in_dir(keys))))
    (_, out), = rgb_frames_at(tmp_path / "out.mp4", [0.5])
    ab = cv2.cvtColor(as_displayed(out, 1.0, -90), cv2.COLOR_RGB2LAB)[..., 1:].astype(float) - 128
    top, bottom = ab[100:540].mean((0, 1)), ab[740:1180].mean((0, 1))
    assert top[0] > bottom[0] + 5 and bottom[1] < top[1] - 10
