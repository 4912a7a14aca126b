"""Archive inputs (issue 13): picture size changes, truncations, lying headers, extra video streams, packets without pictures.

Every case goes through the real CLI three times: as a plain run (--no-split), as a split job
(--segment-seconds 0.3) and with the default choice between them. Each must colour what decodes, each kept picture at its own time,
or fail in one line leaving nothing behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import media
from tests.corpus import TINY_ARGS, CliRunner, CaseResult, Variant, archive_variants, run_case

CLIP = "bw/moviepy_chaplin.mp4"
SEED = 13
# auto: split or not as the film's length says (by its packets, whatever its header claims)
PATHS = {"plain": ("--no-split",), "split": ("--segment-seconds", "0.3"), "auto": ()}


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner(("vidcolor.cli.app", "tests.conftest"))


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> list[Variant]:
    # 4 truncations of each kind here (benchmarks/corpus.py runs 10): they fail or pass alike on every path
    return archive_variants(media(CLIP), tmp_path_factory.mktemp("archive"), seed=SEED, truncations=4)


def check(result: CaseResult, variant: Variant) -> None:
    # problems() includes the timing: every picture that decodes from the input, at its own time
    assert not result.problems(), (variant.name, result.problems(), result.stderr[-800:])
    assert result.valid_output or result.clean_error, (variant.name, result.stderr[-800:])


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(PATHS))
def test_archive_corpus(runner: CliRunner, variants: list[Variant], tmp_path: Path, path: str) -> None:
    results = {}
    for i, variant in enumerate(variants):
        work = tmp_path / f"case{i}"
        result = run_case(runner, variant.name, variant.path, work, timeout=120, extra=(*TINY_ARGS, *PATHS[path]))
        check(result, variant)
        results[variant.name] = result
    by_kind = {name.split("/")[1]: r for name, r in results.items()}
    for kind in ("size-change.mp4", "size-change.mkv", "size-change.ts"):
        assert by_kind[kind].output_frames == 24, kind
        assert "scaled to" in by_kind[kind].stderr and "internal error" not in by_kind[kind].stderr
    for kind, frames in (("header-10x-long.mkv", 25), ("header-100x-long.mkv", 25), ("header-10x-short.mp4", 25),
                         ("extra-thumbnail.mkv", 25), ("extra-second-angle.mkv", 25),
                         ("no-picture-tail-1000x-long.mkv", 18), ("no-picture-middle.ts", 21)):
        assert by_kind[kind].output_frames == frames, (kind, by_kind[kind].stderr[-500:])
    if path == "split":
        assert "colouring it in one pass" in by_kind["no-picture-tail-1000x-long.mkv"].stderr
    if path == "auto":  # the header claims 16 minutes: more than a segment, but the packets span 1 s
        assert "its video packets span 1.0 s" in by_kind["no-picture-tail-1000x-long.mkv"].stderr
    # the moov box decides how much of a truncated MP4 is left: at the end, nothing; first, what was written
    assert all(not r.valid_output for n, r in by_kind.items() if n.startswith("truncated-moov-at-end"))
    assert any(r.valid_output for n, r in by_kind.items() if n.startswith("truncated-moov-first"))
