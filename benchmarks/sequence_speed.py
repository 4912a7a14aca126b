"""Film scans: fps of an image sequence to FFV1 and to numbered stills, beside the same pictures as a video.

The first pictures of a clip are scaled to a scan's size and written as 10-bit RGB DPX stills
(what a 2K scanner delivers); the three runs then alternate, so the machine's load swings hit
them alike:

- DPX stills -> FFV1 video (yuv444p10le, full range: the scan's grey);
- DPX stills -> numbered DPX stills;
- the FFV1 film of the first run -> FFV1 video (the same pictures read from a video, for scale).

    python benchmarks/sequence_speed.py ../shared/media/bw/moviepy_chaplin.mp4 --frames 24 --rounds 2
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av

from vidcolor import ColorizeOptions, EncodeOptions, colorize


def write_dpx(clip: Path, folder: Path, frames: int, width: int, height: int) -> None:
    folder.mkdir(parents=True)
    with av.open(str(clip)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == frames:
                return
            with av.open(str(folder / f"scan_{i + 1:06d}.dpx"), "w", format="image2") as out:
                stream = out.add_stream("dpx")
                stream.width, stream.height, stream.pix_fmt = width, height, "gbrp10le"
                out.mux(stream.encode(frame.reformat(width=width, height=height, format="gbrp10le")))
                out.mux(stream.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="2048x1556", help="scan size, WxH (2K full aperture by default)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    ffv1 = ColorizeOptions(encode=EncodeOptions(codec="ffv1"), overwrite=True)
    with tempfile.TemporaryDirectory(prefix="vidcolor-seq-") as tmp:
        work = Path(tmp)
        write_dpx(args.clip, work / "in", args.frames, width, height)
        runs = {
            "DPX stills -> FFV1": lambda r: colorize(work / "in", work / f"film{r}.mkv", ffv1),
            "DPX stills -> DPX stills": lambda r: colorize(work / "in", work / f"stills{r}" / "%06d.dpx", ffv1),
            "FFV1 video -> FFV1": lambda r: colorize(work / "film0.mkv", work / f"video{r}.mkv", ffv1),
        }
        fps: dict[str, list[float]] = {name: [] for name in runs}
        for r in range(args.rounds):
            for name in runs if r % 2 == 0 else reversed(runs):
                if name == "FFV1 video -> FFV1" and not (work / "film0.mkv").exists():
                    runs["DPX stills -> FFV1"](0)
                fps[name].append(runs[name](r).fps)
        print(f"{args.frames} pictures at {width}x{height}, 10-bit RGB DPX, {args.rounds} alternating rounds")
        print("| input -> output | fps |\n|---|---:|")
        for name, values in fps.items():
            print(f"| {name} | {', '.join(f'{v:.1f}' for v in values)} |")


if __name__ == "__main__":
    main()
