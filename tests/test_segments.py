"""Split jobs: cuts, the manifest, resume after kill -9, joins equal to an uninterrupted run, Ray."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import media
from tests.streams import clip_prefix, packets, psnr, summarize
from vidcolor.errors import MediaError, UsageError
from vidcolor.media import EncodeOptions
from vidcolor.media.segments import FrameIndex, scan_frames
from vidcolor.pipeline import ColorizeOptions, colorize
from vidcolor.jobs.job import colorize_job, default_work_dir
from vidcolor.jobs.segment import LocalRunner, SegmentDone, SegmentJob
from vidcolor.pipeline.progress import Progress, ProgressMeter
from vidcolor.jobs.plan import (
    MANIFEST_NAME,
    JobOptions,
    Manifest,
    Segment,
    SegmentResult,
    default_segment_seconds,
    plan_segments,
    warmup_frames,
)

ROOT = Path(__file__).resolve().parents[1]
FAST = EncodeOptions(preset="ultrafast")
TINY = ColorizeOptions(model="tiny", random_seed=0, batch_size=16, encode=FAST)
CHAPLIN = "bw/moviepy_chaplin.mp4"  # 9.64 s, 241 frames at 25 fps, one keyframe, mp3 audio

# The real CLI in a child process, with the test network registered (lite takes minutes on CI's CPU).
CLI = [sys.executable, "-c", "import sys; import tests.conftest; from vidcolor.cli.main import main; sys.exit(main(sys.argv[1:]))"]
CLI_TINY = ["--model", "tiny", "--random-weights", "0", "--batch-size", "16", "--preset", "ultrafast", "-q"]


def test_clip_prefix_is_the_one_the_benchmark_runs(tmp_path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_segments", ROOT / "benchmarks" / "segments.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    assert benchmark.clip_prefix is clip_prefix  # one helper: the benchmark measures what the tests check
    source = summarize(media(CHAPLIN), keep_luma=False)
    prefix = summarize(clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 1.0), keep_luma=False)
    assert prefix.pts == source.pts[:25]  # 25 fps
    assert prefix.stream_types == ["video", "audio"]


def _index(n: int, keys: set[int], step: int = 1) -> FrameIndex:
    return FrameIndex(tuple(i * step for i in range(n)), frozenset(k * step for k in keys), Fraction(1, 10 * step))


def test_cuts_snap_to_nearby_keyframes() -> None:
    # 10 fps, keyframes every 2.3 s; 2 s segments snap to keyframes within half a second
    segments = plan_segments(_index(100, {0, 23, 46, 69, 92}), 2.0)
    assert [s.start_pts for s in segments] == [0, 23, 46, 69, 92]
    assert sum(s.frames for s in segments) == 100
    assert [s.end_pts for s in segments] == [23, 46, 69, 92, None]


def test_cuts_without_keyframes_fall_on_pictures() -> None:
    segments = plan_segments(_index(95, {0}), 2.0, warmup=5)
    assert [s.start_pts for s in segments] == [0, 20, 40, 60, 80]
    assert [s.frames for s in segments] == [20, 20, 20, 20, 15]
    assert [s.warm_from for s in segments] == [0, 15, 35, 55, 75]


def test_default_segments_keep_warmup_small() -> None:
    assert default_segment_seconds(ColorizeOptions(temporal="off"), 25.0) == 60.0
    # strength 0.9 warms up on 40 frames: segments of 40 / (1.5 % of 24 fps) s
    assert default_segment_seconds(ColorizeOptions(temporal="ema", temporal_strength=0.9), 24.0) == pytest.approx(111.1, abs=0.1)


def test_warmup_only_with_smoothing() -> None:
    assert warmup_frames(ColorizeOptions(temporal="off")) == 0
    assert warmup_frames(ColorizeOptions(temporal="ema", temporal_strength=0.5)) == 8
    assert warmup_frames(ColorizeOptions(temporal="ema", temporal_strength=0.95)) == 64


def test_scan_frames_matches_the_decoder() -> None:
    index = scan_frames(media(CHAPLIN))
    assert index.frames == 241 and index.keyframes == {0}
    assert list(index.pts) == summarize(media(CHAPLIN), keep_luma=False).pts


def _chroma(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [np.concatenate([np.asarray(p).ravel() for p in (f.planes[1], f.planes[2])]) for f in c.decode(video=0)]


def assert_same_film(a: Path, b: Path, *, lossless: bool, chroma_tolerance: int = 0) -> None:
    """Frames, timestamps, luma and audio as the reference; chroma the same within encoder noise.

    ``lossless``: both are FFV1, so luma must be bit-exact and chroma within ``chroma_tolerance`` codes.
    """
    ra, rb = summarize(a), summarize(b)
    assert rb.pts == ra.pts and rb.time_base == ra.time_base
    assert rb.stream_types == ra.stream_types
    assert packets(b, "audio") == packets(a, "audio")
    if lossless:
        assert all(np.array_equal(x, y) for x, y in zip(ra.lumas, rb.lumas))
        worst = max(int(np.abs(x.astype(int) - y.astype(int)).max()) for x, y in zip(_chroma(a), _chroma(b)))
        assert worst <= chroma_tolerance
    else:
        assert min(psnr(x, y) for x, y in zip(ra.lumas, rb.lumas)) > 40
        assert min(psnr(x, y) for x, y in zip(_chroma(a), _chroma(b))) > 40
    with av.open(str(b)) as c:
        dts = [p.dts for p in c.demux(c.streams.video[0]) if p.size]
    assert all(x < y for x, y in zip(dts, dts[1:]))


@pytest.mark.slow
def test_lossless_split_job_equals_the_plain_run(tmp_path) -> None:
    src = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 3.0)
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=16, temporal="off", encode=EncodeOptions(codec="ffv1"))
    colorize(src, tmp_path / "plain.mkv", options)
    result = colorize_job(src, tmp_path / "split.mkv", options, JobOptions(segment_seconds=1.0))
    assert result.frames == 75
    assert not default_work_dir(tmp_path / "split.mkv").exists()  # removed after the join
    # Segments regroup frames into other batches, and oneDNN's CPU convolutions round differently with
    # batch size and thread count (seen with one thread): one chroma code is float rounding, not a seam.
    assert_same_film(tmp_path / "plain.mkv", tmp_path / "split.mkv", lossless=True, chroma_tolerance=1)


def test_smoother_is_warmed_up_across_joins(tmp_path, monkeypatch) -> None:
    from vidcolor.pipeline.chroma import ChromaPredictor

    warmed: list[int] = []
    original = ChromaPredictor.warm_up

    def spy(self: ChromaPredictor, lumas: list[np.ndarray], pts: list[int] | None = None) -> None:
        warmed.append(len(lumas))
        original(self, lumas, pts)

    monkeypatch.setattr(ChromaPredictor, "warm_up", spy)
    src = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 2.0)  # 50 frames
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=8, temporal="ema", temporal_strength=0.5,
                              encode=EncodeOptions(codec="ffv1"))
    colorize(src, tmp_path / "plain.mkv", options)
    assert warmed == []
    colorize_job(src, tmp_path / "split.mkv", options, JobOptions(segment_seconds=0.5))
    assert warmed == [8, 8, 8]  # the 8 frames before each of the 3 joins, none written twice
    # 8 warm-up frames at strength 0.5 leave 0.5**8 of the missing history: under a code
    assert_same_film(tmp_path / "plain.mkv", tmp_path / "split.mkv", lossless=True, chroma_tolerance=1)


def test_b_frames_join_with_rising_dts(tmp_path) -> None:
    # x264 "veryfast" uses B-frames: each part's dts start below its first pts
    src = clip_prefix(media("bw/hackverify_steamboat_willie_1928.mp4"), tmp_path / "in.mp4", 3.0)  # 30000/1001
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=16, encode=EncodeOptions(preset="veryfast"))
    colorize_job(src, tmp_path / "split.mp4", options, JobOptions(segment_seconds=1.0))
    out = summarize(tmp_path / "split.mp4", keep_luma=False)
    assert out.pts == summarize(src, keep_luma=False).pts
    with av.open(str(tmp_path / "split.mp4")) as c:
        pk = [(p.pts, p.dts) for p in c.demux(c.streams.video[0]) if p.size]
    assert all(a[1] < b[1] for a, b in zip(pk, pk[1:])) and all(d <= p for p, d in pk)
    assert any(p != d for p, d in pk)  # B-frames really were there


def test_changed_options_start_over_saying_why(tmp_path, caplog) -> None:
    src = media("edge/mediabunny_sar_2x1.mp4")  # 5 s
    work = tmp_path / "work"
    job = JobOptions(segment_seconds=2.0, work_dir=work)
    # a finished first segment from an earlier job with other options
    old = Manifest(input={"size": 1}, options={}, model="tiny", segment_seconds=2.0, frames=150, segments=[])
    work.mkdir()
    old.save(work / MANIFEST_NAME)
    (work / "part-00000.mkv").write_bytes(b"stale")
    with caplog.at_level(logging.WARNING, logger="vidcolor"):
        colorize_job(src, tmp_path / "out.mp4", TINY, job)
    assert "starting over: the input changed (size" in caplog.text
    assert summarize(tmp_path / "out.mp4", keep_luma=False).pts == summarize(src, keep_luma=False).pts


class StopAfterFirstSegment(LocalRunner):
    """Colours one segment, then stops the job as Ctrl-C would: a work folder to resume from."""

    def run(self, job: SegmentJob, todo: list[Segment], on_done: SegmentDone, meter: ProgressMeter) -> None:
        def stop(segment: Segment, result: SegmentResult) -> None:
            on_done(segment, result)
            raise KeyboardInterrupt

        super().run(job, todo, stop, meter)


def test_concealed_frames_are_summed_over_segments(tmp_path) -> None:
    from tests.corpus import excerpt

    # three packets scrambled across a 2 s clip cut into three segments
    src = tmp_path / "garbled.mp4"
    excerpt(media("bw/hackverify_steamboat_willie_1928.mp4"), src, 2.0, garble={9, 20, 33})
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=16, on_error="skip", temporal="off", encode=FAST)
    job = JobOptions(segment_seconds=0.7)
    plain = colorize(src, tmp_path / "plain.mp4", options)
    split = colorize_job(src, tmp_path / "split.mp4", options, job)
    assert plain.concealed_frames >= 2
    assert split.concealed_frames == plain.concealed_frames
    # a resumed job counts the segments an earlier run finished too
    with pytest.raises(KeyboardInterrupt):
        colorize_job(src, tmp_path / "resumed.mp4", options, job, runner=StopAfterFirstSegment())
    resumed = colorize_job(src, tmp_path / "resumed.mp4", options, job)
    assert resumed.concealed_frames == plain.concealed_frames


def test_resumed_job_measures_fps_on_this_runs_frames(tmp_path) -> None:
    src, out = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 2.0), tmp_path / "out.mp4"  # 50 frames
    job = JobOptions(segment_seconds=1.0)
    with pytest.raises(KeyboardInterrupt):
        colorize_job(src, out, TINY, job, runner=StopAfterFirstSegment())
    earlier = Manifest.load(default_work_dir(out) / MANIFEST_NAME).done_frames
    assert 0 < earlier < 50
    seen: list[Progress] = []
    colorize_job(src, out, TINY, job, progress=seen.append)
    last = seen[-1]
    assert last.done == last.total == 50  # the count still includes the segment done before
    assert last.fps * last.elapsed == pytest.approx(50 - earlier)  # the rate only this run's frames
    mid = next(p for p in seen if earlier < p.done < 50)
    assert mid.eta == pytest.approx((50 - mid.done) * mid.elapsed / (mid.done - earlier))


def _wait_for_done_segment(manifest: Path, proc: subprocess.Popen, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended (rc {proc.returncode}) before it could be killed")
        try:
            done = sum(s["status"] == "done" for s in json.loads(manifest.read_text())["segments"])
        except (FileNotFoundError, ValueError):
            done = 0
        if done:
            return done
        time.sleep(0.05)
    pytest.fail("no segment finished in time")


@pytest.mark.slow
def test_kill_9_and_resume_equals_an_uninterrupted_run(tmp_path) -> None:
    src, out = media(CHAPLIN), tmp_path / "out.mp4"
    args = [*CLI, "run", str(src), "-o", str(out), "--segment-seconds", "2", *CLI_TINY]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    manifest = default_work_dir(out) / MANIFEST_NAME
    done = _wait_for_done_segment(manifest, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    segments = json.loads(manifest.read_text())["segments"]
    assert len(segments) == 5 and done < 5, "killed too late to test resuming"

    verbose = [*CLI, "--verbose", *args[len(CLI):-1]]  # same command, logging each segment, no bar
    resumed = subprocess.run(verbose, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming moviepy_chaplin.mp4" in resumed.stderr
    assert resumed.stderr.count("segment ") - resumed.stderr.count("segments") <= 5 - done  # only the rest
    assert not manifest.parent.exists()

    colorize(src, tmp_path / "plain.mp4", TINY)
    assert_same_film(tmp_path / "plain.mp4", out, lossless=False)


@pytest.mark.slow
def test_local_ray_cluster_equals_the_single_process_run(tmp_path, monkeypatch) -> None:
    pytest.importorskip("ray", reason="Ray is the optional vidcolor[cluster] extra")
    # shared CI machines run near Ray's 95 % memory line because of other jobs; our workers are small
    monkeypatch.setenv("RAY_memory_monitor_refresh_ms", "0")
    src = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 3.0)
    job = JobOptions(segment_seconds=1.0)
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=16, encode=EncodeOptions(codec="ffv1"))
    from tests.conftest import _register_tiny
    from vidcolor.cluster import RayRunner

    # workers are fresh processes: they import this repository's tests to register the test network
    runner = RayRunner("local", workers=2, setup=_register_tiny, runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    result = colorize_job(src, tmp_path / "ray.mkv", options, job, runner=runner)
    assert result.engine.startswith("2 Ray workers")
    colorize_job(src, tmp_path / "local.mkv", options, JobOptions(segment_seconds=1.0))
    # each worker's torch runs on fewer threads, so float sums round differently: a code at most
    assert_same_film(tmp_path / "local.mkv", tmp_path / "ray.mkv", lossless=True, chroma_tolerance=1)


class FailingRunner(LocalRunner):
    """Colours ``done`` segments, then fails as a full disk would."""

    def __init__(self, done: int) -> None:
        self.left = done

    def run(self, job: SegmentJob, todo: list[Segment], on_done: SegmentDone, meter: ProgressMeter) -> None:
        def failing(segment: Segment, result: SegmentResult) -> None:
            on_done(segment, result)
            self.left -= 1
            if self.left <= 0:
                raise MediaError("cannot write the part: No space left on device")

        if self.left <= 0:
            raise MediaError("cannot write the part: No space left on device")
        super().run(job, todo, failing, meter)


def test_failed_job_keeps_done_segments_and_says_where(tmp_path, caplog) -> None:
    src, out = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 2.0), tmp_path / "out.mp4"
    job = JobOptions(segment_seconds=0.5)
    with caplog.at_level(logging.WARNING), pytest.raises(MediaError, match="No space left"):
        colorize_job(src, out, TINY, job, runner=FailingRunner(done=1))
    work = default_work_dir(out)
    assert f"1 of 4 segments are kept in {work}" in caplog.text
    assert Manifest.load(work / MANIFEST_NAME).done_frames > 0
    # a rerun picks them up
    assert colorize_job(src, out, TINY, job).frames == 50
    assert not work.exists()


def test_failed_job_without_done_segments_leaves_no_work_folder(tmp_path) -> None:
    src, out = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 2.0), tmp_path / "out.mp4"
    user_file = tmp_path / "work" / "notes.txt"
    user_file.parent.mkdir()
    user_file.write_text("mine")
    for job, work in ((JobOptions(segment_seconds=0.5), default_work_dir(out)),
                      (JobOptions(segment_seconds=0.5, work_dir=user_file.parent), user_file.parent)):
        with pytest.raises(MediaError):
            colorize_job(src, out, TINY, job, runner=FailingRunner(done=0))
        # our files go; a --work-dir keeps what the user put there
        if work == user_file.parent:
            assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]
        else:
            assert not work.exists()
    assert not out.exists()


def test_split_switches(tmp_path) -> None:
    with pytest.raises(UsageError, match="--segment-seconds 0 turns splitting off"):
        JobOptions(segment_seconds=0, split=True)
    with pytest.raises(UsageError, match="drop --no-split"):
        JobOptions(split=False, work_dir=tmp_path)
    src = clip_prefix(media(CHAPLIN), tmp_path / "in.mp4", 1.0)
    # never split: no work folder is ever made, even for a film longer than the segment length asked
    for job in (JobOptions(split=False), JobOptions(segment_seconds=0)):
        out = tmp_path / f"out-{job.split}.mp4"
        result = subprocess.run([*CLI, "run", str(src), "-o", str(out), *CLI_TINY,
                                 *(["--no-split"] if job.split is False else ["--segment-seconds", "0"])],
                                capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
        assert summarize(out, keep_luma=False).pts == summarize(src, keep_luma=False).pts
        assert not default_work_dir(out).exists()
    bad = subprocess.run([*CLI, "run", str(src), "-o", str(tmp_path / "x.mp4"), *CLI_TINY, "--no-split", "--cluster", "local"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("vidcolor: error: --cluster colours"), bad.stderr
