#!/usr/bin/env bash
# What each pipeline step needs per task, for the "Running on a cluster"
# table: the 1 GB benchmark shard (bench/run.sh makes it) cut into 4 files,
# the demo recipe (configs/demo.yaml: clean, dedup, hash embed, index,
# pretrain) with an IVF index, run as 4 tasks, 2 at a time, 1 thread each.
# Prints, per step: tasks, the slowest task's seconds, the largest peak RSS,
# and the disk the step's outputs take. Usage: bash bench/stages.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CM=$PWD/$BUILD/corpusmill
DATA=bench/data
shard=$DATA/corpus-1000MB.jsonl.zst
[ -f "$shard" ] || python3 bench/make_corpus.py "$shard" 1000
mkdir -p "$DATA/stages-in"
if [ ! -f "$DATA/stages-in/part-3.jsonl.zst" ]; then
  zstdcat "$shard" | split -n r/4 --additional-suffix=.jsonl - "$DATA/stages-in/part-"
  for f in "$DATA"/stages-in/part-*.jsonl; do zstd -q -1 --rm "$f"; done
  i=0; for f in "$DATA"/stages-in/part-*.jsonl.zst; do mv "$f" "$DATA/stages-in/part-$i.jsonl.zst"; i=$((i + 1)); done
fi
out=$DATA/stages-out
rm -rf "$out"
sed -e "s|paths: \[sample\]|paths: [$DATA/stages-in]|" -e "s|dir: out/demo|dir: $out|" \
    -e 's|factory: auto|factory: "IVF1024,Flat"|' -e 's/max_malformed_fraction: 0.01/max_malformed_fraction: 0.05/' \
    configs/demo.yaml > "$DATA/stages.yaml"
/usr/bin/time -f '%e s wall, peak RSS of one process %M KiB' "$CM" run "$DATA/stages.yaml" --tasks 4 -j 2 --threads 1 --progress log
echo
printf '%-18s %5s %12s %12s %10s\n' step tasks "slowest s" "peak MiB" "disk MB"
for m in clean dedup_signatures dedup_buckets dedup_clusters dedup embed index_train index_add index pretrain; do
  [ -d "$out/_done/$m" ] || continue
  n=$(ls "$out/_done/$m" | grep -c '^[0-9]')
  slow=$(cat "$out"/_done/$m/[0-9]* | jq -s 'map(.seconds) | max')
  rss=$(cat "$out"/_done/$m/[0-9]* | jq -s 'map(.peak_rss_kb) | max / 1024 | floor')
  case $m in
    clean) disk=$(du -sm "$out/clean" "$out/rejected/clean" | awk '{s += $1} END {print s}') ;;
    dedup_signatures|dedup_buckets|dedup_clusters) disk=- ;;
    dedup) disk=$(du -sm "$out/minhash" "$out/dedup" "$out/rejected/dedup" | awk '{s += $1} END {print s}') ;;
    embed) disk=$(du -sm "$out/chunks" "$out/embeddings" | awk '{s += $1} END {print s}') ;;
    index_train|index_add) disk=- ;;
    index) disk=$(du -sm "$out/rag" | cut -f1) ;;
    pretrain) disk=$(du -sm "$out/index/pretrain" | cut -f1) ;;
  esac
  printf '%-18s %5s %12s %12s %10s\n' "$m" "$n" "$slow" "$rss" "$disk"
done
jq -c '.stages | to_entries | map({(.key): {read: .value.read, kept: .value.kept}}) | add' "$out/summary.json"
