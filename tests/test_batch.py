"""`vidcolor run DIR -o OUTDIR`: every video in a folder; a bad file is reported and the others finish."""

from __future__ import annotations

import os

import pytest

from tests.conftest import media
from vidcolor.cli.main import main
from vidcolor.jobs.batch import find_videos, output_for

TINY = ["--model", "tiny", "--random-weights", "0", "--preset", "ultrafast", "-q"]


@pytest.fixture
def folder(tmp_path):
    """Two good clips (one in a sub-folder) and a damaged one."""
    src = tmp_path / "in"
    (src / "reel2").mkdir(parents=True)
    os.symlink(media("edge/moviepy_test_video_1687B.mp4"), src / "a_tiny.mp4")
    os.symlink(media("edge/fatesuite_dvd_single_frame.mp4"), src / "reel2" / "b_still.mp4")
    (src / "c_bad.mp4").write_bytes(b"not a video at all" * 100)
    (src / "notes.txt").write_text("ignored")
    return src


def test_find_videos_and_output_names(folder, tmp_path) -> None:
    assert [p.name for p in find_videos(folder, recursive=False)] == ["a_tiny.mp4", "c_bad.mp4"]
    assert [p.name for p in find_videos(folder, recursive=True)] == ["a_tiny.mp4", "c_bad.mp4", "b_still.mp4"]
    out = tmp_path / "out"
    assert output_for(folder / "reel2" / "b_still.mp4", folder, out, "x264") == out / "reel2" / "b_still.mp4"
    assert output_for(folder / "x.webm", folder, out, "x264") == out / "x.mp4"
    assert output_for(folder / "x.mp4", folder, out, "ffv1") == out / "x.mkv"


def test_bad_file_does_not_stop_the_others(folder, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["run", str(folder), "-o", str(out), "-r", *TINY]) == 1
    assert (out / "a_tiny.mp4").is_file() and (out / "reel2" / "b_still.mp4").is_file()
    assert not (out / "c_bad.mp4").exists()
    table = capsys.readouterr().err
    assert "c_bad.mp4" in table and "failed" in table and "cannot read" in table
    assert table.count(" done ") == 2

    # a second run skips what is finished and only retries the bad file
    before = (out / "a_tiny.mp4").stat().st_mtime_ns
    assert main(["run", str(folder), "-o", str(out), "-r", *TINY]) == 1
    assert (out / "a_tiny.mp4").stat().st_mtime_ns == before
    table = capsys.readouterr().err
    assert table.count(" skipped ") == 2 and " failed " in table


def test_all_good_exits_zero(folder, tmp_path) -> None:
    (folder / "c_bad.mp4").unlink()
    assert main(["run", str(folder), "-o", str(tmp_path / "out"), *TINY]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a_tiny.mp4"]  # not recursive


def test_empty_folder_is_an_error(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["run", str(tmp_path / "empty"), "-o", str(tmp_path / "out"), *TINY]) != 0
