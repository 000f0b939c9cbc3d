#!/usr/bin/env bash
# `corpusmill serve` under load: wrk on loopback, bounded in time, against
# the knowledge-base export (../shared/data/zh-kb-*, configs/kb.yaml), or
# with CHUNKS=N an export of N Chinese documents of the 1 GB benchmark shard
# (normalize only, hash model, index auto), POST /search in each mode with a
# Chinese question, at 1 and CONNECTIONS connections (default 32).
# Prints requests/s, p50 / p99 latency and errors. Needs Debian's wrk.
# EXPORT=OUT serves an export already built (bench/bm25.sh's bench/data/bm25-200000).
# Usage: [CHUNKS=100000 | EXPORT=OUT] bash bench/serve.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-10}
CONN=${2:-32}
OUT=${EXPORT:-bench/data/kb}
if [ -n "${CHUNKS:-}" ]; then
  OUT=bench/data/serve-$CHUNKS
  if [ ! -f "$OUT/rag/manifest.json" ]; then
    shard=bench/data/corpus-zh-1000MB.jsonl.zst
    [ -f "$shard" ] || python3 bench/make_corpus.py "$shard" 1000 "" zh
    mkdir -p bench/data/serve-in
    zstdcat "$shard" | head -n "$CHUNKS" > "bench/data/serve-in/docs-$CHUNKS.jsonl" || true
    printf 'input:\n  paths: [bench/data/serve-in/docs-%s.jsonl]\noutput:\n  dir: %s\nclean:\n  steps:\n    - normalize: {}\nembed:\n  model: hash\nindex:\n  factory: auto\n' \
      "$CHUNKS" "$OUT" > bench/data/serve.yaml
    "$BUILD/corpusmill" run bench/data/serve.yaml --progress none
  fi
fi
if [ ! -f "$OUT/rag/manifest.json" ]; then
  rm -rf "$OUT"
  "$BUILD/corpusmill" run configs/kb.yaml --input ../shared/data/zh-kb-huixiangdou-docs \
    --input ../shared/data/zh-kb-internlm-tutorial --input ../shared/data/zh-kb-lmdeploy-docs --out "$OUT" --progress none
fi
"$BUILD/corpusmill" serve "$OUT/rag" --port 0 --threads 2 2> bench/data/serve.err &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q 'http://' bench/data/serve.err && break; sleep 0.1; done
PORT=$(grep -o 'http://127.0.0.1:[0-9]*' bench/data/serve.err | cut -d: -f3)
echo "== $(jq .chunks "$OUT/rag/manifest.json") chunks, $(nproc) cores, serve --threads 2"
for mode in bm25 dense hybrid; do
  cat > bench/data/post.lua <<LUA
wrk.method = "POST"
wrk.body = '{"query": "lmdeploy 如何进行 4bit 权重量化", "k": 5, "mode": "$mode"}'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("%s c=%%s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d (non-2xx %d)\n",
    "$mode", summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
LUA
  for c in 1 "$CONN"; do
    wrk -t 1 -c $c -d "${SECS}s" --latency -s bench/data/post.lua "http://127.0.0.1:$PORT/search" 2>/dev/null |
      tail -1 | sed "s/%s/$c/"
  done
done
