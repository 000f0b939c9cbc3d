#!/usr/bin/env bash
# Throughput and memory of the clean stage on this machine. Makes ~100 MB and
# ~1 GB JSON Lines shards (zstd) from real text, then measures, per core:
# decompression alone, JSON parsing alone, normalization alone, and `clean`
# (read + parse + normalize + serialize + compress + write) at 1 and 2
# threads, with peak RSS. Usage: bash bench/run.sh [SIZES_MB...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CM=$BUILD/corpusmill
BR=$BUILD/bench/bench_read
DATA=bench/data
mkdir -p "$DATA"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)

for mb in "${sizes[@]}"; do
  shard=$DATA/corpus-${mb}MB.jsonl.zst
  [ -f "$shard" ] || python3 bench/make_corpus.py "$shard" "$mb"
  echo "== $shard ($(du -m "$shard" | cut -f1) MB compressed)"
  "$BR" decompress "$shard"
  "$BR" parse "$shard"
  "$BR" normalize "$shard"
  for run in "1 3" "2 3" "1 1" "2 1"; do
    read -r t level <<<"$run"
    printf 'input:\n  paths: [%s]\noutput:\n  dir: %s/out\n  zstd_level: %s\n' "$shard" "$DATA" "$level" > "$DATA/bench.yaml"
    rm -rf "$DATA/out"
    /usr/bin/time -f '%e %U %S %M' -o "$DATA/time.txt" "$CM" clean "$DATA/bench.yaml" --threads $t --progress none 2>/dev/null
    read -r wall user sys rss < "$DATA/time.txt"
    bytes=$(jq .bytes_in "$DATA/out/stats/clean-00000.json")
    out_mb=$(du -sm "$DATA/out/clean" | cut -f1)
    python3 - "$t" "$level" "$bytes" "$wall" "$user" "$sys" "$rss" "$out_mb" <<'PY'
import sys
t, level, b, wall, user, sys_, rss, out_mb = sys.argv[1:]
b, wall, cpu = int(b), float(wall), float(user) + float(sys_)
print(f"clean --threads {t}, zstd_level {level}: {b/1e6:.0f} MB of JSON in {wall:.2f} s wall = {b/1e6/wall:.0f} MB/s; "
      f"{cpu:.2f} s CPU = {b/1e6/cpu:.0f} MB per CPU-second; peak RSS {int(rss)/1024:.0f} MiB; output {out_mb} MB")
PY
  done
done
rm -rf "$DATA/out"

# The quality recipes, each on a shard of its own language.
for lang in en zh; do
  recipe=wanjuan-cc; [ $lang = zh ] && recipe=wanjuan-zh
  mb=${sizes[-1]}
  shard=$DATA/corpus-$lang-${mb}MB.jsonl.zst
  [ -f "$shard" ] || python3 bench/make_corpus.py "$shard" "$mb" "" "$lang"
  echo "== $recipe on $shard"
  "$BR" decompress "$shard"
  for t in 1 2; do
    rm -rf "$DATA/out"
    /usr/bin/time -f '%e %U %S %M' -o "$DATA/time.txt" "$CM" clean "configs/$recipe.yaml" --input "$shard" \
      --out "$DATA/out" --threads $t --progress none 2>/dev/null
    read -r wall user sys rss < "$DATA/time.txt"
    bytes=$(jq .bytes_in "$DATA/out/stats/clean-00000.json")
    kept=$(jq .kept "$DATA/out/stats/clean-00000.json")
    read_=$(jq .read "$DATA/out/stats/clean-00000.json")
    python3 - "$recipe" "$t" "$bytes" "$wall" "$user" "$sys" "$rss" "$kept" "$read_" <<'PY'
import sys
recipe, t, b, wall, user, sys_, rss, kept, read = sys.argv[1:]
b, wall, cpu = int(b), float(wall), float(user) + float(sys_)
print(f"{recipe} --threads {t}: {b/1e6:.0f} MB in {wall:.2f} s wall = {b/1e6/wall:.1f} MB/s; "
      f"{b/1e6/cpu:.1f} MB per CPU-second; peak RSS {int(rss)/1024:.0f} MiB; kept {kept} of {read}")
PY
  done
done
rm -rf "$DATA/out"
