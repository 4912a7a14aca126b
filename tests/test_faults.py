"""Faults during a run: full disk, signals, unwritable folders, bad weights, GPU memory: a clear error and no damaged output."""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from tests.conftest import media
from tests.corpus import PARTIAL_GLOB, CliRunner, excerpt
from tests.test_cli_errors import assert_clean_failure
from vidcolor import ColorizeOptions, EncodeOptions, colorize
from vidcolor.errors import EngineError, MediaError, WeightsError

TINY = ColorizeOptions(model="tiny", random_seed=0, encode=EncodeOptions(preset="ultrafast"))


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of the Chaplin clip (h264 + mp3), stream-copied."""
    path = tmp_path_factory.mktemp("clip") / "chaplin-1s.mp4"
    excerpt(media("bw/moviepy_chaplin.mp4"), path, 1.0)
    return path


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A small tmpfs at ``folder``; skips where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode}); the simulated variant covers this")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---- out of disk space ---------------------------------------------------------------------


def test_full_disk_on_a_real_tmpfs(short_clip: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "size=64k") as folder:
        with pytest.raises(MediaError, match="No space left on device") as info:
            colorize(short_clip, folder / "out.mp4", TINY)
        assert "\n" not in str(info.value)
        assert leftovers(folder) == []


def test_full_disk_simulated(short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no tmpfs can be mounted: PyAV's own ENOSPC error raised from the muxer after a few packets."""
    from vidcolor.media.encode import VideoWriter

    real_mux = VideoWriter._mux
    calls = {"n": 0}

    def mux_until_full(self: VideoWriter, packet: av.Packet) -> None:
        calls["n"] += 1
        if calls["n"] > 3:
            av.error.err_check(-errno.ENOSPC)
        real_mux(self, packet)

    monkeypatch.setattr(VideoWriter, "_mux", mux_until_full)
    with pytest.raises(MediaError, match="No space left on device"):
        colorize(short_clip, tmp_path / "out.mp4", TINY)
    assert leftovers(tmp_path) == []


def test_full_disk_at_the_final_sync(short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vidcolor.pipeline.outputs as outputs

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", fsync)
    with pytest.raises(MediaError, match="No space left on device"):
        colorize(short_clip, tmp_path / "out.mp4", TINY)
    assert leftovers(tmp_path) == []


# ---- signals -------------------------------------------------------------------------------

SIGNALS = [pytest.param(signal.SIGINT, 130, "interrupted", id="SIGINT"), pytest.param(signal.SIGTERM, 143, "terminated", id="SIGTERM")]


def _interrupt_real_cli(src: Path, out_dir: Path, signum: int | None, delay: float) -> subprocess.CompletedProcess[str]:
    """Start ``python -m vidcolor run``, wait until it is writing, wait ``delay`` more, signal it
    (``signum`` None: let it finish; the CompletedProcess's ``writing_s`` says how long it wrote)."""
    env = {k: v for k, v in os.environ.items() if k != "VIDCOLOR_DEBUG"}
    cmd = [sys.executable, "-m", "vidcolor", "run", str(src), "-o", str(out_dir / "out.mp4"), "--model", "lite", "--random-weights", "0", "-q",
           "--preset", "ultrafast", "--batch-size", "2"]  # no encoder lookahead: the output file appears after the first batch
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not list(out_dir.glob(PARTIAL_GLOB)) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.communicate()}"
        writing_from = time.monotonic()
        if signum is not None:
            time.sleep(delay)
            proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    done.writing_s = time.monotonic() - writing_from  # type: ignore[attr-defined]
    return done


@pytest.mark.parametrize(("signum", "code", "word"), SIGNALS)
def test_signal_mid_run_exits_cleanly(signum: int, code: int, word: str, tmp_path: Path) -> None:
    delay = random.Random(f"issue7-{signum}").uniform(0.0, 3.0)
    proc = _interrupt_real_cli(media("bw/hackverify_steamboat_willie_1928.mp4"), tmp_path, signum, delay)
    assert proc.returncode == code, proc.stderr
    assert_clean_failure(proc, tmp_path)
    assert word in proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)  # four real CLI runs, each bounded by its own waits
def test_signals_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(7)
    src = media("bw/hackverify_steamboat_willie_1928.mp4")
    # the moments are drawn within one undisturbed run's writing time, which a faster engine shortens
    (tmp_path / "baseline").mkdir()
    baseline = _interrupt_real_cli(src, tmp_path / "baseline", None, 0.0)
    assert baseline.returncode == 0, baseline.stderr
    for i in range(4):
        signum, code = rng.choice([(signal.SIGINT, 130), (signal.SIGTERM, 143)])
        out_dir = tmp_path / str(i)
        out_dir.mkdir()
        proc = _interrupt_real_cli(src, out_dir, signum, rng.uniform(0.0, 0.7 * baseline.writing_s))
        assert proc.returncode == code, proc.stderr
        assert_clean_failure(proc, out_dir)


def test_signals_at_random_moments_of_a_short_run(short_clip: Path, tmp_path: Path) -> None:
    """Early moments too (probe, model, first batch): the CLI entry point forked warm, signalled 0-2.5 s in.

    Either the run finished first (a valid output) or it exits 130/143 with one line and
    leaves nothing. (A signal before Python has imported vidcolor, in a fresh interpreter,
    gets Python's default handling: there is no output to remove then.)
    """
    rng = random.Random(11)
    runner = CliRunner(("vidcolor.cli.app", "tests.conftest"))

    def start(name: str) -> tuple[object, Path, Path]:
        out_dir = tmp_path / name
        out_dir.mkdir()
        log_path = tmp_path / f"{name}.log"
        proc = runner.start(["run", str(short_clip), "-o", str(out_dir / "out.mp4"), "--model", "tiny", "--random-weights", "0", "-q"], log_path=log_path)
        deadline = time.monotonic() + 30
        while not log_path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # the child's stderr file exists once it runs; main() installs its handlers right after
        return proc, out_dir, log_path

    # the moments are drawn within one undisturbed run's duration, so a fast machine
    # still has them land before the end
    proc, _, _ = start("baseline")
    started = time.monotonic()
    proc.join(120)
    duration = time.monotonic() - started
    outcomes = []
    for i in range(6):
        signum, code = [(signal.SIGINT, 130), (signal.SIGTERM, 143)][i % 2]
        proc, out_dir, log_path = start(f"run{i}")
        time.sleep(rng.uniform(0.0, 0.8 * duration))
        if proc.is_alive():
            os.kill(proc.pid, signum)
        proc.join(60)
        assert not proc.is_alive(), "did not stop within 60 s of the signal"
        stderr = log_path.read_text()
        assert "Traceback" not in stderr
        if proc.exitcode == 0:
            outcomes.append("finished")
            assert [p.name for p in out_dir.iterdir()] == ["out.mp4"]
            continue
        outcomes.append(signum.name)
        assert proc.exitcode == code, stderr
        assert len([line for line in stderr.splitlines() if line.startswith("vidcolor: error:")]) == 1, stderr
        assert list(out_dir.iterdir()) == []
    assert any(o != "finished" for o in outcomes), outcomes


# ---- unwritable folders --------------------------------------------------------------------


def test_read_only_output_folder(short_clip: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        with pytest.raises(MediaError, match="not writable"):
            colorize(short_clip, folder / "out.mp4", TINY)


def test_read_only_folder_that_passes_the_check(short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder turns read-only between the check and the write: the muxer's error, one line."""
    with tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        monkeypatch.setattr(os, "access", lambda path, mode: True)
        with pytest.raises(MediaError, match="Read-only file system") as info:
            colorize(short_clip, folder / "out.mp4", TINY)
        assert "\n" not in str(info.value)
        assert leftovers(folder) == []


def test_a_failing_input_inside_the_write_is_not_called_a_write_error(tmp_path: Path) -> None:
    """An OSError about another file met while the output is written (an input that vanished,
    say) names that file; only errors about the output itself are "cannot write"."""
    from vidcolor.pipeline.outputs import atomic_output

    dst = tmp_path / "out.mkv"
    with pytest.raises(MediaError) as info:
        with atomic_output(dst) as tmp:
            tmp.write_bytes(b"half")
            open(tmp_path / "gone" / "scan_000001.dpx", "rb")
    assert str(info.value).startswith(f"{tmp_path / 'gone' / 'scan_000001.dpx'}: No such file")
    with pytest.raises(MediaError, match="cannot write"):
        with atomic_output(dst) as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert list(tmp_path.iterdir()) == []


# ---- weights -------------------------------------------------------------------------------


def test_weights_with_wrong_checksum_via_cli(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "colorization_release_v2-9b330a0b.pth"
    bad.parent.mkdir()
    torch.save({"conv": torch.zeros(2)}, bad)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # the CLI entry point in a process forked from a warm server: a fresh interpreter costs ~13 s of imports here
    code, stderr, _ = CliRunner().run(["run", str(media("edge/fatesuite_dvd_single_frame.mp4")), "-o", str(out_dir / "o.mp4"), "--model", "eccv16", "--weights", str(bad)],
                                      timeout=120, log_path=tmp_path / "log")
    proc = subprocess.CompletedProcess([], code, "", stderr)
    assert proc.returncode == 1
    assert_clean_failure(proc, out_dir)
    assert "sha256" in proc.stderr


# ---- GPU memory ----------------------------------------------------------------------------


class FakeOomEngine:
    """Wraps a real engine; raises torch.OutOfMemoryError for batches above ``fits``, as CUDA would."""

    def __init__(self, engine: object, fits: int) -> None:
        self._engine = engine
        self.fits = fits
        self.seen: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    def __call__(self, l_batch: torch.Tensor) -> torch.Tensor:
        self.seen.append(len(l_batch))
        if len(l_batch) > self.fits:
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {len(l_batch)} GiB")
        return self._engine(l_batch)


def _inject(monkeypatch: pytest.MonkeyPatch, fits: int) -> list[FakeOomEngine]:
    pipeline = importlib.import_module("vidcolor.pipeline.colorize")  # the package re-exports the function under that name

    made: list[FakeOomEngine] = []
    real_open = pipeline.open_engine

    def open_engine(*args: object, **kwargs: object) -> FakeOomEngine:
        made.append(FakeOomEngine(real_open(*args, **kwargs), fits))
        return made[-1]

    monkeypatch.setattr(pipeline, "open_engine", open_engine)
    return made


def test_oom_halves_the_batch_and_reports_it_once(short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from tests.streams import summarize

    made = _inject(monkeypatch, fits=2)
    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=8, encode=TINY.encode)
    with caplog.at_level(logging.INFO, logger="vidcolor"):
        result = colorize(short_clip, tmp_path / "out.mp4", options)
    engine = made[0]
    assert engine.seen[:3] == [8, 4, 2]  # halved twice, then it fits
    assert max(engine.seen[3:]) <= 2  # the size that worked is kept for the rest of the run
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "memory" in r.getMessage()]
    assert len(warnings) == 1 and "batch of 8" in warnings[0] and "batches of 4" in warnings[0]
    assert result.frames == len(summarize(tmp_path / "out.mp4", keep_luma=False).pts) == 25


def test_oom_even_for_one_frame_is_a_clear_engine_error(short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _inject(monkeypatch, fits=0)
    with pytest.raises(EngineError, match="even for one frame") as info:
        colorize(short_clip, tmp_path / "out.mp4", TINY)
    assert "\n" not in str(info.value)
    assert leftovers(tmp_path) == []


def test_oom_after_the_network_retries_smaller_chunks(short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen on an H200 with 3 GiB free: the network's calls fitted once halved, but the whole batch's
    logits and their softmax did not. The predictor retries in chunks; the smoother sees each frame
    once, in order, so the film is the one a GPU with memory to spare makes."""
    from vidcolor.pipeline import predict

    options = ColorizeOptions(model="tiny", random_seed=0, batch_size=8, encode=TINY.encode)
    colorize(short_clip, tmp_path / "plain.mp4", options)
    real = predict.probabilities
    sizes: list[int] = []

    def probabilities(logits: torch.Tensor) -> torch.Tensor:
        sizes.append(len(logits))
        if len(logits) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 590.00 MiB")
        return real(logits)

    monkeypatch.setattr(predict, "probabilities", probabilities)
    colorize(short_clip, tmp_path / "chunked.mp4", options)
    assert sizes[:3] == [8, 4, 2] and max(sizes[3:]) <= 2

    def chroma(path: Path) -> list[np.ndarray]:
        with av.open(str(path)) as c:
            return [np.concatenate([np.asarray(p).ravel() for p in f.planes[1:]]) for f in c.decode(video=0)]

    plain, chunked = chroma(tmp_path / "plain.mp4"), chroma(tmp_path / "chunked.mp4")
    assert len(plain) == len(chunked) == 25
    assert all(np.array_equal(a, b) for a, b in zip(plain, chunked, strict=True))


def test_halving_keeps_results_in_order() -> None:
    from vidcolor.pipeline.oom import HalvingEngine

    class Echo:
        device = torch.device("cpu")

        def __call__(self, x: torch.Tensor) -> torch.Tensor:
            if len(x) > 3:
                raise torch.OutOfMemoryError("full")
            return x * 2

    engine = HalvingEngine(Echo())
    x = torch.arange(10.0).reshape(10, 1)
    assert torch.equal(engine(x), x * 2)
    assert engine.limit == 2 and engine.halvings == 2


def test_bad_weights_file_is_one_line(tmp_path: Path) -> None:
    from vidcolor.models import load_model

    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a pickle at all")
    with pytest.raises(WeightsError) as info:
        load_model("eccv16", weights_path=junk)
    assert "\n" not in str(info.value)


def test_read_only_weights_cache_is_a_weights_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidcolor.models._registry import get_weights
    from vidcolor.models.weights_cache import fetch

    with tmpfs(tmp_path / "ro", "ro,size=16k") as folder:
        monkeypatch.setenv("VIDCOLOR_CACHE", str(folder / "cache"))
        with pytest.raises(WeightsError):
            fetch(get_weights("eccv16"), url="https://127.0.0.1:9/never-reached.pth")
