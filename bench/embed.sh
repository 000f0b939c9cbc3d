#!/usr/bin/env bash
# Embedding throughput: corpusmill's BERT encoder (C, OpenBLAS sgemm) against
# PyTorch running the same random-weight models with the same thread count,
# in the same run. Models shaped like all-MiniLM-L6-v2 and bge-small-zh-v1.5;
# batches of 32 sequences of 128 and 512 tokens; 1 and 2 threads. Then
# embed-text end to end (tokenizing, length grouping) on real Chinese chunks.
# Needs python3-torch (Debian); linux-perf for the sgemm share. Usage: bash bench/embed.sh [SECONDS_PER_POINT]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-10}
DATA=bench/data/models
PY=/usr/bin/python3
mkdir -p "$DATA"
cmake --build "$BUILD" --target bench_embed corpusmill >/dev/null
for kind in minilm bge-small-zh; do
  [ -f "$DATA/$kind/model.safetensors" ] || "$PY" bench/make_random_bert.py "$DATA/$kind" "$kind"
done
echo "== $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for kind in minilm bge-small-zh; do
  echo "== $kind"
  for seq in 128 512; do
    for t in 1 2; do
      "$BUILD/bench/bench_embed" "$DATA/$kind" "$seq" 32 "$t" "$SECS"
      if command -v perf >/dev/null; then # the share of samples in OpenBLAS: sgemm is all we call there
        perf record -q -o bench/data/perf.data -- "$BUILD/bench/bench_embed" "$DATA/$kind" "$seq" 32 "$t" 3 >/dev/null 2>&1
        share=$(perf report -i bench/data/perf.data --stdio --sort dso 2>/dev/null | awk '/libopenblas/ {print $1}')
        echo "      sgemm (OpenBLAS) share of CPU samples: $share"
      fi
      # torch.set_num_threads does not reach OpenBLAS: without these, "1 thread" uses every core
      OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$PY" bench/torch_bert.py "$DATA/$kind" "$seq" 32 "$t" "$SECS"
    done
  done
done
ZH=../shared/data/zh-news-crud-rag
if [ -d "$ZH" ]; then
  echo "== embed-text end to end, bge-small-zh shape, 300 Chinese chunks of 300 characters"
  find "$ZH" -type f \( -name '*.json*' -o -name '*.txt' \) | head -20 | xargs cat | "$PY" -c '
import sys, re
text = re.sub(r"\s+", "", sys.stdin.read())
for i in range(300):
    print(text[i * 300:(i + 1) * 300])' > bench/data/zh-chunks.txt
  for t in 1 2; do
    /usr/bin/time -f "%e s, peak RSS %M KB" "$BUILD/corpusmill" embed-text --model "$DATA/bge-small-zh" --threads $t \
      --output bench/data/zh.npy < bench/data/zh-chunks.txt 2> bench/data/time.txt
    echo "embed-text --threads $t: 300 chunks in $(tail -1 bench/data/time.txt)"
  done
fi
