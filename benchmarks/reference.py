"""Colour references and keyframes (issue 12): quality on colour clips made black-and-white, speed on Chaplin.

For each clip in ../shared/media/color the first --frames frames are scaled to 640 px wide and
turned into black-and-white film: a panchromatic grey, the truth's own luma (Y plane, neutral
chroma), written losslessly (FFV1). Each film is coloured through the real pipeline
(``vidcolor.colorize`` with ``ColorizeOptions``, lite, default smoothing, FFV1 output) three times:

- no reference;
- keyframe: the truth's own frame 0 as ``frame0.png@#0``;
- palette: the clip's last frame (``--palette-frame``, default -1: 6-14 s later, the same scene
  but not one of the scored frames) as a plain ``--reference``: "similar content, not from the
  scored frames". It is a far-away frame of the same scene, not an independent photograph.

and once more with the truth's frame N/2 as keyframe (``@#20``), scored before and after it,
to show the keyframe reaches back through its shot as well as forward.

Scored over frames 1..N-1 against the truth (CIE Lab from the truth's RGB; the output's own
RGB converted the same way): mean ab error (Euclidean, per pixel), the same for a grey output
(|ab| of the truth), the wrong-vivid share (|ab| > 15 where the truth's |ab| < 6 or the hue is
more than 90 degrees off), CDC (vidcolor.evaluate.flicker) over all N frames.

Speed: Chaplin (640x360, 241 frames) end to end with ``vidcolor.colorize`` (x264, as `vidcolor run`),
no reference / one palette reference / one keyframe (#0, a frame coloured by the no-reference run),
alternating in one process, --speed-repeats rounds, median fps of each and its ratio to no reference.

Writes benchmarks/results/reference.json, reference.md and reference_sheet.png
(film | no reference | keyframe | palette | truth, frames N/2 and N-1 of each clip).

    OMP_NUM_THREADS=1 python benchmarks/reference.py
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from vidcolor import ColorizeOptions, colorize
from vidcolor.evaluate.flicker import cdc
from vidcolor.media.encode import EncodeOptions

SHARED = Path(__file__).resolve().parents[2] / "shared"
RESULTS = Path(__file__).resolve().parent / "results"
WIDTH = 640
MODELS: set[str] = set()  # the model labels the runs used, for the report


def read_clip(path: Path, frames: int, palette_frame: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The first ``frames`` RGB frames scaled to WIDTH, the palette frame, and the frame rate."""
    out, last = [], None
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        rate = float(stream.average_rate or 25)
        total = stream.frames or 0
        want = palette_frame if palette_frame >= 0 else None
        for i, frame in enumerate(c.decode(stream)):
            rgb = frame.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            if w != WIDTH:
                rgb = cv2.resize(rgb, (WIDTH, round(h * WIDTH / w / 2) * 2), interpolation=cv2.INTER_AREA)
            if i < frames:
                out.append(rgb)
            last = rgb
            if want is not None and i == want:
                break
    del total
    return np.stack(out), last, rate


def write_film(rgb: np.ndarray, rate: float, dst: Path) -> None:
    """Black-and-white film from colour truth: its luma, neutral chroma, lossless."""
    with av.open(str(dst), "w") as c:
        s = c.add_stream("ffv1", rate=round(rate))
        s.width, s.height, s.pix_fmt = rgb.shape[2], rgb.shape[1], "yuv420p"
        for frame_rgb in rgb:
            y = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2GRAY)
            frame = av.VideoFrame.from_ndarray(y, format="gray").reformat(format="yuv420p")
            for p in c.mux(s.encode(frame)) or []:
                pass
        c.mux(s.encode(None))


def read_rgb_video(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def lab(rgb: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f.astype(np.float32) / 255, cv2.COLOR_RGB2LAB) for f in rgb])


def scores(out_rgb: np.ndarray, truth_lab: np.ndarray, shot_end: int) -> dict[str, float]:
    """Over frames 1..N-1: ab error, wrong-vivid share; CDC over all frames; ab error over frames 1..shot_end-1 too."""
    o = lab(out_rgb)[1:, ..., 1:]
    t = truth_lab[1:, ..., 1:]
    err = np.linalg.norm(o - t, axis=-1)
    o_c, t_c = np.linalg.norm(o, axis=-1), np.linalg.norm(t, axis=-1)
    cos = (o * t).sum(-1) / np.maximum(o_c * t_c, 1e-6)
    wrong = (o_c > 15) & ((t_c < 6) | (cos < 0))
    return {"ab_error": float(err.mean()), "wrong_vivid": float(wrong.mean()), "cdc": cdc(out_rgb),
            "ab_error_first_shot": float(err[: shot_end - 1].mean()), "wrong_vivid_first_shot": float(wrong[: shot_end - 1].mean()),
            "cdc_first_shot": cdc(out_rgb[:shot_end])}


def first_shot_end(film: Path) -> int:
    """The first scene cut the pipeline's detector finds (the number of frames when there is none)."""
    from vidcolor.media import probe
    from vidcolor.media.segments import scan_frames
    from vidcolor.reference.shots import scan_shots

    index = scan_frames(film)
    cuts = scan_shots(film, probe(film).video, index.pts, ()).cuts
    return cuts[1] if len(cuts) > 1 else index.frames


def colour(src: Path, dst: Path, refs: tuple[str, ...], codec: str = "ffv1") -> tuple[np.ndarray | None, float, float]:
    """The output's RGB (FFV1 only), and fps by wall time and by this process's CPU time (all its threads)."""
    cpu = time.process_time()
    result = colorize(src, dst, ColorizeOptions(model="lite", references=refs, overwrite=True,
                                               encode=EncodeOptions(codec=codec)))
    cpu_fps = result.frames / (time.process_time() - cpu)
    MODELS.add(result.model)
    return (read_rgb_video(dst) if codec == "ffv1" else None), result.fps, cpu_fps


def tile(rgb: np.ndarray, width: int = 200) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def label(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    for colour_, thick in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(img, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour_, thick, cv2.LINE_AA)
    return img


def quality(args: argparse.Namespace, work: Path) -> tuple[list[dict], list[np.ndarray]]:
    rows, sheet = [], []
    for path in sorted((SHARED / "media/color").glob("*.mp4")):
        if args.clips and path.stem not in args.clips:
            continue
        truth, far, rate = read_clip(path, args.frames, args.palette_frame)
        film = work / f"{path.stem}_film.mkv"
        write_film(truth, rate, film)
        key = work / f"{path.stem}_frame0.png"
        cv2.imwrite(str(key), cv2.cvtColor(truth[0], cv2.COLOR_RGB2BGR))
        pal = work / f"{path.stem}_palette.png"
        cv2.imwrite(str(pal), cv2.cvtColor(far, cv2.COLOR_RGB2BGR))
        truth_lab = lab(truth)
        shot_end = first_shot_end(film)
        runs = {"none": (), "keyframe": (f"{key}@#0",), "palette": (str(pal),)}
        outs: dict[str, np.ndarray] = {}
        row = {"clip": path.stem, "grey_ab_error": float(np.linalg.norm(truth_lab[1:, ..., 1:], axis=-1).mean()),
               "first_cut": shot_end if shot_end < len(truth) else None,
               "grey_ab_error_first_shot": float(np.linalg.norm(truth_lab[1:shot_end, ..., 1:], axis=-1).mean())}
        for name, refs in runs.items():
            outs[name], _, _ = colour(film, work / f"{path.stem}_{name}.mkv", refs)
            row[name] = scores(outs[name], truth_lab, shot_end)
        # a keyframe in the middle of the clip: its colours must reach back as well as forward
        mid = len(truth) // 2
        if mid < shot_end:
            key_mid = work / f"{path.stem}_frame{mid}.png"
            cv2.imwrite(str(key_mid), cv2.cvtColor(truth[mid], cv2.COLOR_RGB2BGR))
            out_mid, _, _ = colour(film, work / f"{path.stem}_mid.mkv", (f"{key_mid}@#{mid}",))
            err = np.linalg.norm(lab(out_mid)[..., 1:] - truth_lab[..., 1:], axis=-1).mean(axis=(1, 2))
            grey = np.linalg.norm(truth_lab[..., 1:], axis=-1).mean(axis=(1, 2))
            row["keyframe_mid"] = {"frame": mid, "ab_error_before": float(err[:mid].mean()), "grey_before": float(grey[:mid].mean()),
                                   "ab_error_after": float(err[mid + 1 : shot_end].mean()), "grey_after": float(grey[mid + 1 : shot_end].mean())}
        rows.append(row)
        print(json.dumps(row), flush=True)
        grey = np.repeat(cv2.cvtColor(truth[0], cv2.COLOR_RGB2GRAY)[..., None], 3, -1)
        del grey
        for i in (len(truth) // 2, len(truth) - 1):  # frame 1 is the keyframe's neighbour: the middle and the end tell more
            film_rgb = np.repeat(cv2.cvtColor(truth[i], cv2.COLOR_RGB2GRAY)[..., None], 3, -1)
            cells = [label(tile(film_rgb), f"{path.stem[:18]} #{i} film"), label(tile(outs["none"][i]), "no reference"),
                     label(tile(outs["keyframe"][i]), "keyframe #0"), label(tile(outs["palette"][i]), "palette"),
                     label(tile(truth[i]), "truth")]
            sheet.append(np.concatenate([np.pad(c, ((0, 2), (0, 2), (0, 0)), constant_values=255) for c in cells], axis=1))
    return rows, sheet


def speed(args: argparse.Namespace, work: Path) -> dict:
    chaplin = SHARED / "media/bw/moviepy_chaplin.mp4"
    # a keyframe for Chaplin: its first picture as the no-reference run colours it (a stand-in for a hand-coloured frame)
    first, _, _ = colour(chaplin, work / "chaplin_none.mkv", ())
    key = work / "chaplin_key0.png"
    cv2.imwrite(str(key), cv2.cvtColor(first[0], cv2.COLOR_RGB2BGR))
    # one colour photograph (any will do for speed): a frame of the first colour clip
    _, far, _ = read_clip(sorted((SHARED / "media/color").glob("*.mp4"))[0], 1, 0)
    palette = str(work / "speed_palette.png")
    cv2.imwrite(palette, cv2.cvtColor(far, cv2.COLOR_RGB2BGR))
    settings = {"none": (), "palette": (palette,), "keyframe": (f"{key}@#0",)}
    fps: dict[str, list[float]] = {k: [] for k in settings}
    cpu_fps: dict[str, list[float]] = {k: [] for k in settings}
    for _ in range(args.speed_repeats):
        for name, refs in settings.items():
            _, f, c = colour(chaplin, work / f"chaplin_speed_{name}.mp4", refs, codec="x264")
            fps[name].append(f)
            cpu_fps[name].append(c)
    # per round, each setting against the no-reference run next to it: background load on a shared
    # machine moves all three of a round together more than it moves rounds apart
    ratios = {k: statistics.median(fps[k][i] / fps["none"][i] for i in range(args.speed_repeats)) for k in ("palette", "keyframe")}
    cpu_ratios = {k: statistics.median(cpu_fps[k][i] / cpu_fps["none"][i] for i in range(args.speed_repeats))
                  for k in ("palette", "keyframe")}
    med = {k: statistics.median(v) for k, v in fps.items()}
    return {"fps_runs": fps, "cpu_fps_runs": cpu_fps, "fps_median": med, "palette_reference": Path(palette).name,
            "ratio_palette": ratios["palette"], "ratio_keyframe": ratios["keyframe"],
            "cpu_ratio_palette": cpu_ratios["palette"], "cpu_ratio_keyframe": cpu_ratios["keyframe"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--palette-frame", type=int, default=-1, help="frame of the clip used as palette (-1: last)")
    parser.add_argument("--clips", nargs="*", default=[])
    parser.add_argument("--speed-repeats", type=int, default=3)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vidcolor-ref-") as tmp:
        work = Path(tmp)
        rows, sheet = ([], []) if args.skip_quality else quality(args, work)
        spd = None if args.skip_speed else speed(args, work)
    report = {"machine": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
              "models": sorted(MODELS),
              "frames": args.frames, "clips": rows, "speed": spd, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (args.out / "reference.json").write_text(json.dumps(report, indent=1))
    if sheet:
        width = max(r.shape[1] for r in sheet)
        rows_rgb = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in sheet])
        cv2.imwrite(str(args.out / "reference_sheet.png"), cv2.cvtColor(rows_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    lines = ["| clip | grey ab err | none ab err | keyframe ab err (ratio to grey) | palette ab err (vs none) | wrong-vivid none / key / palette | CDC none / key |",
             "|---|---|---|---|---|---|---|"]
    cut_notes = []
    for r in rows:
        n, k, p = r["none"], r["keyframe"], r["palette"]
        if r["first_cut"]:
            cut_notes.append(f"{r['clip']}: scene cut at frame {r['first_cut']}; over the keyframe's shot (frames 1-{r['first_cut'] - 1}) "
                             f"grey {r['grey_ab_error_first_shot']:.2f}, none {n['ab_error_first_shot']:.2f}, keyframe {k['ab_error_first_shot']:.2f} "
                             f"({k['ab_error_first_shot'] / r['grey_ab_error_first_shot']:.2f} of grey), wrong-vivid {100 * k['wrong_vivid_first_shot']:.2f} %, "
                             f"CDC none / keyframe {n['cdc_first_shot']:.5f} / {k['cdc_first_shot']:.5f}")
        lines.append(f"| {r['clip']} | {r['grey_ab_error']:.2f} | {n['ab_error']:.2f} | {k['ab_error']:.2f} ({k['ab_error'] / r['grey_ab_error']:.2f}) "
                     f"| {p['ab_error']:.2f} ({p['ab_error'] - n['ab_error']:+.2f}) "
                     f"| {100 * n['wrong_vivid']:.2f} / {100 * k['wrong_vivid']:.2f} / {100 * p['wrong_vivid']:.2f} % "
                     f"| {n['cdc']:.5f} / {k['cdc']:.5f} |")
    if cut_notes:
        lines += [""] + [f"- {c}" for c in cut_notes]
    mids = [r for r in rows if "keyframe_mid" in r]
    if mids:
        lines += ["", "Keyframe in the middle (frame N/2): ab error before it / after it (in its shot), grey's in brackets:"]
        for r in mids:
            m = r["keyframe_mid"]
            lines.append(f"- {r['clip']} @#{m['frame']}: {m['ab_error_before']:.2f} ({m['grey_before']:.2f}) / "
                         f"{m['ab_error_after']:.2f} ({m['grey_after']:.2f})")
    if spd:
        m = spd["fps_median"]
        lines.append("")
        lines.append(f"Chaplin end to end (x264), {args.speed_repeats} alternating rounds, median fps: none {m['none']:.2f}, "
                     f"one palette reference {m['palette']:.2f}, one keyframe {m['keyframe']:.2f} (includes the shot pre-pass). "
                     f"Median per-round ratio to none: palette {100 * spd['ratio_palette']:.0f} %, keyframe "
                     f"{100 * spd['ratio_keyframe']:.0f} % (wall); by process CPU time {100 * spd['cpu_ratio_palette']:.0f} % "
                     f"and {100 * spd['cpu_ratio_keyframe']:.0f} %.")
        lines.append(f"Wall fps per run: {json.dumps({k: [round(x, 2) for x in v] for k, v in spd['fps_runs'].items()})}")
    (args.out / "reference.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
