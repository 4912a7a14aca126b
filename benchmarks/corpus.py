"""Corpus: every edge file and every damaged variant through ``vidcolor run``, with a time limit each.

Cases: all of ../shared/media/edge/ and, for each black-and-white clip, its damaged
family from tests/corpus.py (an excerpt with the moov box at the end, a zeroed header,
10 truncations, --flip-sets variants with 50 flipped bits each) and its archive family
(picture size changes in MP4/MKV/TS, 10 truncations each with and without the moov box
at the end, header durations 10x/100x too long and 10x too short, a thumbnail or second
angle stream, MPEG-2 packets without pictures), reproducible from --seed. The archive
family runs three ways: plain (--no-split), split (--segment-seconds 0.3) and auto.
Each runs the CLI entry point in its own process (forked from a warm forkserver) and
is judged: valid output (decodes, as many frames as reported, every picture that decodes
from the input at its own time), clean error (non-zero, one ``vidcolor: error:`` line),
hang (killed at --timeout), leftovers (output, work folder or ``.*.vidcolor-partial-*``
after a failure), traceback, input changed.

Run from the repository root:

    python benchmarks/corpus.py                      # tiny test network, x264 ultrafast
    python benchmarks/corpus.py --model lite         # the real network (seeded random weights): slow on a CPU
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.corpus import CaseResult, CliRunner, archive_variants, damaged_variants, run_case  # noqa: E402

SHARED_MEDIA = REPO.parent / "shared" / "media"
CLIPS = ("bw/moviepy_chaplin.mp4", "bw/hackverify_steamboat_willie_1928.mp4")


PATHS = {"plain": ("--no-split",), "split": ("--segment-seconds", "0.3"), "auto": ()}


def cases(work: Path, seed: int, seconds: float, flip_sets: int) -> list[tuple[str, Path, tuple[str, ...]]]:
    """(name, file, extra CLI arguments) of every case."""
    found = [(f"edge/{p.name}", p, ()) for p in sorted((SHARED_MEDIA / "edge").iterdir()) if p.is_file()]
    for i, clip in enumerate(CLIPS):
        variants = damaged_variants(SHARED_MEDIA / clip, work / f"variants{i}", seed=seed + i, seconds=seconds, flip_sets=flip_sets)
        found += [(v.name, v.path, ()) for v in variants]
    for i, clip in enumerate(CLIPS):
        variants = archive_variants(SHARED_MEDIA / clip, work / f"archive{i}", seed=seed + i, seconds=seconds)
        found += [(f"{v.name} [{path}]", v.path, args) for v in variants for path, args in PATHS.items()]
    return found


def table(results: list[CaseResult]) -> str:
    rows = [
        ("files tried", len(results)),
        ("outputs valid", sum(r.valid_output for r in results)),
        ("clean errors", sum(r.clean_error for r in results)),
        ("hangs", sum(r.hung for r in results)),
        ("leftovers", sum(bool(r.leftovers) for r in results)),
        ("tracebacks", sum(r.traceback for r in results)),
        ("internal errors", sum("internal error" in r.stderr for r in results)),
        ("inputs changed", sum(r.input_changed for r in results)),
        ("pictures or times not the input's", sum(r.timing_error is not None for r in results)),
        ("other rule broken", sum(bool(r.problems()) and not (r.hung or r.leftovers or r.traceback or r.input_changed or r.timing_error or "internal error" in r.stderr) for r in results)),
    ]
    return "\n".join(["| measure | count |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of the excerpts the damage is done to")
    parser.add_argument("--flip-sets", type=int, default=3, help="variants with 50 flipped bits, per clip")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a case counts as hung")
    parser.add_argument("--model", default="tiny", help="tiny (the tests' network) or a registered model, with seeded random weights")
    args = parser.parse_args()
    extra = ("--model", args.model, "--random-weights", "0", "--preset", "ultrafast")
    preload = ("vidcolor.cli.app", "tests.conftest")
    runner = CliRunner(preload)
    results: list[CaseResult] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vidcolor-corpus-") as tmp:
        work = Path(tmp)
        for i, (name, path, path_args) in enumerate(cases(work, args.seed, args.seconds, args.flip_sets)):
            result = run_case(runner, name, path, work / f"run{i}", timeout=args.timeout, extra=(*extra, *path_args))
            results.append(result)
            verdict = "valid" if result.valid_output else "clean error" if result.clean_error else "PROBLEM"
            last = (result.error_lines or [""])[0][len("vidcolor: error: "):][:110]
            print(f"{name:80s} {verdict:12s} exit {result.exit_code} {result.seconds:6.1f} s  {result.output_frames or ''}  {last}", flush=True)
            for problem in result.problems():
                print(f"    !! {problem}", flush=True)
    print()
    print(f"corpus: {len(results)} files in {time.perf_counter() - start:.0f} s, model {args.model} (seeded random weights), seed {args.seed}")
    print()
    print(table(results))


if __name__ == "__main__":
    main()
