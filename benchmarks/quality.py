"""Quality of a colourisation model on the validation photographs (issue 3).

Default: score the model (the shipped ``lite`` weights unless --weights) on all
images at the paper's T=0.38 and at the weights' tuned temperature, each with
bilinear and with guided (edge-aware) ab upsampling, beside the grayscale baseline.

With --checkpoint: tune first. For each prior correction alpha, export the
training checkpoint's decoder and score it at each --tune temperature on the
even-numbered half of the images; print the tables and the best (alpha, T) by
EvalResult.best_temperature's criteria, then score that decoder on all images and
on the odd-numbered half alone, which the tuning never saw.

Writes a report folder per pass (JSON, Markdown, contact sheet, AuC curves).

    python benchmarks/quality.py ../shared/datasets/val --out /tmp/lite_quality
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

import torch

from vidcolor.color.decoding import DEFAULT_TEMPERATURE
from vidcolor.evaluate import EvalConfig, EvalResult, evaluate, markdown_table, write_report
from vidcolor.evaluate.runner import method_name
from vidcolor.models import get_weights
from vidcolor.models.lite import lite
from vidcolor.models.loading import LoadedModel
from vidcolor.train import export_decoder


def candidate(path: Path) -> LoadedModel:
    """``lite`` with a decoder file that is not (yet) the shipped one, so no checksum to match."""
    record = replace(get_weights("lite"), name=f"lite.{path.stem}", sha256="", size=path.stat().st_size, packaged=None)
    return LoadedModel(lite(decoder_state=torch.load(path, map_location="cpu", weights_only=True)).eval(), record)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--weights", type=Path, default=None, help="a lite decoder file other than the shipped one")
    parser.add_argument("--temperature", type=float, default=None, help="tuned T (default: the weights' meta)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="training checkpoint to tune and export")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    parser.add_argument("--tune", type=float, nargs="+", default=[0.38, 0.6, 0.9])
    parser.add_argument("--tune-images", type=int, default=0, help="at most this many images of the even half")
    parser.add_argument("--max-images", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    def run(name: str, weights: Path | None, **kwargs) -> EvalResult:
        config = EvalConfig(args.images, model=args.model, **kwargs)
        result = evaluate(config, model=None if weights is None else candidate(weights))
        write_report(result, args.out, stem=name)
        print(f"## {name}\n\n{markdown_table(result)}", flush=True)
        return result

    weights, tuned = args.weights, args.temperature
    if args.checkpoint is not None:
        candidates = []
        for alpha in args.alphas:
            path = args.out / f"decoder_alpha{alpha:g}.pt"
            export_decoder(args.checkpoint, path, prior_correction=alpha)
            result = run(f"tune_alpha{alpha:g}", path, temperatures=tuple(args.tune), split="even", max_images=args.tune_images)
            t = result.best_temperature()
            summary = result.summary()
            candidates.append((result.shortfall(summary[method_name(t)]), -summary[method_name(t)]["auc_rebalanced"], alpha, t, path))
        _, _, alpha, tuned, weights = min(candidates)
        print(f"tuned on the even half: prior correction alpha={alpha:g}, temperature T={tuned:g} ({weights})\n", flush=True)
    if tuned is None:
        tuned = float(get_weights(args.model).meta.get("temperature", DEFAULT_TEMPERATURE))
    temps = tuple(sorted({DEFAULT_TEMPERATURE, tuned}))
    run("all", weights, temperatures=temps, upsample=("bilinear", "guided"), max_images=args.max_images)
    if args.checkpoint is not None:
        run("odd", weights, temperatures=temps, split="odd", max_images=args.max_images)


if __name__ == "__main__":
    main()
