"""Bad input through the real command: one line, non-zero exit, no traceback, nothing left behind.

And a start-up that stays light: help, probe and weights list import no torch.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import media

BAD_EDGE_FILES = [
    pytest.param("edge/hackverify_empty_0byte.mp4", id="empty"),
    pytest.param("edge/matroska_invalid_ebml_really_invalid_EBML_ElementDataSize_in_EBMLHeader.mkv", id="invalid-ebml"),
]
EDGE_FILES_THAT_WORK_OR_FAIL_CLEANLY = [
    pytest.param("edge/hackverify_demo_clip_tampered_1byteflip.mp4", id="tampered"),
    pytest.param("edge/moviepy_test_video_1687B.mp4", id="1x1-pixel"),
    pytest.param("edge/moviepy_no_duration.webm", id="no-duration"),
    pytest.param("edge/moviepy_video_with_failing_audio.mp4", id="failing-audio"),
    pytest.param("edge/fatesuite_dvd_single_frame.mp4", id="single-frame"),
]


def vidcolor_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("VIDCOLOR_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "vidcolor", *args],
        capture_output=True, text=True, timeout=timeout, env=full_env, stdin=subprocess.DEVNULL, check=False,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], out_dir: Path) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("vidcolor: error:")]
    assert len(errors) == 1, proc.stderr
    assert list(out_dir.iterdir()) == [], "output or temporary file left behind"


@pytest.mark.parametrize("name", BAD_EDGE_FILES)
def test_broken_files_fail_with_one_line(name: str, tmp_path: Path) -> None:
    proc = vidcolor_cli("run", str(media(name)), "-o", str(tmp_path / "out.mp4"))
    assert_clean_failure(proc, tmp_path)


@pytest.mark.parametrize("name", EDGE_FILES_THAT_WORK_OR_FAIL_CLEANLY)
def test_odd_files_work_or_fail_cleanly(name: str, tmp_path: Path) -> None:
    from vidcolor import ColorizeOptions, colorize
    from vidcolor.errors import VidcolorError
    from tests.streams import summarize

    src = media(name)
    dst = tmp_path / "out.mkv"
    try:
        result = colorize(src, dst, ColorizeOptions(model="tiny", random_seed=0))
    except VidcolorError as ex:
        assert str(ex) and "\n" not in str(ex)
        assert list(tmp_path.iterdir()) == []
        return
    assert result.frames == len(summarize(dst, keep_luma=False).pts) > 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.mkv"]


def test_cli_runs_end_to_end_and_names_its_model(tmp_path: Path) -> None:
    dst = tmp_path / "clip.mp4"
    proc = vidcolor_cli("run", str(media("edge/fatesuite_dvd_single_frame.mp4")), "-o", str(dst),
                        "--model", "lite", "--random-weights", "0", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "model lite" in proc.stderr
    assert dst.is_file()


def test_no_video_stream(tmp_path: Path) -> None:
    import av

    audio_only = tmp_path / "in" / "audio.mka"
    audio_only.parent.mkdir()
    with av.open(str(media("bw/moviepy_chaplin.mp4"))) as src, av.open(str(audio_only), "w") as out:
        stream = out.add_stream_from_template(src.streams.audio[0])
        for packet in src.demux(src.streams.audio[0]):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = vidcolor_cli("run", str(audio_only), "-o", str(out_dir / "x.mp4"))
    assert_clean_failure(proc, out_dir)
    assert "no video stream" in proc.stderr


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        pytest.param(lambda src, d: [str(d / "missing.mp4"), "-o", str(d / "o.mp4")], "does not exist", id="missing-input"),
        pytest.param(lambda src, d: [str(src), "-o", str(d / "no" / "o.mp4")], "does not exist", id="missing-folder"),
        pytest.param(lambda src, d: [str(src), "-o", str(d / "o.mp4"), "--codec", "ffv1"], "needs an output ending", id="ffv1-in-mp4"),
        pytest.param(lambda src, d: [str(src), "-o", str(d / "o.avi"), "--codec", "nope"], "unknown codec", id="bad-codec"),
        pytest.param(lambda src, d: [str(src), "-o", str(d / "o.mp4"), "--model", "nope"], "unknown model", id="bad-model"),
    ],
)
def test_usage_errors(make_args, expected: str, tmp_path: Path) -> None:  # noqa: ANN001
    src = media("bw/moviepy_chaplin.mp4")
    proc = vidcolor_cli("run", *make_args(src, tmp_path))
    assert_clean_failure(proc, tmp_path)
    assert expected in proc.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["run", "--bogus"], "No such option: --bogus (see 'vidcolor run --help')", id="unknown-option"),
        pytest.param(["run"], "Missing argument", id="missing-argument"),
        pytest.param(["nonsense"], "No such command", id="unknown-command"),
    ],
)
def test_command_line_mistakes_are_one_line_usage_errors(args: list[str], expected: str, tmp_path: Path) -> None:
    """typer >= 0.26 raises its own (vendored click) exceptions: they must still be usage errors, exit 2."""
    proc = vidcolor_cli(*args)
    assert proc.returncode == 2
    assert_clean_failure(proc, tmp_path)
    assert expected in proc.stderr and "internal error" not in proc.stderr


def test_no_command_prints_the_help() -> None:
    proc = vidcolor_cli()
    assert proc.returncode == 2 and "Usage" in proc.stdout and "run" in proc.stdout
    assert "error" not in proc.stderr


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--temporal", "median"), ("--on-error", "ignore"), ("--temporal-strength", "1.5"), ("--render-size", "100"),
     ("--colour-gain", "0"), ("--neutral-shadows", "45:30")],
)
def test_bad_option_values_fail_before_the_model_loads(flag: str, value: str, tmp_path: Path) -> None:
    proc = vidcolor_cli("run", str(media("bw/moviepy_chaplin.mp4")), "-o", str(tmp_path / "o.mp4"), flag, value)
    assert proc.returncode == 2
    assert_clean_failure(proc, tmp_path)
    assert flag in proc.stderr and "loaded" not in proc.stderr


@pytest.mark.parametrize(("extra", "says"), [
    (["--encoder", "efficientnet_b0"], "choose one of efficientnet_lite0"),
    (["--encoder", "efficientnet_lite2", "--export", "v.pt"], "--export needs --encoder efficientnet_lite0"),
])
def test_bad_training_encoders_fail_before_any_training(extra: list[str], says: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    proc = vidcolor_cli("train", str(tmp_path / "pack.npz"), "--film", "--work-dir", str(work), "--steps", "1", *extra)
    assert proc.returncode == 2
    assert_clean_failure(proc, tmp_path)
    assert says in proc.stderr and not work.exists()


@pytest.mark.parametrize(("value", "says"), [("#500", "outside the film (pictures 0 to 240)"), ("40", "outside the film (0 to"),
                                            ("soon", "not seconds")])
def test_bad_preview_times_fail_in_one_line(value: str, says: str, tmp_path: Path) -> None:
    proc = vidcolor_cli("preview", str(media("bw/moviepy_chaplin.mp4")), "-o", str(tmp_path / "s.png"), "--at", value,
                        "--save-keyframes", str(tmp_path / "keys"))
    assert proc.returncode == 2
    assert_clean_failure(proc, tmp_path)
    assert says in proc.stderr and not (tmp_path / "keys").exists()


def test_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "film.mp4"
    src.write_bytes(media("edge/fatesuite_dvd_single_frame.mp4").read_bytes())
    before = src.read_bytes()
    proc = vidcolor_cli("run", str(src), "-o", str(src), "--overwrite")
    assert proc.returncode != 0 and "is the input" in proc.stderr
    assert src.read_bytes() == before


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    dst = tmp_path / "o.mp4"
    dst.write_bytes(b"keep me")
    proc = vidcolor_cli("run", str(media("edge/fatesuite_dvd_single_frame.mp4")), "-o", str(dst))
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert dst.read_bytes() == b"keep me"


def test_unwritable_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the tests run as root in CI, where permission bits do not stop writes; ask os.access instead
    from vidcolor import ColorizeOptions, colorize
    from vidcolor.errors import MediaError

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    with pytest.raises(MediaError, match="not writable"):
        colorize(media("edge/fatesuite_dvd_single_frame.mp4"), tmp_path / "o.mp4", ColorizeOptions(model="tiny", random_seed=0))
    assert list(tmp_path.iterdir()) == []


def test_debug_traceback_only_with_env(tmp_path: Path) -> None:
    env = {**os.environ, "VIDCOLOR_DEBUG": "1"}
    proc = subprocess.run([sys.executable, "-m", "vidcolor", "run", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.mp4")],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


# ---- start-up ------------------------------------------------------------------------------

# what makes a cold start take seconds; the commands that need them import them in their bodies
HEAVY = "('torch','timm','kornia','cv2','skimage','matplotlib')"


def test_cli_app_imports_nothing_heavy() -> None:
    code = f"import sys, vidcolor.cli.app; print(sorted(m for m in {HEAVY} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_help_through_the_console_script_entry_point() -> None:
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name="vidcolor")
    code = f"import sys; from {entry.module} import {entry.attr} as main; sys.argv = ['vidcolor', '--help']; sys.exit(main())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: vidcolor" in proc.stdout and "probe" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize("args", [
    pytest.param(["run", "--help"], id="run-help"),
    pytest.param(["weights", "list"], id="weights-list"),
    pytest.param(["probe", "bw/moviepy_chaplin.mp4"], id="probe"),
])
def test_light_commands_import_nothing_heavy(args: list[str]) -> None:
    from vidcolor.engines.hardware import gpu_possible

    if args[0] == "probe":
        if gpu_possible():
            pytest.skip("where a GPU may be present, probe asks torch which engine `run` would use")
        args = [args[0], str(media(args[1]))]
    code = ("import sys; from vidcolor.cli.main import main; code = main(sys.argv[1:]); "
            f"print(sorted(m for m in {HEAVY} if m in sys.modules), file=sys.stderr); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1] == "[]", proc.stderr
