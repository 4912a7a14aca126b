"""Archival benchmark (issue 11): colour footage made into black-and-white film, coloured
by the real pipeline, and scored against its own colour, beside the grayscale baseline.

Material: the colour clips of ../shared/media/color (the first --frames pictures of each,
as orthochromatic and panchromatic film with grain, blur, contrast and exposure flicker),
and folders of colour photographs as one-picture films (stock alternating per photo). The
clips go through ``vidcolor.colorize`` (decode, network, smoother, decode, encode); the
photos through the still-image path (``colorize_rgb``, what ``vidcolor run photo.jpg`` runs).

Each variant is ``NAME=MODEL[,weights=PATH][,t=T][,gate=FLOOR:SPAN][,gain=G][,ramp=L0:L1][,dark=L][,shadows=L0:L1][,render=S][,meta=aspect|square]``
(``ramp``: the gain rises from 1 at L* L0 to G at L1);
variants run in turns clip by clip, so the machine's load swings hit them alike.

Writes archival.json, archival.md and contact sheets: films (truth | film | variants), real
old film (chaplin, steamboat: film | variants), real old photographs (../shared/media/photos_bw,
1850-1930: photo | variants), and for each photo folder the photographs
named by --photo-sheet. Photo folders: ../shared/datasets/val, photographs from outside the
training sources, and the period photographs of benchmarks/period_photos.py (1905-1915, with
the dark wool coats that modern photographs rarely have):

    python benchmarks/archival.py --out /tmp/archival --variant v4=lite.v4 \
        --photos ../shared/datasets/val --photos /work/data/period_photos \
        --photo-sheet pg_three_generations --photo-sheet pg_settlers --photo-sheet pg_emir

    python benchmarks/archival.py --out /tmp/archival \\
        --variant v1=lite.v1 --variant v2=lite.v2 --photos ../shared/datasets/val
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch

from vidcolor.engines import open_engine
from vidcolor.evaluate.report import sheet_image
from vidcolor.evaluate.archival import Scores, colour_clip, film_clip, fit_long_side, grey_rgb, score_clip, simulate_film
from vidcolor.media.seek import rgb_frames_at
from vidcolor.models import get_weights, register_weights
from vidcolor.models.loading import LoadedModel, load_model
from vidcolor.pipeline import ColorizeOptions
from vidcolor.pipeline.image import colorize_rgb
from vidcolor.pipeline.predict import render_plan
from vidcolor.train.data import list_images, read_rgb

SHARED = Path(__file__).resolve().parents[2] / "shared"
OLD_FILMS = {"chaplin": ("bw/moviepy_chaplin.mp4", (1.0, 4.5, 8.0)), "steamboat": ("bw/hackverify_steamboat_willie_1928.mp4", (1.0, 3.5, 6.0))}
# real black-and-white photographs, 1850-1930 (DeOldify's test images, see PROVENANCE.tsv), with
# the dark coats and dresses the films have: looked at, not scored (there is no truth)
OLD_PHOTOS = ("1850Geography", "1897BlindmansBluff", "CorkKids1910", "LondonsSmallestShop1900", "Paris1926",
              "SecondHandClothesLondonLate1800s")
PHOTO_STOCKS = ("pan", "ortho")


def parse_variant(text: str) -> tuple[str, str, dict[str, str]]:
    name, _, spec = text.partition("=")
    model, *pairs = spec.split(",")
    return name, model, dict(p.split("=", 1) for p in pairs)


def register_candidate(name: str, model: str, weights: Path | None, meta: str | None,
                       extra_meta: dict | None = None) -> tuple[str, Path | None]:
    """Register ``<arch>.<name>``: the weights record of ``model`` with another weights file,
    ``meta`` ``aspect`` or ``square``, and/or ``extra_meta`` keys, so that the real run reads
    the same settings. Returns the model name to run and the weights file to load (None: as
    ``model`` is)."""
    if weights is None and meta is None and not extra_meta:
        return model, None
    base = get_weights(model)
    amended = {**base.meta, **(extra_meta or {})}
    if meta in ("aspect", "square"):
        amended["aspect_true"] = meta == "aspect"
    name = f"{base.arch}.{name}"
    register_weights(base.arch, replace(base, name=name, sha256="", packaged=None, meta=amended,
                                        filename=weights.name if weights else base.filename))
    return name, weights or base.packaged_path()


def variant_model(name: str, model: str, fields: dict[str, str]) -> tuple[LoadedModel, ColorizeOptions]:
    """The loaded network and the run options of one variant; one with its own weights file or
    ``meta=`` runs as a registered candidate (see ``register_candidate``)."""
    extra = {"colour_gain_ramp": [float(x) for x in fields["ramp"].split(":")]} if "ramp" in fields else None
    model, weights = register_candidate(name, model, Path(fields["weights"]) if "weights" in fields else None,
                                        fields.get("meta"), extra)
    loaded = load_model(model, weights_path=weights)
    gate = tuple(float(x) for x in fields["gate"].split(":")) if "gate" in fields else None
    options = ColorizeOptions(
        model=model, weights=weights, temperature=float(fields["t"]) if "t" in fields else None,
        render_size=int(fields["render"]) if "render" in fields else None, confidence_gate=gate,
        colour_gain=float(fields["gain"]) if "gain" in fields else None,
        dark_knee=float(fields["dark"]) if "dark" in fields else None, neutral_shadows=fields.get("shadows"),
        overwrite=True, device="cpu",
    )
    return loaded, options


def _photo_film(path: Path, index: int, max_side: int = 512) -> tuple[np.ndarray, np.ndarray]:
    rgb = fit_long_side(read_rgb(path), max_side)
    grey = simulate_film(rgb[None], PHOTO_STOCKS[index % 2], seed=index, flicker=0.0)[0]
    return rgb, grey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variant", action="append", required=True)
    parser.add_argument("--clips", type=Path, default=SHARED / "media" / "color")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--stocks", nargs="+", default=["ortho", "pan"])
    parser.add_argument("--photos", type=Path, action="append", default=[])
    parser.add_argument("--max-photos", type=int, default=120, help="per folder, evenly spaced")
    parser.add_argument("--photo-sheet", action="append", default=[], metavar="STEM",
                        help="put this photograph (file name without suffix) on its folder's contact sheet")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    variants = [parse_variant(v) for v in args.variant]
    models = {name: variant_model(name, model, fields) for name, model, fields in variants}
    names = [name for name, _, _ in variants]
    sets: dict[str, dict[str, Scores]] = {}
    seconds = {name: 0.0 for name in names}
    frames_done = {name: 0 for name in names}
    sheet_rows: dict[str, list[np.ndarray]] = {k: [] for k in ["truth", "film", *names]}

    clips = sorted(args.clips.glob("*.mp4"))
    if not clips:
        parser.error(f"no .mp4 clips in {args.clips}")
    sets["films"] = {k: Scores() for k in ["grayscale", *names]}
    for ci, path in enumerate(clips):
        for si, stock in enumerate(args.stocks):
            clip = film_clip(path, stock, args.frames, seed=ci * 10 + si)
            score_clip(clip, None, sets["films"]["grayscale"])
            pick = len(clip.truth) // 2
            if si == 0:
                sheet_rows["truth"].append(clip.truth[pick])
                sheet_rows["film"].append(grey_rgb(clip.grey[pick]))
            order = names if (ci + si) % 2 == 0 else names[::-1]
            for name in order:
                loaded, options = models[name]
                start = time.perf_counter()
                coloured = colour_clip(clip, args.out / "work", options)
                seconds[name] += time.perf_counter() - start
                frames_done[name] += len(coloured)
                score_clip(clip, coloured, sets["films"][name])
                if si == 0:
                    sheet_rows[name].append(coloured[pick])
            print(f"{path.stem} {stock}: " + ", ".join(f"{n} {sets['films'][n].summary()['ab_error']:.2f}" for n in ["grayscale", *names]), flush=True)

    for folder in args.photos:
        key = f"photos:{folder.name}"
        sets[key] = {k: Scores() for k in ["grayscale", *names]}
        engines = {}
        for name in names:
            loaded, options = models[name]
            engines[name] = (open_engine(loaded, device="cpu", max_batch=1), loaded, options)
        paths = list_images(folder, args.max_photos)
        photo_rows: dict[str, list[np.ndarray]] = {k: [] for k in ["truth", "film", *names]}
        for i, path in enumerate(paths):
            truth, grey = _photo_film(path, i)
            sets[key]["grayscale"].add(grey_rgb(grey), truth)
            on_sheet = path.stem in args.photo_sheet
            if on_sheet:
                photo_rows["truth"].append(truth)
                photo_rows["film"].append(grey_rgb(grey))
            for name, (engine, loaded, options) in engines.items():
                plan = render_plan(loaded, engine, options, *grey.shape)
                coloured = colorize_rgb(engine, grey_rgb(grey), plan)
                sets[key][name].add(coloured, truth)
                if on_sheet:
                    photo_rows[name].append(coloured)
        if photo_rows["truth"]:
            cv2.imwrite(str(args.out / f"photos_{folder.name}_sheet.png"),
                        cv2.cvtColor(sheet_image(list(photo_rows.items())), cv2.COLOR_RGB2BGR))
        print(f"{key}: " + ", ".join(f"{n} {s.summary()['ab_error']:.2f}" for n, s in sets[key].items()), flush=True)

    old_rows: dict[str, list[np.ndarray]] = {k: [] for k in ["film", *names]}
    for film, (rel, times) in OLD_FILMS.items():
        grabbed = rgb_frames_at(SHARED / "media" / rel, list(times))
        for _, grey in grabbed:
            old_rows["film"].append(grey)
            for name in names:
                loaded, options = models[name]
                engine = open_engine(loaded, device="cpu", max_batch=1)
                old_rows[name].append(colorize_rgb(engine, grey, render_plan(loaded, engine, options, *grey.shape[:2])))

    old_photo_rows: dict[str, list[np.ndarray]] = {k: [] for k in ["photo", *names]}
    for stem in OLD_PHOTOS:
        photo, = (SHARED / "media" / "photos_bw").glob(f"{stem}.*")
        picture = fit_long_side(read_rgb(photo), 480)  # often sepia-toned: the network sees its L alone
        old_photo_rows["photo"].append(picture)
        for name in names:
            loaded, options = models[name]
            engine = open_engine(loaded, device="cpu", max_batch=1)
            old_photo_rows[name].append(colorize_rgb(engine, picture, render_plan(loaded, engine, options, *picture.shape[:2])))

    report = {
        "variants": {name: [model, fields] for name, model, fields in variants},
        "frames_per_clip": args.frames, "stocks": args.stocks, "clips": [p.stem for p in clips],
        "fps_end_to_end": {n: frames_done[n] / seconds[n] for n in names if seconds[n]},
        "sets": {k: {n: s.summary() for n, s in v.items()} for k, v in sets.items()},
    }
    (args.out / "archival.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = []
    for key, per in report["sets"].items():
        lines += [f"### {key}", "", "| method | ab error | CIEDE2000 | wrong-vivid % | shadow-tint % | colourfulness / truth | mean chroma | CDC |",
                  "|---|---|---|---|---|---|---|---|"]
        for n, s in per.items():
            lines.append(f"| {n} | {s['ab_error']:.2f} | {s['ciede2000']:.2f} | {s['wrong_vivid_pct']:.1f} | {s['shadow_tint_pct']:.1f} | "
                         f"{s['colourfulness_ratio']:.2f} | {s['mean_chroma']:.1f} | {s['cdc']:.5f} |")
        lines.append("")
    lines.append("fps end to end (films, CPU, this run): " + ", ".join(f"{n} {v:.1f}" for n, v in report["fps_end_to_end"].items()))
    (args.out / "archival.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    cv2.imwrite(str(args.out / "films_sheet.png"), cv2.cvtColor(sheet_image(list(sheet_rows.items())), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(args.out / "old_film_sheet.png"), cv2.cvtColor(sheet_image(list(old_rows.items())), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(args.out / "old_photo_sheet.png"),
                cv2.cvtColor(sheet_image(list(old_photo_rows.items()), height=200), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
