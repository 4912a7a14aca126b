"""Colour references and keyframes (issue 12): parsing, the guide's maths, keyframes through shots, bad input."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from tests.conftest import media
from tests.streams import clip_prefix
from vidcolor.color.decoding import annealed_mean
from vidcolor.errors import UsageError
from vidcolor.media import EncodeOptions
from vidcolor.pipeline import ColorizeOptions, colorize
from vidcolor.reference.distributions import exact_distribution
from vidcolor.reference.guide import ReferenceGuide
from vidcolor.reference.load import LoadedReference
from vidcolor.reference.spec import RefTime, ReferenceSpec, parse_reference, parse_time, references_in_dir

FFV1 = EncodeOptions(codec="ffv1")
CHAPLIN = "bw/moviepy_chaplin.mp4"


# ---------------------------------------------------------------- pictures made for the tests


def colour_field(h: int, w: int, seed: int = 0, *, phase: float = 0.0) -> np.ndarray:
    """A smooth colour field over a textured luma, (h, w, 3) uint8 RGB: colours a 1/4-resolution grid can hold."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    lum = 55 + 20 * np.sin(x / 9 + phase) * np.cos(y / 7) + rng.normal(0, 2, (h, w))
    a = 35 * np.sin(x / w * np.pi + phase)
    b = 35 * np.cos(y / h * np.pi)
    lab = np.dstack([np.clip(lum, 5, 95), a, b]).astype(np.float32)
    return (np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1) * 255).round().astype(np.uint8)


def checkerboard(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    grey = np.where(((x // 16) + (y // 16)) % 2 == 0, 30, 220).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def write_grey_film(frames: list[np.ndarray], dst: Path, rate: int = 25) -> Path:
    """Black-and-white FFV1 film of RGB pictures (their luma, neutral chroma)."""
    with av.open(str(dst), "w") as c:
        s = c.add_stream("ffv1", rate=rate)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for rgb in frames:
            y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            c.mux(s.encode(av.VideoFrame.from_ndarray(y, format="gray").reformat(format="yuv420p")))
        c.mux(s.encode(None))
    return dst


def write_png(rgb: np.ndarray, dst: Path) -> Path:
    cv2.imwrite(str(dst), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return dst


def read_ab(path: Path) -> np.ndarray:
    """(N, H, W, 2) ab of a video's or image's pictures."""
    if path.suffix == ".png":
        rgbs = [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)]
    else:
        with av.open(str(path)) as c:
            rgbs = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return np.stack([cv2.cvtColor(r.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[..., 1:] for r in rgbs])


def ab_of(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[..., 1:]


def tiny(**kw: object) -> ColorizeOptions:
    return ColorizeOptions(model="tiny", random_seed=0, encode=FFV1, **kw)


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("12.5", RefTime(seconds=12.5), id="seconds"),
    pytest.param("01:02:03.250", RefTime(seconds=3723.25), id="hh:mm:ss.mmm"),
    pytest.param("02:03", RefTime(seconds=123.0), id="mm:ss"),
    pytest.param("00_01_02.5", RefTime(seconds=62.5), id="file-name-clock"),
    pytest.param("#120", RefTime(frame=120), id="frame"),
    pytest.param("frame120", RefTime(frame=120), id="file-name-frame"),
])
def test_times_parse(text: str, expected: RefTime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["soon", "1:2:3:4", "00:75:00", "-3", "#"])
def test_bad_times_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_time(text)


def test_reference_syntax_keeps_at_signs_in_names() -> None:
    assert parse_reference("photo.jpg") == ReferenceSpec(Path("photo.jpg"))
    assert parse_reference("key.png@#7") == ReferenceSpec(Path("key.png"), RefTime(frame=7))
    assert parse_reference("a@b/key.png@1.5") == ReferenceSpec(Path("a@b/key.png"), RefTime(seconds=1.5))
    assert parse_reference("photo@2x.png") == ReferenceSpec(Path("photo@2x.png"))


def test_library_options_take_strings_and_fingerprint_the_content(tmp_path: Path) -> None:
    from vidcolor.jobs.plan import output_options

    key = write_png(colour_field(36, 64), tmp_path / "key.png")
    options = ColorizeOptions(references=f"{key}@#3")
    assert options.references == (ReferenceSpec(key, RefTime(frame=3)),)
    before = output_options(options)["references"]
    write_png(colour_field(36, 64, seed=1), key)
    assert output_options(options)["references"] != before  # same name, new colours: a new job


def test_a_folder_of_keyframes_is_named_by_time(tmp_path: Path) -> None:
    for name in ("#4.png", "00_00_01.5.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    specs = references_in_dir(tmp_path)
    assert [s.at for s in specs] == [RefTime(frame=4), RefTime(seconds=1.5)]
    (tmp_path / "holiday.png").write_bytes(b"")
    with pytest.raises(UsageError, match="not named by a time"):
        references_in_dir(tmp_path)


# ---------------------------------------------------------------- the guide's maths


def test_exact_distribution_decodes_back_to_its_colour() -> None:
    torch.manual_seed(0)
    ab = (torch.rand(1, 2, 8, 8) - 0.5) * 80  # well inside the gamut for every L
    for temperature in (0.38, 0.6, 1.0):
        torch.testing.assert_close(annealed_mean(exact_distribution(ab, temperature), temperature), ab, atol=1e-3, rtol=0)


def _probs(seed: int = 0, shape: tuple[int, ...] = (2, 313, 12, 12)) -> torch.Tensor:
    return torch.softmax(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 3, dim=1)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def test_a_pure_grey_reference_changes_nothing() -> None:
    grey = LoadedReference(ReferenceSpec(Path("grey.png")), _lab(np.full((24, 24, 3), 128, np.uint8)), None)
    grey_key = LoadedReference(ReferenceSpec(Path("grey.png"), RefTime(frame=0)), grey.lab, 0)
    probs = _probs()
    l_low = torch.rand(2, 1, 12, 12) - 0.5
    out = ReferenceGuide([grey, grey_key], temperature=0.38)(probs, l_low, None, [0, 1])
    assert torch.equal(out, probs)


def test_a_palette_that_matches_nothing_changes_nothing() -> None:
    # a bright reference and dark pictures: no reference position is near in L
    bright = _lab(np.dstack([np.full((24, 24), 250), np.full((24, 24), 200), np.full((24, 24), 120)]).astype(np.uint8))
    guide = ReferenceGuide([LoadedReference(ReferenceSpec(Path("sun.png")), bright, None)], temperature=0.38)
    probs = _probs()
    dark = torch.full((2, 1, 12, 12), -0.45)  # L* 5
    out = guide(probs, dark, None, None)
    assert (out - probs).abs().max() < 1e-3


def test_a_palette_steers_towards_its_colours() -> None:
    red = _lab(np.dstack([np.full((24, 24), 200), np.full((24, 24), 40), np.full((24, 24), 40)]).astype(np.uint8))
    guide = ReferenceGuide([LoadedReference(ReferenceSpec(Path("red.png")), red, None)], temperature=0.38)
    probs = _probs()
    l_low = torch.full((2, 1, 12, 12), (float(red[0, 0, 0]) - 50) / 100)
    before, after = annealed_mean(probs, 0.38), annealed_mean(guide(probs, l_low, None, None), 0.38)
    target = torch.tensor(red[0, 0, 1:]).view(1, 2, 1, 1)
    assert (after - target).norm(dim=1).mean() < 0.5 * (before - target).norm(dim=1).mean()


# ---------------------------------------------------------------- keyframes through the pipeline


@pytest.mark.parametrize("temporal", ["ema", "off"])
def test_a_keyframe_on_a_static_clip_reproduces_its_colours(tmp_path: Path, temporal: str) -> None:
    """Before, at and after the keyframe, with the smoother on: within 2 ab units everywhere."""
    truth = colour_field(96, 128)
    film = write_grey_film([truth] * 12, tmp_path / "film.mkv")
    key = write_png(truth, tmp_path / "key.png")
    colorize(film, tmp_path / "out.mkv", tiny(references=(f"{key}@#6",), temporal=temporal))
    err = np.linalg.norm(read_ab(tmp_path / "out.mkv") - ab_of(truth)[None], axis=-1)
    assert err.mean(axis=(1, 2)).max() < 2.0, err.mean(axis=(1, 2))


def test_a_scene_cut_stops_a_keyframe(tmp_path: Path) -> None:
    first, second = colour_field(96, 128), checkerboard(96, 128)
    film = write_grey_film([first] * 6 + [second] * 6, tmp_path / "film.mkv")
    key = write_png(first, tmp_path / "key.png")
    colorize(film, tmp_path / "plain.mkv", tiny())
    colorize(film, tmp_path / "keyed.mkv", tiny(references=(f"{key}@#2",)))
    plain, keyed = read_ab(tmp_path / "plain.mkv"), read_ab(tmp_path / "keyed.mkv")
    assert np.linalg.norm(keyed[:6] - ab_of(first)[None], axis=-1).mean() < 2.0  # its own shot: the keyframe's colours
    assert np.abs(keyed[6:] - plain[6:]).max() < 1.0  # after the cut: exactly what the network alone gives


def test_two_keyframes_in_a_shot_blend_by_time(tmp_path: Path) -> None:
    a = colour_field(96, 128)
    b = recoloured(a)
    film = write_grey_film([a] * 9, tmp_path / "film.mkv")
    colorize(film, tmp_path / "out.mkv", tiny(references=(f"{write_png(a, tmp_path / 'a.png')}@#0",
                                                          f"{write_png(b, tmp_path / 'b.png')}@#8"), temporal="off"))
    out = read_ab(tmp_path / "out.mkv")
    ab_a, ab_b = ab_of(a), ab_of(b)
    assert np.linalg.norm(out[0] - ab_a, axis=-1).mean() < 2.0
    assert np.linalg.norm(out[8] - ab_b, axis=-1).mean() < 2.0
    middle = np.linalg.norm(out[4] - (ab_a + ab_b) / 2, axis=-1).mean()
    assert middle < min(np.linalg.norm(out[4] - ab_a, axis=-1).mean(), np.linalg.norm(out[4] - ab_b, axis=-1).mean())


def recoloured(rgb: np.ndarray) -> np.ndarray:
    """The same picture with its chroma turned by 180 degrees (same luma, other colours)."""
    lab = _lab(rgb)
    lab[..., 1:] *= -1
    return (np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1) * 255).round().astype(np.uint8)


@pytest.mark.slow
def test_split_job_equals_plain_run_with_a_keyframe_across_the_boundary(tmp_path: Path) -> None:
    from vidcolor.media import probe
    from vidcolor.media.segments import scan_frames
    from vidcolor.jobs import colorize_job
    from vidcolor.jobs.plan import JobOptions
    from vidcolor.reference.shots import scan_shots

    src = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 3.0)
    with av.open(str(src)) as c:
        grey = [f.to_ndarray(format="rgb24") for _, f in zip(range(11), c.decode(video=0))][10]
    lab = _lab(grey)
    lab[..., 1], lab[..., 2] = 25.0, -20.0  # the archivist's colouring of picture 10
    key_rgb = (np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1) * 255).round().astype(np.uint8)
    key = write_png(key_rgb, tmp_path / "key.png")
    plan = scan_shots(src, probe(src).video, scan_frames(src).pts, (10,))
    assert plan.shot_of(60) == plan.shot_of(10)  # the keyframe's shot runs through the segment boundaries at 25 and 50
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=16, encode=FFV1, references=(f"{key}@#10",))
    colorize(src, tmp_path / "plain.mkv", options)
    colorize_job(src, tmp_path / "split.mkv", options, JobOptions(segment_seconds=1.0))
    from tests.test_segments import assert_same_film

    # the same tolerance as the split test without references (batch regrouping changes float rounding)
    assert_same_film(tmp_path / "plain.mkv", tmp_path / "split.mkv", lossless=True, chroma_tolerance=1)
    ab = read_ab(tmp_path / "split.mkv")
    # judged on mid-tones, where sRGB holds that colour at the film's own L (near black and white it cannot)
    mid = (lab[..., 0] > 35) & (lab[..., 0] < 80)
    assert mid.mean() > 0.2
    assert np.linalg.norm(ab[10] - [25.0, -20.0], axis=-1)[mid].mean() < 3.0
    assert np.linalg.norm(ab[60] - [25.0, -20.0], axis=-1)[mid].mean() < 6.0  # carried into the third segment


# ---------------------------------------------------------------- stills and previews


def test_a_still_image_takes_a_palette_and_a_keyframe(tmp_path: Path) -> None:
    from vidcolor.pipeline.image import colorize_image

    truth = colour_field(96, 128)
    grey = write_png(np.repeat(cv2.cvtColor(truth, cv2.COLOR_RGB2GRAY)[..., None], 3, -1), tmp_path / "grey.png")
    key = write_png(truth, tmp_path / "key.png")
    colorize_image(grey, tmp_path / "keyed.png", tiny(references=(f"{key}@0",)))
    assert np.linalg.norm(read_ab(tmp_path / "keyed.png")[0] - ab_of(truth), axis=-1).mean() < 2.5
    colorize_image(grey, tmp_path / "plain.png", tiny())
    colorize_image(grey, tmp_path / "palette.png", tiny(references=(str(key),)))
    plain, palette = (np.linalg.norm(read_ab(tmp_path / n)[0] - ab_of(truth), axis=-1).mean() for n in ("plain.png", "palette.png"))
    assert palette < plain
    with pytest.raises(UsageError, match="outside the film"):
        colorize_image(grey, tmp_path / "late.png", tiny(references=(f"{key}@3",)))


def test_preview_shows_each_keyframe_as_the_run_colours_it(tmp_path: Path, caplog) -> None:
    from vidcolor.pipeline.preview import preview

    truth = colour_field(96, 128)
    film = write_grey_film([truth] * 20, tmp_path / "film.mkv")
    key = write_png(truth, tmp_path / "key.png")
    result = preview(film, tmp_path / "sheet.png", tiny(references=(f"{key}@#10", str(key))), frames=2)
    assert len(result.times) == 3  # two pictures from across the film and the keyframe's
    assert result.times[-1] == pytest.approx(10 / 25)
    assert "carries keyframes through their shots" in caplog.text  # the other rows do not show it


# ---------------------------------------------------------------- bad input


def _bad_cases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    good = write_png(colour_field(36, 64), tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    grey = write_png(np.full((36, 64, 3), 120, np.uint8), tmp_path / "grey.png")
    square = write_png(colour_field(64, 64), tmp_path / "square.png")
    return {
        "missing": (str(tmp_path / "absent.png"), "does not exist"),
        "unreadable": (str(tmp_path / "broken.png"), "cannot read"),
        "no-colour": (str(grey), "no colour"),
        "time-outside": (f"{good}@99", "outside the film"),
        "frame-outside": (f"{good}@#100000", "outside the film"),
        "aspect": (f"{square}@#3", "aspect"),
    }


@pytest.mark.parametrize("case", ["missing", "unreadable", "no-colour", "time-outside", "frame-outside", "aspect"])
def test_bad_references_fail_before_any_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    import sys

    pipeline = sys.modules["vidcolor.pipeline.colorize"]  # the package re-exports a function of that name

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoding or model loading started before the references were checked")

    monkeypatch.setattr(pipeline, "FrameReader", must_not_run)
    monkeypatch.setattr(pipeline, "open_model_engine", must_not_run)
    ref, message = _bad_cases(tmp_path)[case]
    film = media(CHAPLIN)
    with pytest.raises(UsageError, match=message) as info:
        colorize(film, tmp_path / "out.mkv", tiny(references=(ref,)))
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out.mkv").exists()


@pytest.mark.parametrize("case", ["missing", "no-colour", "time-outside", "aspect"])
def test_bad_references_are_one_line_through_the_command(tmp_path: Path, case: str) -> None:
    from tests.test_cli_errors import assert_clean_failure, vidcolor_cli

    out = tmp_path / "out"
    out.mkdir()
    ref, message = _bad_cases(tmp_path)[case]
    proc = vidcolor_cli("run", str(media(CHAPLIN)), "-o", str(out / "c.mp4"), "--random-weights", "0", "--reference", ref)
    assert_clean_failure(proc, out)
    assert message in proc.stderr


def test_the_command_takes_a_folder_of_keyframes(tmp_path: Path) -> None:
    """`vidcolor run --references DIR` with keyframes named by frame and by time, through the real command."""
    import subprocess

    from tests.test_segments import CLI

    truth = colour_field(96, 128)
    film = write_grey_film([truth] * 12, tmp_path / "film.mkv")
    keys = tmp_path / "keys"
    keys.mkdir()
    write_png(truth, keys / "#2.png")
    write_png(truth, keys / "00_00_00.4.png")  # 0.4 s = picture 10 at 25 fps
    proc = subprocess.run([*CLI, "run", str(film), "-o", str(tmp_path / "out.mkv"), "--model", "tiny", "--random-weights", "0",
                           "--codec", "ffv1", "-q", "--references", str(keys)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    err = np.linalg.norm(read_ab(tmp_path / "out.mkv") - ab_of(truth)[None], axis=-1)
    assert err.mean() < 2.0


def test_keyframes_are_chosen_by_shot_and_prepared_lazily() -> None:
    from vidcolor.reference.shots import ShotPlan

    lab = _lab(colour_field(24, 32))
    frames = [5, 12, 18] + list(range(40, 100, 5))
    refs = [LoadedReference(ReferenceSpec(Path(f"{f}.png"), RefTime(frame=f)), lab, f) for f in frames]
    shots = ShotPlan(cuts=(0, 10, 20, 30), key_l={f: lab[..., 0] for f in frames})
    guide = ReferenceGuide(refs, temperature=0.38, shots=shots)
    guide._prepare((6, 8))

    def chosen(frame: int) -> list[tuple[int, float]]:
        return [(k.frame, round(w, 3)) for k, w in guide._keyframes_for(frame)]

    assert chosen(3) == [(5, 1.0)]  # before the shot's only keyframe: carried back
    assert chosen(9) == [(5, 1.0)]
    assert chosen(10) == [(12, 1.0)]  # a new shot
    assert chosen(15) == [(12, 0.5), (18, 0.5)]  # between two keyframes of one shot: blended by time
    assert chosen(18) == [(18, 1.0)]
    assert chosen(25) == []  # a shot without a keyframe keeps the network's colour
    assert chosen(50) == [(50, 1.0)]
    for f in range(30, 100):
        guide._keyframes_for(f)
    assert len(guide._built) <= 4  # a long run through many shots keeps a few prepared, not all


def test_references_reweight_before_the_smoother_sees_the_distributions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """softmax -> references -> smoother -> decode, through the stream: the smoother averages guided distributions."""
    import sys

    import vidcolor.reference.build as build

    pipeline = sys.modules["vidcolor.pipeline.colorize"]
    calls: list[str] = []
    outputs: list[torch.Tensor] = []

    def guide(probs: torch.Tensor, l_low: torch.Tensor, l_full: torch.Tensor, frames: list[int] | None) -> torch.Tensor:
        calls.append("reference")
        torch.testing.assert_close(probs.sum(dim=1), torch.ones_like(probs[:, 0]))  # already a softmax
        assert frames is not None and len(frames) == probs.shape[0]
        out = torch.zeros_like(probs)
        out[:, 7] = 1.0
        outputs.append(out)
        return out

    def smoother(probs: torch.Tensor, l_low: torch.Tensor) -> torch.Tensor:
        calls.append("smoother")
        assert probs is outputs[-1]
        return probs

    monkeypatch.setattr(build, "video_guide", lambda *args, **kwargs: (guide, lambda pts: 0))
    monkeypatch.setattr(pipeline, "_make_smoother", lambda options: smoother)
    truth = colour_field(96, 128)
    film = write_grey_film([truth] * 4, tmp_path / "film.mkv")
    colorize(film, tmp_path / "out.mkv", tiny(references=(str(write_png(truth, tmp_path / "key.png")),), batch_size=2))
    assert calls == ["reference", "smoother"] * 2


def test_a_keyframe_in_a_moving_shot_holds_at_its_frame_and_neighbours(tmp_path: Path) -> None:
    """A slow pan, smoother on: the keyframe's picture and the ones next to it keep its colours."""
    canvas = colour_field(96, 200)
    frames = [np.ascontiguousarray(canvas[:, 3 * i : 3 * i + 128]) for i in range(13)]
    film = write_grey_film(frames, tmp_path / "film.mkv")
    key = write_png(frames[6], tmp_path / "key.png")
    colorize(film, tmp_path / "out.mkv", tiny(references=(f"{key}@#6",)))
    out = read_ab(tmp_path / "out.mkv")
    err = [float(np.linalg.norm(out[i] - ab_of(frames[i]), axis=-1).mean()) for i in range(13)]
    assert err[6] < 2.0, err
    assert max(err[5], err[7]) < 3.0, err
    assert max(err) < 6.0, err  # the whole shot, both ways


@pytest.mark.slow
def test_ray_workers_carry_a_keyframe_given_by_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers run in other folders and find each keyframe's shot themselves: same film as one process."""
    pytest.importorskip("ray", reason="Ray is the optional vidcolor[cluster] extra")
    monkeypatch.setenv("RAY_memory_monitor_refresh_ms", "0")
    from tests.conftest import _register_tiny
    from tests.test_segments import ROOT, assert_same_film
    from vidcolor.cluster import RayRunner
    from vidcolor.jobs import colorize_job
    from vidcolor.jobs.plan import JobOptions

    src = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 3.0)
    with av.open(str(src)) as c:
        grey = [f.to_ndarray(format="rgb24") for _, f in zip(range(11), c.decode(video=0))][10]
    lab = _lab(grey)
    lab[..., 1], lab[..., 2] = -20.0, 30.0
    write_png((np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1) * 255).round().astype(np.uint8), tmp_path / "key.png")
    monkeypatch.chdir(tmp_path)
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=16, encode=FFV1, references=("key.png@#10",))
    runner = RayRunner("local", workers=2, setup=_register_tiny, runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    colorize_job(src, tmp_path / "ray.mkv", options, JobOptions(segment_seconds=1.0), runner=runner)
    colorize(src, tmp_path / "plain.mkv", options)
    assert_same_film(tmp_path / "plain.mkv", tmp_path / "ray.mkv", lossless=True, chroma_tolerance=1)
