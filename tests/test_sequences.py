"""Film scans as image sequences: numbered DPX, TIFF and PNG stills in, video files or stills out.

The stills are made here from a shared clip with PyAV (a few small pictures), with R = G = B,
as a scanner delivers black-and-white film: the grey the model sees and the output keeps
is that value, at the scan's own depth.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import media
from tests.corpus import CliRunner

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--model", "tiny", "--random-weights", "0", "--batch-size", "4", "-q"]
W, H = 96, 54
DPX_NUMBERS = [1, 2, 3, 4, 6, 7, 8, 9]  # 5 is missing: a gap stays a gap


# forked from a warm process: each case skips the seconds of imports a fresh interpreter pays
_RUNNER = CliRunner(("vidcolor.cli.app", "tests.conftest"))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``vidcolor ARGS``; its stdout and stderr come back together, as both."""
    log = Path(tempfile.mkdtemp(prefix="vidcolor-cli-")) / "log.txt"
    code, out, _ = _RUNNER.run(list(args), timeout=300, log_path=log)
    shutil.rmtree(log.parent)
    assert code is not None, f"vidcolor {' '.join(args)} ran past 300 s"
    return subprocess.CompletedProcess(args, code, out, out)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("vidcolor: error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


@pytest.fixture(scope="module")
def greys() -> list[np.ndarray]:
    """Eight small pictures of the Chaplin clip as full-range grey in [0, 1]."""
    out = []
    with av.open(str(media("bw/moviepy_chaplin.mp4"))) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i >= 8:
                break
            y = frame.reformat(width=W, height=H, format="gray").to_ndarray().astype(np.float64)
            out.append(np.clip((y - 16) / 219, 0, 1))
    return out


def grey_codes(grey: np.ndarray, bits: int) -> np.ndarray:
    return np.rint(grey * ((1 << bits) - 1)).astype(np.uint16 if bits > 8 else np.uint8)


def write_stills(folder: Path, name: str, codec: str, pix_fmt: str, bits: int, numbers: list[int], greys: list[np.ndarray]) -> Path:
    """Numbered RGB stills with R = G = B (a black-and-white scan)."""
    folder.mkdir(parents=True)
    for n, grey in zip(numbers, greys):
        v = grey_codes(grey, bits)
        frame = av.VideoFrame.from_ndarray(np.stack([v, v, v], axis=-1), format=pix_fmt)
        cc = av.CodecContext.create(codec, "w")
        cc.width, cc.height, cc.pix_fmt, cc.time_base = W, H, pix_fmt, Fraction(1, 24)
        cc.open()
        (folder / (name % n)).write_bytes(b"".join(bytes(p) for p in [*cc.encode(frame), *cc.encode(None)]))
    return folder


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory, greys: list[np.ndarray]) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scans")
    return {
        "dpx": write_stills(root / "dpx", "scan_%06d.dpx", "dpx", "gbrp10le", 10, DPX_NUMBERS, greys),
        "tiff": write_stills(root / "tiff", "reel1.%04d.tif", "tiff", "rgb48le", 16, list(range(1001, 1009)), greys),
        "png": write_stills(root / "png", "f%d.png", "png", "rgb24", 8, list(range(8, 14)), greys),
    }


def video_frames(path: Path) -> tuple[str, Fraction, list[int], list[np.ndarray]]:
    """pix_fmt, time base, pts and (3, H, W) planes of a video file."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        frames = list(c.decode(vs))
        fmt = vs.codec_context.pix_fmt
        dtype = np.uint16 if fmt.endswith("le") else np.uint8
        planes = [np.stack([np.frombuffer(p, dtype=dtype).reshape(p.height, -1)[:, : p.width] for p in f.planes]) for f in frames]
        return fmt, vs.time_base, [f.pts for f in frames], planes


def still_rgb(path: Path) -> tuple[str, np.ndarray]:
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        return frame.format.name, frame.to_ndarray()


def bt709_grey(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float64)
    return 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]


# ---- sequences to video files ------------------------------------------------------------------


def test_dpx_folder_to_ffv1_keeps_10_bit_grey_and_the_gap(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path) -> None:
    dst = tmp_path / "film.mkv"
    proc = cli("run", str(scans["dpx"]), "-o", str(dst), "--codec", "ffv1", *TINY)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("missing (5)") == 1  # one warning naming the gap
    fmt, tb, pts, planes = video_frames(dst)
    assert fmt == "yuv444p10le"
    assert [round(float(p * tb) * 24) for p in pts] == [n - 1 for n in DPX_NUMBERS]
    for grey, yuv in zip(greys, planes):
        assert np.array_equal(yuv[0], grey_codes(grey, 10)), "the 10-bit grey changed"
    assert [p.name for p in tmp_path.iterdir()] == ["film.mkv"]


def test_tiff_16_bit_pattern_to_ffv1_stays_16_bit(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path) -> None:
    dst = tmp_path / "film.mkv"
    proc = cli("run", str(scans["tiff"] / "reel1.%04d.tif"), "-o", str(dst), "--codec", "ffv1", "--fps", "25", *TINY)
    assert proc.returncode == 0, proc.stderr
    fmt, tb, pts, planes = video_frames(dst)
    assert fmt == "yuv444p16le" and len(pts) == 8
    assert float((pts[-1] - pts[0]) * tb) == pytest.approx(7 / 25, abs=1e-3)
    for grey, yuv in zip(greys, planes):
        assert np.array_equal(yuv[0], grey_codes(grey, 16))


def test_tiff_16_bit_to_prores_rounds_to_10_bit(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path) -> None:
    dst = tmp_path / "film.mov"
    proc = cli("run", str(scans["tiff"]), "-o", str(dst), "--codec", "prores", *TINY)
    assert proc.returncode == 0, proc.stderr
    fmt, _, pts, planes = video_frames(dst)
    assert fmt == "yuv444p10le" and len(pts) == 8
    with av.open(str(dst)) as c:
        assert c.streams.video[0].codec_context.color_range == 1  # tagged limited, as written
    for grey, yuv in zip(greys, planes):
        # ProRes is limited range (64..940 at 10 bits) and lossy: no bias (truncating would give -0.5), small error
        expected = np.rint(grey * 876 + 64)
        diff = yuv[0].astype(float) - expected
        assert abs(diff.mean()) < 0.35 and np.abs(diff).mean() < 4


# ---- sequences to sequences --------------------------------------------------------------------


def test_dpx_to_dpx_keeps_numbering_depth_and_grey(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = cli("run", str(scans["dpx"] / "scan_%06d.dpx"), "-o", str(out / "col_%06d.dpx"), *TINY)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"col_{n:06d}.dpx" for n in DPX_NUMBERS]
    for n, grey in zip(DPX_NUMBERS, greys):
        fmt, rgb = still_rgb(out / f"col_{n:06d}.dpx")
        assert fmt == "gbrp10le"
        diff = np.abs(bt709_grey(rgb) - grey_codes(grey, 10))
        assert np.percentile(diff, 99.5) <= 2, f"grey of {n} moved by up to {diff.max():.1f} codes"
    # refused over existing stills, allowed with --overwrite
    again = cli("run", str(scans["dpx"]), "-o", str(out / "col_%06d.dpx"), *TINY)
    assert "already exist" in one_line_error(again) and "--overwrite" in again.stderr
    assert cli("run", str(scans["dpx"]), "-o", str(out / "col_%06d.dpx"), "--overwrite", *TINY).returncode == 0
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_png_unpadded_numbers_to_png(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = cli("run", str(scans["png"]), "-o", str(out / "c%d.png"), *TINY)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"c{n}.png" for n in range(8, 14))
    fmt, rgb = still_rgb(out / "c8.png")
    assert fmt == "rgb24"
    assert np.percentile(np.abs(bt709_grey(rgb) - grey_codes(greys[0], 8)), 99.5) <= 2


def test_tiff_16_bit_to_tiff_16_bit(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = cli("run", str(scans["tiff"]), "-o", str(out / "%04d.tif"), *TINY)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"{n:04d}.tif" for n in range(1001, 1009)]
    fmt, rgb = still_rgb(out / "1004.tif")
    assert fmt == "rgb48le"
    assert np.percentile(np.abs(bt709_grey(rgb) - grey_codes(greys[3], 16)), 99.5) <= 2


# ---- split jobs --------------------------------------------------------------------------------


def test_split_job_gives_the_plain_pictures(scans: dict[str, Path], tmp_path: Path) -> None:
    plain, split = tmp_path / "plain.mkv", tmp_path / "split.mkv"
    assert cli("run", str(scans["dpx"]), "-o", str(plain), "--codec", "ffv1", *TINY).returncode == 0
    proc = cli("run", str(scans["dpx"]), "-o", str(split), "--codec", "ffv1", "--segment-seconds", "0.1", *TINY)
    assert proc.returncode == 0, proc.stderr
    a, b = video_frames(plain), video_frames(split)
    assert a[:3] == b[:3]
    assert all(np.array_equal(x, y) for x, y in zip(a[3], b[3]))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # work folder removed


def _same_film(a: Path, b: Path, chroma_tolerance: int = 0) -> None:
    fa, fb = video_frames(a), video_frames(b)
    assert fa[:3] == fb[:3]
    for x, y in zip(fa[3], fb[3]):
        assert np.array_equal(x[0], y[0])
        assert np.abs(x[1:].astype(int) - y[1:].astype(int)).max() <= chroma_tolerance


def test_interrupted_split_job_resumes(scans: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from tests.test_segments import StopAfterFirstSegment
    from vidcolor.jobs.job import colorize_job
    from vidcolor.jobs.plan import JobOptions
    from vidcolor.media import EncodeOptions
    from vidcolor.pipeline import ColorizeOptions, colorize

    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=4, encode=EncodeOptions(codec="ffv1"))
    job = JobOptions(segment_seconds=0.1)
    dst = tmp_path / "resumed.mkv"
    with pytest.raises(KeyboardInterrupt):
        colorize_job(scans["dpx"], dst, options, job, runner=StopAfterFirstSegment())
    assert not dst.exists()
    with caplog.at_level(logging.INFO, logger="vidcolor"):
        result = colorize_job(scans["dpx"], dst, options, job)
    assert "resuming" in caplog.text and result.frames == len(DPX_NUMBERS)
    colorize(scans["dpx"], tmp_path / "plain.mkv", options)
    _same_film(tmp_path / "plain.mkv", dst)


@pytest.mark.slow
def test_local_ray_cluster_colours_a_sequence(scans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray", reason="Ray is the optional vidcolor[cluster] extra")
    monkeypatch.setenv("RAY_memory_monitor_refresh_ms", "0")
    from tests.conftest import _register_tiny
    from vidcolor.cluster import RayRunner
    from vidcolor.jobs.job import colorize_job
    from vidcolor.jobs.plan import JobOptions
    from vidcolor.media import EncodeOptions
    from vidcolor.pipeline import ColorizeOptions, colorize

    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=4, encode=EncodeOptions(codec="ffv1"), fps=12)
    runner = RayRunner("local", workers=2, setup=_register_tiny, runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    result = colorize_job(scans["tiff"], tmp_path / "ray.mkv", options, JobOptions(segment_seconds=0.2), runner=runner)
    assert result.engine.startswith("2 Ray workers")
    colorize(scans["tiff"], tmp_path / "plain.mkv", options)
    # each worker's torch runs on fewer threads, so float sums round differently: a code at most
    _same_film(tmp_path / "plain.mkv", tmp_path / "ray.mkv", chroma_tolerance=1 << 8)


def _stills(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: still_rgb(p)[1] for p in sorted(folder.iterdir())}


def test_stills_output_splits_and_resumes(scans: dict[str, Path], tmp_path: Path) -> None:
    """A long job to numbered stills is resumable too: each segment a folder of stills, moved in at the end."""
    from tests.test_segments import StopAfterFirstSegment
    from vidcolor.jobs.job import colorize_job, default_work_dir
    from vidcolor.jobs.plan import JobOptions
    from vidcolor.pipeline import ColorizeOptions, colorize

    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=4)
    colorize(scans["dpx"], tmp_path / "plain" / "%06d.dpx", options)
    dst, job = tmp_path / "split" / "%06d.dpx", JobOptions(segment_seconds=0.1)
    with pytest.raises(KeyboardInterrupt):
        colorize_job(scans["dpx"], dst, options, job, runner=StopAfterFirstSegment())
    assert not (tmp_path / "split").exists() or not list((tmp_path / "split").iterdir())  # nothing before the join
    assert any(default_work_dir(dst).glob("part-*"))
    result = colorize_job(scans["dpx"], dst, options, job)
    assert result.frames == len(DPX_NUMBERS) and not default_work_dir(dst).exists()
    plain, split = _stills(tmp_path / "plain"), _stills(tmp_path / "split")
    assert list(split) == [f"{n:06d}.dpx" for n in DPX_NUMBERS] == list(plain)
    assert all(np.array_equal(plain[k], split[k]) for k in plain)
    # through the CLI: split by --segment-seconds, same stills
    out = tmp_path / "cli"
    proc = cli("run", str(scans["dpx"]), "-o", str(out / "%06d.dpx"), "--segment-seconds", "0.1", *TINY[:-1])
    assert proc.returncode == 0, proc.stderr
    assert "segments of about 0.1 s" in proc.stderr
    cli_stills = _stills(out)
    assert list(cli_stills) == list(plain) and all(np.array_equal(plain[k], cli_stills[k]) for k in plain)


# ---- probe, and what is refused ----------------------------------------------------------------


def test_probe_shows_the_sequence_and_its_rate(scans: dict[str, Path]) -> None:
    proc = cli("probe", str(scans["dpx"]), "--fps", "23.976")
    assert proc.returncode == 0, proc.stderr
    assert "23.976 fps" in proc.stdout and "24000/1001" in proc.stdout
    assert "scan_%06d.dpx" in proc.stdout and "missing 5" in proc.stdout
    default = cli("probe", str(scans["png"] / "f%d.png"))
    assert "24.000 fps" in default.stdout and "rgb24" in default.stdout


def test_a_failing_still_leaves_nothing_behind(scans: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "scans"
    src.mkdir()
    for path in sorted(scans["dpx"].iterdir()):
        (src / path.name).write_bytes(path.read_bytes())
    (src / "scan_000007.dpx").write_bytes((src / "scan_000007.dpx").read_bytes()[:3000])  # a truncated scan
    out = tmp_path / "out"
    proc = cli("run", str(src), "-o", str(out / "%06d.dpx"), *TINY)
    one_line_error(proc)
    assert not out.exists(), "stills or the hidden folder left behind"
    proc = cli("run", str(src), "-o", str(tmp_path / "film.mkv"), "--codec", "ffv1", *TINY)
    one_line_error(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scans"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda d: [str(d / "scan_%s.dpx")], "one frame number", id="bad-pattern"),
        pytest.param(lambda d: [str(d / "scan_%06d_%06d.dpx")], "one frame number", id="two-numbers"),
        pytest.param(lambda d: [str(d / "none_%06d.dpx")], "no files", id="no-match"),
        pytest.param(lambda d: [str(d / "nowhere" / "%06d.dpx")], "does not exist", id="no-folder"),
        pytest.param(lambda d: [str(d / "empty"), "-o", str(d / "o")], "no video files", id="empty-folder"),
        pytest.param(lambda d: [str(d / "mixed")], "mixes stills with other files", id="mixed-folder"),
        pytest.param(lambda d: [str(d / "unnumbered")], "has no frame number", id="unnumbered"),
        pytest.param(lambda d: [str(d / "two")], "more than one sequence", id="two-sequences"),
        pytest.param(lambda d: [str(d / "scan_%06d.dpx"), "--fps", "0"], "--fps", id="bad-fps"),
        pytest.param(lambda d: [str(media("edge/fatesuite_dvd_single_frame.mp4")), "--fps", "24"], "--fps sets", id="fps-on-video"),
        pytest.param(lambda d: [str(media("edge/fatesuite_dvd_single_frame.mp4")), "-o", str(d / "o" / "%06d.dpx")],
                     "image sequence input", id="video-to-stills"),
        pytest.param(lambda d: [str(d / "scan_%06d.dpx"), "-o", str(d / "o" / "%06d.exr")], "cannot write stills", id="exr-out"),
    ],
)
def test_bad_sequences_are_one_line_errors(make, expected: str, scans: dict[str, Path], tmp_path: Path) -> None:  # noqa: ANN001
    d = tmp_path / "in"
    d.mkdir()
    for path in sorted(scans["dpx"].iterdir())[:3]:
        (d / path.name).write_bytes(path.read_bytes())
    (d / "empty").mkdir()
    (d / "mixed").mkdir()
    (d / "mixed" / "0001.png").write_bytes((scans["png"] / "f8.png").read_bytes())
    (d / "mixed" / "notes.txt").write_text("reel 1")
    (d / "unnumbered").mkdir()
    (d / "unnumbered" / "0001.png").write_bytes((scans["png"] / "f8.png").read_bytes())
    (d / "unnumbered" / "slate.png").write_bytes((scans["png"] / "f8.png").read_bytes())
    (d / "two").mkdir()
    for name in ("a_0001.png", "a_0002.png", "b_0001.png"):
        (d / "two" / name).write_bytes((scans["png"] / "f8.png").read_bytes())
    args = make(d)
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out.mkv")]
    proc = cli("run", *args, *TINY)
    assert expected in one_line_error(proc)
    assert not (tmp_path / "out.mkv").exists() and not (d / "o").exists()


# ---- units -------------------------------------------------------------------------------------


def test_requantize_rounds_down_and_keeps_white() -> None:
    from vidcolor.media.rgb import requantize

    codes = np.array([0, 31, 32, 33, 65535, 64 * 512], dtype=np.uint16)
    assert requantize(codes, 16, 10, full_range=True, dtype=np.dtype(np.uint16)).tolist() == [0, 0, 0, 1, 1023, 512]  # x * 1023 / 65535, rounded
    limited = np.array([16 << 8, 235 << 8, (100 << 8) + 127, (100 << 8) + 128], dtype=np.uint16)
    assert requantize(limited, 16, 8, full_range=False, dtype=np.dtype(np.uint8)).tolist() == [16, 235, 100, 101]
    assert requantize(np.array([1023], dtype=np.uint16), 10, 16, full_range=True, dtype=np.dtype(np.uint16)).tolist() == [65535]
    assert requantize(np.array([235], dtype=np.uint8), 8, 10, full_range=False, dtype=np.dtype(np.uint16)).tolist() == [940]
    full_to_limited = requantize(np.array([0, 65535], dtype=np.uint16), 16, 10, full_range=True, dtype=np.dtype(np.uint16),
                                 to_full_range=False)
    assert full_to_limited.tolist() == [64, 940]  # a 16-bit scan into ProRes


def test_fingerprint_of_a_sequence_sees_a_changed_still(scans: dict[str, Path], tmp_path: Path) -> None:
    import os

    from vidcolor.jobs.plan import fingerprint

    folder = tmp_path / "s"
    folder.mkdir()
    for path in sorted(scans["png"].iterdir()):
        (folder / path.name).write_bytes(path.read_bytes())
    before = fingerprint(folder)
    assert before == fingerprint(folder / "f%d.png")
    os.utime(folder / "f9.png", ns=(1, 1))
    assert fingerprint(folder) != before


def test_stills_beside_videos_are_a_batch_folder(tmp_path: Path) -> None:
    from vidcolor.media.sequence import find_sequence, is_sequence

    (tmp_path / "reel1.mkv").write_bytes(b"")
    (tmp_path / "poster.jpg").write_bytes(b"")
    assert find_sequence(tmp_path) is None and not is_sequence(tmp_path)


def test_stills_of_two_sizes_are_refused(scans: dict[str, Path], tmp_path: Path) -> None:
    from vidcolor.errors import MediaError
    from vidcolor.media import probe

    for n in (1, 2):
        (tmp_path / f"{n:03d}.png").write_bytes((scans["png"] / "f8.png").read_bytes())
    frame = av.VideoFrame.from_ndarray(np.zeros((20, 32, 3), np.uint8), format="rgb24")
    cc = av.CodecContext.create("png", "w")
    cc.width, cc.height, cc.pix_fmt, cc.time_base = 32, 20, "rgb24", Fraction(1, 24)
    cc.open()
    (tmp_path / "003.png").write_bytes(b"".join(bytes(p) for p in [*cc.encode(frame), *cc.encode(None)]))
    with pytest.raises(MediaError, match="is 96x54 but 003.png is 32x20"):
        probe(tmp_path)


def test_sequence_runs_and_gaps(tmp_path: Path) -> None:
    from vidcolor.media.sequence import find_sequence

    for n in (1, 2, 3, 7, 9, 10):
        (tmp_path / f"s_{n:04d}.png").write_bytes(b"")
    (tmp_path / ".hidden").write_bytes(b"")
    seq = find_sequence(tmp_path)
    assert seq.pattern == "s_%04d.png" and seq.numbers == (1, 2, 3, 7, 9, 10)
    assert seq.runs == [(1, 3), (7, 7), (9, 10)] and seq.gaps == [(4, 6), (8, 8)]
    assert seq.describe_gaps() == "4-6, 8" and seq.fps == 24
    assert find_sequence(tmp_path / "s_%04d.png", 23.976).fps == Fraction(24000, 1001)


def test_a_gap_image2_would_jump_is_kept(greys: list[np.ndarray], tmp_path: Path) -> None:
    """image2 finds a run's end by probing 1, 2, 4, 8 numbers on: from 100 it finds 108 and would read into the missing 105."""
    from vidcolor.media.sequence import open_input

    numbers = [100, 101, 102, 103, 104, 106, 107, 108]
    folder = write_stills(tmp_path / "jump", "j_%03d.png", "png", "rgb24", 8, numbers, greys)
    with open_input(folder) as container:
        pts = [p.pts for p in container.demux() if p.size]
    assert pts == [n - 100 for n in numbers]
    proc = cli("run", str(folder), "-o", str(tmp_path / "out" / "%03d.png"), *TINY)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{n:03d}.png" for n in numbers]


def test_preview_of_a_sequence(scans: dict[str, Path], tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.png"
    proc = cli("preview", str(scans["dpx"]), "-o", str(sheet), "--frames", "3", "--model", "tiny", "--random-weights", "0")
    assert proc.returncode == 0, proc.stderr
    assert sheet.stat().st_size > 0


def test_preview_at_a_still_number(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path) -> None:
    """``--at #7`` on a scan is the still numbered 7, at 24 fps 6/24 s after still 1 (the gap at 5
    keeps its time), and its keyframe is named by that time."""
    import cv2

    from vidcolor.errors import UsageError
    from vidcolor.pipeline import ColorizeOptions
    from vidcolor.pipeline.preview import preview
    from vidcolor.reference.spec import RefTime

    options = ColorizeOptions(model="tiny", random_seed=0)
    result = preview(scans["dpx"], tmp_path / "s.png", options, times=[RefTime(frame=7)], save_keyframes=tmp_path / "k")
    assert result.times == [pytest.approx(6 / 24)]
    assert [p.name for p in result.keyframes] == ["00_00_00.250.png"]
    shown = cv2.cvtColor(cv2.imread(str(result.keyframes[0])), cv2.COLOR_BGR2YCrCb)[..., 0].astype(float)
    closest = min(range(len(greys)), key=lambda i: np.abs(shown - greys[i] * 255).mean())
    assert DPX_NUMBERS[closest] == 7  # still 7's picture, coloured
    with pytest.raises(UsageError, match="no still numbered 5"):
        preview(scans["dpx"], tmp_path / "s2.png", options, times=[RefTime(frame=5)])


@pytest.mark.parametrize("as_pattern", [False, True], ids=["folder", "pattern"])
def test_keyframe_by_still_number(scans: dict[str, Path], greys: list[np.ndarray], tmp_path: Path, as_pattern: bool) -> None:
    """In a sequence, ``#N`` names the still numbered N (here 7, the 6th picture: 5 is missing),
    whether the scans are named by their folder or by a printf pattern (which is no file to stat)."""
    import cv2

    from vidcolor.errors import UsageError
    from vidcolor.media import EncodeOptions
    from vidcolor.pipeline import ColorizeOptions, colorize

    grey = (greys[DPX_NUMBERS.index(7)] * 255).round().astype(np.uint8)
    lab = cv2.cvtColor(np.stack([grey] * 3, axis=-1).astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    lab[..., 1], lab[..., 2] = -10.0, -35.0  # the hand-coloured keyframe: blue
    key = tmp_path / "key.png"
    cv2.imwrite(str(key), (np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1) * 255).round().astype(np.uint8)[..., ::-1])
    base = ColorizeOptions(model="tiny", random_seed=0, batch_size=4, temporal="off", encode=EncodeOptions(codec="ffv1"))
    src = scans["dpx"] / "scan_%06d.dpx" if as_pattern else scans["dpx"]
    colorize(src, tmp_path / "plain.mkv", base)
    colorize(src, tmp_path / "keyed.mkv", replace(base, references=(f"{key}@#7",)))
    plain, keyed = video_frames(tmp_path / "plain.mkv")[3], video_frames(tmp_path / "keyed.mkv")[3]
    k = DPX_NUMBERS.index(7)
    mid = 1 << 9  # 10-bit chroma's neutral code
    assert keyed[k][1].mean() - mid > plain[k][1].mean() - mid + 20  # Cb: bluer where the keyframe is
    with pytest.raises(UsageError, match="no still numbered 5"):
        colorize(src, tmp_path / "missing.mkv", replace(base, references=(f"{key}@#5",)))
