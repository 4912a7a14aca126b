"""Bad input and hostile files: every case works or fails in one line, nothing half-written, input untouched."""

from __future__ import annotations

import ast
import logging
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest
import torch

from tests.conftest import SHARED, media
from tests.corpus import TINY_ARGS, CliRunner, CaseResult, damaged_variants, excerpt, run_case
from tests.streams import summarize
from vidcolor import ColorizeOptions, EncodeOptions, colorize
from vidcolor.errors import MediaError, WeightsError

TINY = ColorizeOptions(model="tiny", random_seed=0, encode=EncodeOptions(preset="ultrafast"))
SEED = 7
CLIPS = ("bw/moviepy_chaplin.mp4", "bw/hackverify_steamboat_willie_1928.mp4")
# small enough for every CI run; the rest of edge/ runs in the slow test
FAST_EDGE = (
    "fatesuite_dvd_single_frame.mp4",
    "fatesuite_vp92-2-20-10bit-yuv420.mp4",
    "hackverify_empty_0byte.mp4",
    "matroska_invalid_ebml_really_invalid_EBML_ElementDataSize_in_EBMLHeader.mkv",
    "moviepy_test_video_1687B.mp4",
    "pyscenedetect_resources_LICENSE.txt",
)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner(("vidcolor.cli.app", "tests.conftest"))


def edge_files() -> list[Path]:
    folder = media("edge")
    return sorted(p for p in folder.iterdir() if p.is_file())


def check_cases(results: list[CaseResult]) -> None:
    problems = {r.name: r.problems() for r in results if r.problems()}
    assert not problems, problems
    assert all(r.valid_output or r.clean_error for r in results)


def run_corpus(runner: CliRunner, cases: list[tuple[str, Path]], work: Path, timeout: float) -> list[CaseResult]:
    return [run_case(runner, name, path, work / f"case{i}", timeout=timeout, extra=TINY_ARGS) for i, (name, path) in enumerate(cases)]


def test_corpus_fast(runner: CliRunner, tmp_path: Path) -> None:
    """A sample of the corpus, every rule checked: edge files that are small, one clip's damaged family in part."""
    rng = random.Random(SEED)
    variants = damaged_variants(media(CLIPS[0]), tmp_path / "variants", seed=SEED, truncations=10)
    by_kind = {v.name.split("/")[1].split("@")[0].split("#")[0]: v for v in variants}
    sample = [by_kind["moov-at-end"], by_kind["zeroed-header"], by_kind["flips50"], *rng.sample([v for v in variants if "truncated" in v.name], 2)]
    cases = [(f"edge/{name}", media(f"edge/{name}")) for name in FAST_EDGE] + [(v.name, v.path) for v in sample]
    results = run_corpus(runner, cases, tmp_path / "runs", timeout=120)
    check_cases(results)
    # the moov box really is at the end, and that file is fine
    moov_end = next(r for r in results if r.name.endswith("moov-at-end"))
    assert moov_end.valid_output


# large, slow to colour on a CPU (minutes each here), and already run end to end by test_stream.py;
# benchmarks/corpus.py runs them through the CLI with the rest
BENCHMARK_ONLY_EDGE = (
    "mediabunny_cursed-vfr.mp4",
    "mediabunny_video-h265.mp4",
    "pyscenedetect_issue-134-rotate.mp4",
    "pyscenedetect_issue-236-split-copy.mkv",
)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # many cases, each under its own time limit
def test_corpus_full(runner: CliRunner, tmp_path: Path) -> None:
    """The rest of edge/ and the whole damaged family (10 truncations, 50 flips, zeroed header, moov at end) of both clips."""
    skip = set(FAST_EDGE) | set(BENCHMARK_ONLY_EDGE)
    cases = [(f"edge/{p.name}", p) for p in edge_files() if p.name not in skip]
    for i, clip in enumerate(CLIPS):
        cases += [(v.name, v.path) for v in damaged_variants(media(clip), tmp_path / f"variants{i}", seed=SEED + i)]
    check_cases(run_corpus(runner, cases, tmp_path / "runs", timeout=300))


def test_moov_at_end_variant_has_moov_last(tmp_path: Path) -> None:
    from tests.corpus import mp4_boxes

    variants = damaged_variants(media(CLIPS[1]), tmp_path, seed=SEED, truncations=1)
    moov_end = next(v for v in variants if v.name.endswith("moov-at-end"))
    kinds = [kind for kind, _, _ in mp4_boxes(moov_end.path)]
    assert kinds.index("moov") > kinds.index("mdat")
    faststart = [kind for kind, _, _ in mp4_boxes(tmp_path / f"{media(CLIPS[1]).stem}.faststart.mp4")]
    assert faststart.index("moov") < faststart.index("mdat")


def test_unknown_codec_tag_is_a_media_error(tmp_path: Path) -> None:
    """A flipped sample-entry fourcc leaves PyAV without a codec context (found by benchmarks/corpus.py)."""
    from vidcolor.media import probe

    clean = tmp_path / "clean.mp4"
    excerpt(media(CLIPS[1]), clean, 0.2)
    data = clean.read_bytes()
    at = data.rfind(b"avc1")  # the sample entry in moov (moov is last); the first is a brand in ftyp
    assert at > data.find(b"moov") > 0
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(data[:at] + b"zvc1" + data[at + 4 :])
    with pytest.raises(MediaError, match="no decoder for its video stream"):
        probe(bad)


# ---- corrupt packets mid-stream ---------------------------------------------------------------

GARBLED = {9, 20, 33}


@pytest.fixture(scope="module")
def garbled_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of the Steamboat Willie h264 clip with three packets' payloads scrambled in the middle."""
    path = tmp_path_factory.mktemp("garbled") / "garbled.mp4"
    excerpt(media(CLIPS[1]), path, 2.0, garble=GARBLED)
    return path


def packet_pts(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return sorted(p.pts for p in container.demux(container.streams.video[0]) if p.size)


def test_corrupt_packets_stop_by_default_naming_the_time(garbled_clip: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"undecodable video packet at \d+\.\d{3} s: .*--on-error skip") as info:
        colorize(garbled_clip, tmp_path / "out.mp4", TINY)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_packets_skipped_keep_every_frame_and_time(garbled_clip: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    options = ColorizeOptions(model="tiny", random_seed=0, on_error="skip", encode=EncodeOptions(preset="ultrafast"))
    with caplog.at_level(logging.WARNING, logger="vidcolor"):
        result = colorize(garbled_clip, tmp_path / "out.mp4", options)
    want = packet_pts(garbled_clip)
    out = summarize(tmp_path / "out.mp4", keep_luma=False)
    assert result.frames == len(out.pts) == len(want)
    assert out.pts == want  # concealed frames sit exactly where the lost pictures were
    assert result.concealed_frames >= 1
    assert any("undecodable video packet at" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("seed", range(4))
def test_frame_reader_fills_every_lost_picture(seed: int, tmp_path: Path) -> None:
    from vidcolor.media import FrameReader, probe

    garble = set(random.Random(seed).sample(range(1, 57), 3))
    path = tmp_path / "g.mp4"
    excerpt(media(CLIPS[1]), path, 2.0, garble=garble)
    reader = FrameReader(path, probe(path).video, on_error="skip")
    frames = list(reader)
    assert [f.pts for f in frames] == packet_pts(path)
    assert reader.stats.repeated == sum(f.repeated for f in frames)
    assert reader.stats.errors >= 1 and reader.stats.concealed >= reader.stats.repeated


def test_clean_stream_is_the_same_with_skip(tmp_path: Path) -> None:
    """Concealment only starts after damage: a clean file (edit list, B-frames) decodes identically."""
    from vidcolor.media import FrameReader, probe

    src = media(CLIPS[0])
    info = probe(src).video
    stop = [f.pts for f in FrameReader(src, info, on_error="stop")]
    reader = FrameReader(src, info, on_error="skip")
    assert [f.pts for f in reader] == stop
    assert reader.stats.concealed == 0


def test_skip_summary_via_cli(runner: CliRunner, garbled_clip: Path, tmp_path: Path) -> None:
    result = run_case(runner, "garbled", garbled_clip, tmp_path / "run", timeout=120, extra=(*TINY_ARGS, "--on-error", "skip"))
    assert result.valid_output and not result.problems(), result.stderr
    assert "undecodable video packet at" in result.stderr
    assert "frames could not be decoded and were concealed" in result.stderr


# ---- security --------------------------------------------------------------------------------


class _Payload:
    """Unpickling this calls open(marker, "w"): code a weights file must never get to run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _malicious(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1), "x": _Payload(marker)}}, path)
    assert not marker.exists()
    return path, marker


def test_malicious_pickle_is_refused_without_running(tmp_path: Path) -> None:
    from vidcolor.models import load_model

    path, marker = _malicious(tmp_path)
    with pytest.raises(WeightsError, match="not a loadable weights file"):
        load_model("tiny", weights_path=path)  # no checksum for tiny: weights_only=True must stop it
    with pytest.raises(WeightsError, match="sha256"):
        load_model("eccv16", weights_path=path)  # the checksum stops it before any unpickling
    assert not marker.exists()


def test_malicious_pickle_via_cli(runner: CliRunner, tmp_path: Path) -> None:
    path, marker = _malicious(tmp_path)
    out = tmp_path / "run"
    code, stderr, _ = runner.run(["run", str(media("edge/fatesuite_dvd_single_frame.mp4")), "-o", str(out / "o.mp4"), "--model", "tiny", "--weights", str(path)],
                                 timeout=120, log_path=tmp_path / "log")
    assert code == 1 and "Traceback" not in stderr
    assert len([line for line in stderr.splitlines() if line.startswith("vidcolor: error:")]) == 1, stderr
    assert not marker.exists()


def test_awkward_paths_via_real_cli(tmp_path: Path) -> None:
    """A leading dash, spaces and non-ASCII letters in both names, through the real command line."""
    name = "-weird name é ñ 映画.mp4"
    shutil.copy(media("edge/fatesuite_dvd_single_frame.mp4"), tmp_path / name)
    env = {k: v for k, v in os.environ.items() if k != "VIDCOLOR_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "vidcolor", "run", "-o", "-out é.mkv", "--model", "lite", "--random-weights", "0", "-q", "--preset", "ultrafast", "--", name],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "-out é.mkv"])
    assert len(summarize(tmp_path / "-out é.mkv", keep_luma=False).pts) == 1


def test_dot_slash_dash_paths(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "-film.mp4"
    shutil.copy(media("edge/fatesuite_dvd_single_frame.mp4"), src)
    cwd = Path.cwd()
    os.chdir(tmp_path)  # the forked child inherits it
    try:
        code, stderr, _ = runner.run(["run", "./-film.mp4", "-o", "./-colour film.mkv", *TINY_ARGS], timeout=120, log_path=tmp_path / "log")
    finally:
        os.chdir(cwd)
    assert code == 0, stderr
    assert (tmp_path / "-colour film.mkv").is_file()


SHELL_CALLS = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"), ("subprocess", "getstatusoutput")}
PROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}


def _shell_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (func.value.id, func.attr) in SHELL_CALLS:
            found.append(f"{func.value.id}.{func.attr}")
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                found.append("shell=")
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in PROCESS_CALLS and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
            if not isinstance(node.args[0], ast.Constant) or isinstance(node.args[0].value, str):
                found.append(f"{name}(<string>)")
    return found


def test_no_subprocess_gets_a_shell_string() -> None:
    package = Path(__file__).resolve().parents[1] / "vidcolor"
    offenders = {}
    for path in package.rglob("*.py"):
        uses = _shell_uses(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if uses:
            offenders[str(path.relative_to(package))] = uses
    assert not offenders, offenders


def test_shell_scan_catches_what_it_should() -> None:
    bad = "import os, subprocess\nos.system('ls')\nsubprocess.run('ls', shell=True)\nsubprocess.run(f'ls {x}')\n"
    assert _shell_uses(ast.parse(bad)) == ["os.system", "shell=", "run(<string>)", "run(<string>)"]
    assert _shell_uses(ast.parse("import subprocess\nsubprocess.run(['ls', x], check=False)\n")) == []


def test_shared_media_is_never_written(tmp_path: Path) -> None:
    """The pipeline opens inputs read-only: a run over a read-only copy works and leaves it byte-identical."""
    src = tmp_path / "in.mp4"
    shutil.copy(media("edge/fatesuite_dvd_single_frame.mp4"), src)
    src.chmod(0o444)
    before = src.read_bytes()
    colorize(src, tmp_path / "out.mkv", TINY)
    assert src.read_bytes() == before
    assert SHARED.exists()
