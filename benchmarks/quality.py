"""Quality of a colourisation model on the validation photographs (issue 3).

1. tune the decoding temperature on the even-numbered half of the images
   (bilinear upsampling), by EvalResult.best_temperature's criteria;
2. score all images at the paper's T=0.38 and at the tuned T, each with bilinear
   and with guided (edge-aware) ab upsampling, beside the grayscale baseline.

Writes a report folder per pass (JSON, Markdown, contact sheet, AuC curves) and prints the tables.

    python benchmarks/quality.py ../shared/datasets/val --out /tmp/lite_quality
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from vidcolor.color.decoding import DEFAULT_TEMPERATURE
from vidcolor.evaluate import EvalConfig, EvalResult, evaluate, markdown_table, write_report

log = logging.getLogger("quality")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--tune", type=float, nargs="+", default=[0.38, 0.45, 0.55, 0.7, 0.85, 1.0])
    parser.add_argument("--max-images", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    def run(name: str, **kwargs) -> EvalResult:
        config = EvalConfig(args.images, model=args.model, weights=args.weights, max_images=args.max_images, **kwargs)
        result = evaluate(config)
        write_report(result, args.out, stem=name)
        print(f"## {name}\n\n{markdown_table(result)}", flush=True)
        return result

    tuned = run("tune_even", temperatures=tuple(args.tune), split="even").best_temperature()
    print(f"tuned temperature (even half): {tuned:g}\n", flush=True)
    temps = tuple(sorted({DEFAULT_TEMPERATURE, tuned}))
    run("all", temperatures=temps, upsample=("bilinear", "guided"))


if __name__ == "__main__":
    main()
