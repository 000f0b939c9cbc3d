#!/usr/bin/env bash
# Dedup throughput on the corpus maker's shard: clean (normalize only) once,
# then each dedup step timed alone, one task, with its peak RSS.
# Usage: bash bench/dedup.sh [SHARD]
set -euo pipefail
cd "$(dirname "$0")/.."
CM=${BUILD:-build}/corpusmill
SHARD=${1:-bench/data/corpus-1000MB.jsonl.zst}
[ -f "$SHARD" ] || python3 bench/make_corpus.py "$SHARD" 1000
OUT=bench/data/dedup-out
rm -rf "$OUT"
printf 'input:\n  paths: [%s]\noutput:\n  dir: %s\n  zstd_level: 1\nclean:\n  steps:\n    - normalize: {}\ndedup:\n  verify: exact\n' "$SHARD" "$OUT" > bench/data/dedup.yaml
"$CM" clean bench/data/dedup.yaml --threads 2 --progress none 2>/dev/null
bytes=$(jq .bytes_out "$OUT/stats/clean-00000.json")
docs=$(jq .kept "$OUT/stats/clean-00000.json")
echo "clean output: $docs documents, $((bytes / 1000000)) MB of JSON"
step() {
  local name=$1 bytes=$2; shift 2
  /usr/bin/time -f '%e %U %S %M' -o bench/data/t.txt "$CM" dedup "$name" bench/data/dedup.yaml "$@" --progress none 2>/dev/null
  read -r wall user sys rss < bench/data/t.txt
  python3 -c "import sys; w,u,s,r,b=map(float,sys.argv[1:]); print(f'dedup $name: {w:.2f} s wall, {u+s:.2f} s CPU, peak RSS {r/1024:.0f} MiB' + (f', {b/1e6/(u+s):.1f} MB per CPU-second' if b else ''))" "$wall" "$user" "$sys" "$rss" "$bytes"
}
step signatures "$bytes" --task 0 --tasks 1
t0=$(date +%s.%N)
for b in $(seq 0 14); do "$CM" dedup buckets bench/data/dedup.yaml --task "$b" --tasks 15 --progress none 2>/dev/null; done
echo "dedup buckets (15 tasks, one after another): $(python3 -c "print(f'{$(date +%s.%N) - $t0:.2f}')") s wall"
step clusters 0 --task 0 --tasks 1
step filter 0 --task 0 --tasks 1
cat "$OUT/minhash/clusters.json"
jq -c '.stages.dedup | {read, kept, removed}' "$OUT/summary.json"
