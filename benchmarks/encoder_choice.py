"""Which ImageNet encoder for lite, per CPU-second (issue 11: "try EfficientNet-Lite1/Lite2 ...
and keep whatever measures better per CPU-second").

Two costs, measured here with the encoders alternating round by round in one process (this
machine's speed swings about 2x within an hour, so only ratios within a run count):

- inference: the network (encoder and decoder) on a batch of 8 pictures at the shipped render,
  160x288 for a 16:9 film, channels-last as the CPU engine runs it;
- training: one step of the online trainer (batch 32 of simulated-film crops), with the encoder
  frozen and with its last --blocks blocks training too (the GPU recipe's 4).

And one gain: each encoder's validation cross-entropy after the same training steps on the same
crops and film looks (``vidcolor train --film --encoder NAME --seed 0``: one seed per step, so
both runs draw identical batches), read from the runs' checkpoints given with --run NAME=DIR.

    vidcolor train PACK --film --work-dir W/lite0 --encoder efficientnet_lite0 --val VAL --steps 2000 \\
        --batch-size 32 --lr 0.001 --lambda 0.75 --warmup-steps 100 --val-every 500 --device cpu --seed 0
    (the same with efficientnet_lite2 into W/lite2, side by side, one thread each)
    python benchmarks/encoder_choice.py --pack PACK --run efficientnet_lite0=W/lite0 --run efficientnet_lite2=W/lite2
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from vidcolor.models.lite import ENCODER_PACKAGES, Lite
from vidcolor.train.online import CHECKPOINT_NAME, OnlineConfig, Trainer


def inference_ms(model: Lite, batch: int = 8, shape: tuple[int, int] = (160, 288)) -> float:
    x = torch.zeros(batch, 1, *shape).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        model(x)
        start = time.perf_counter()
        model(x)
    return (time.perf_counter() - start) / batch * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", nargs="+", default=list(ENCODER_PACKAGES))
    parser.add_argument("--pack", type=Path, required=True, help="a training pack for the step timing")
    parser.add_argument("--run", action="append", default=[], help="NAME=WORK_DIR of a finished training run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=4, help="encoder blocks trained in the second step timing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/encoder_choice"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    models = {e: Lite(encoder=e).eval().to(memory_format=torch.channels_last) for e in args.encoders}
    settings = [(e, b) for e in args.encoders for b in (0, args.blocks)]
    trainers = {(e, b): Trainer(OnlineConfig(data=args.pack, work_dir=args.work / f"{e}_{b}", steps=10**9, batch_size=32,
                                             encoder=e, train_encoder_blocks=b, device="cpu", max_images=2000,
                                             prior_batches=1)) for e, b in settings}
    weights = {k: t.class_weights() for k, t in trainers.items()}
    infer: dict[str, list[float]] = {e: [] for e in args.encoders}
    step: dict[tuple[str, int], list[float]] = {k: [] for k in settings}
    for r in range(args.rounds + 1):  # round 0 warms up
        order = args.encoders if r % 2 else args.encoders[::-1]
        for e in order:
            ms = inference_ms(models[e])
            if r:
                infer[e].append(ms)
            for b in (0, args.blocks):
                trainer = trainers[e, b]
                trainer.model.train()
                start = time.perf_counter()
                for _ in range(3):
                    trainer.train_step(weights[e, b])
                if r:
                    step[e, b].append((time.perf_counter() - start) / 3)
    base = args.encoders[0]
    print(f"{args.threads} thread(s), {args.rounds} alternating rounds, medians; ratios to {base}")
    print(f"| encoder | parameters | inference ms/frame (160x288) | ratio | training s/step, frozen | ratio "
          f"| training s/step, {args.blocks} blocks | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    med = {k: statistics.median(v) for k, v in step.items()}
    for e in args.encoders:
        n = sum(p.numel() for p in models[e].encoder.parameters())
        i = statistics.median(infer[e])
        print(f"| {e} | {n / 1e6:.2f} M | {i:.1f} | {i / statistics.median(infer[base]):.2f} | {med[e, 0]:.2f} | "
              f"{med[e, 0] / med[base, 0]:.2f} | {med[e, args.blocks]:.2f} | {med[e, args.blocks] / med[base, args.blocks]:.2f} |")
    if args.run:
        print("\n| encoder | validation CE at steps (plain, 8 batches of 64 val crops) |")
        print("|---|---|")
        for spec in args.run:
            name, folder = spec.split("=", 1)
            history = torch.load(Path(folder) / CHECKPOINT_NAME, map_location="cpu", weights_only=True)["history"]
            vals = [f"{int(h['step'])}: {h['val_loss']:.3f}" for h in history if h["val_loss"] == h["val_loss"]]
            print(f"| {name} | {', '.join(vals)} |")


if __name__ == "__main__":
    main()
