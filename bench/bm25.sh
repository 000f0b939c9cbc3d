#!/usr/bin/env bash
# BM25 at scale: exports of about 200k and 2M Chinese chunks (real sentences
# of ../shared/data recombined into documents by make_zh_docs.py, plus RGB's
# 7,337 passages), built with the hash model (dim 128) and IVF; for each:
#   - the build: the index stage's seconds and CPU seconds by phase, and
#     chunks/s per core for the chunk store + BM25 index;
#   - sizes: bm25.idx and chunks.sqlite per byte of chunk text;
#   - RGB's 300 questions through eval-retrieval: quality, and mean / p50 /
#     p99 ms per question (searching only), with bm25.idx and, for exports up
#     to FTS5_MAX chunks, with an FTS5 table over the same chunks (a copy of
#     the export rebuilt with index.fts5: true, its build timed too; beyond,
#     FTS5 takes hours to build and query);
#   - bench_bm25: the index alone, pruned against exhaustive, k = 100 and 10.
# Outputs stay in bench/data/ (reused by a rerun).
# Usage: [SIZES="200000 2000000"] [FTS5_MAX=250000] bash bench/bm25.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIZES=${SIZES:-"200000 2000000"}
FTS5_MAX=${FTS5_MAX:-250000}
RGB=../shared/data/zh-rag-rgb/zh_refine.json
mkdir -p bench/data
for n in $SIZES; do
  docs=bench/data/zh-$n.jsonl
  [ -f "$docs" ] || python3 bench/make_zh_docs.py "$docs" "$n"
  out=bench/data/bm25-$n
  fts5=false
  [ "$n" -le "$FTS5_MAX" ] && fts5=true
  lists=$(( n / 50 )); k=1024; while [ $(( k * 2 )) -le "$lists" ] && [ $k -lt 8192 ]; do k=$(( k * 2 )); done
  for f in false true; do
    printf 'input:\n  paths: [%s]\noutput:\n  dir: %s\nclean:\n  steps:\n    - normalize: {}\nembed:\n  model: hash\n  dim: 128\nindex:\n  factory: IVF%d,Flat\n  fts5: %s\n' \
      "$docs" "$out" "$k" "$f" > "bench/data/bm25-$n-fts5-$f.yaml"
  done
  [ -f "$out/rag/manifest.json" ] || "$BUILD/corpusmill" run "bench/data/bm25-$n-fts5-false.yaml" --progress none
  if [ "$fts5" = true ] && [ ! -f "$out-fts5/rag/manifest.json" ]; then
    rm -rf "$out-fts5"; mkdir -p "$out-fts5"; cp -al "$out/." "$out-fts5/"; rm -rf "$out-fts5/rag"
    t0=$(date +%s.%N)
    "$BUILD/corpusmill" index "bench/data/bm25-$n-fts5-true.yaml" --out "$out-fts5" --force --progress none
    echo "fts5 export: index stage $(echo "$(date +%s.%N) - $t0" | bc) s" > "$out-fts5/build.txt"
  fi
  m=$out/rag/manifest.json
  chunks=$(jq .chunks "$m")
  text=$(sqlite3 "$out/rag/chunks.sqlite" 'SELECT sum(length(CAST(text AS BLOB))) FROM chunks')
  echo "== $chunks chunks, $(awk -v t="$text" 'BEGIN {printf "%.1f", t / 1e6}') MB of chunk text, $(nproc) cores"
  jq -r --argjson c "$chunks" '"build: index stage " + (.build_seconds | tostring) + " s; CPU " + (.build_cpu_seconds | tostring)
    + " s; chunk store + BM25: " + ($c / (.build_cpu_seconds.chunk_store + .build_cpu_seconds.bm25) | floor | tostring)
    + " chunks/s per core"' "$m"
  idx=$(stat -c %s "$out/rag/bm25.idx"); store=$(stat -c %s "$out/rag/chunks.sqlite")
  awk -v i="$idx" -v s="$store" -v t="$text" 'BEGIN {
    printf "size: bm25.idx %.1f MB (%.2fx the chunk text), chunks.sqlite %.1f MB (%.2fx), together %.2fx\n",
      i / 1e6, i / t, s / 1e6, s / t, (i + s) / t }'
  if [ "$fts5" = true ]; then
    cat "$out-fts5/build.txt"
    awk -v s="$(stat -c %s "$out-fts5/rag/chunks.sqlite")" -v t="$text" 'BEGIN {
      printf "fts5 export: chunks.sqlite with its FTS5 table %.1f MB (%.2fx the chunk text)\n", s / 1e6, s / t }'
  fi
  for engine in index fts5; do
    [ "$engine" = fts5 ] && [ "$fts5" = false ] && { echo "fts5: skipped (more than FTS5_MAX=$FTS5_MAX chunks)"; continue; }
    dir=$out; [ "$engine" = fts5 ] && dir=$out-fts5
    "$BUILD/corpusmill" eval-retrieval "$dir/rag" --qa "$RGB" --bm25 "$engine" --json > "bench/data/eval-$n-$engine.json"
    jq -r --arg e "$engine" '"eval " + $e + ": " + ([("bm25", "hybrid") as $m | $m + " R@1 " + (.[$m]["recall@1"] | tostring)
      + " R@5 " + (.[$m]["recall@5"] | tostring) + " P@5 " + (.[$m]["precision@5"] | tostring) + ", ms mean "
      + (.latency_ms[$m].mean | tostring) + " p50 " + (.latency_ms[$m].p50 | tostring) + " p99 "
      + (.latency_ms[$m].p99 | tostring)] | join("; "))' "bench/data/eval-$n-$engine.json"
  done
  "$BUILD/bench/bench_bm25" "$out" "bench/data/bm25-$n.bench.idx" "$RGB" | tail -n +3
  rm -f "bench/data/bm25-$n.bench.idx"
done
