#!/usr/bin/env bash
# `index update` against a rebuild (issue 17): on a copy of bench/bm25.sh's
# 200k export (bench/data/bm25-200000: 207,344 chunks, hash model dim 128,
# IVF2048,Flat), adds 1% more documents (2,000 of make_zh_docs.py's, ids
# past the export's), deletes 2,000 by id, and prints the seconds of each
# against the export's own build (clean + embed + index, from its summary).
# Usage: bash bench/update.sh   (run bench/bm25.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CM=$PWD/$BUILD/corpusmill
SRC=bench/data/bm25-200000
[ -f "$SRC/rag/manifest.json" ] || { echo "run bench/bm25.sh first (no $SRC)" >&2; exit 1; }
W=bench/data/update
rm -rf "$W" && mkdir -p "$W/new"
cp -r "$SRC/rag" "$W/rag"
docs=bench/data/zh-2000000.jsonl
[ -f "$docs" ] || python3 bench/make_zh_docs.py "$docs" 2000000
sed -n '200001,202000p' "$docs" > "$W/new/docs.jsonl"
ids=$(sed -n '1,2000p' bench/data/zh-200000.jsonl | jq -r .id)
sed "s|dir: bench/data/bm25-200000|dir: $W/unused|" bench/data/bm25-200000-fts5-false.yaml > "$W/recipe.yaml"
echo "== the export: $(jq .chunks "$W/rag/manifest.json") chunks; its build: $(jq -r '[.stages.clean.seconds, .stages.embed.seconds, .stages.index.seconds] | "clean \(.[0]) s + embed \(.[1]) s + index \(.[2]) s = \(add) s"' "$SRC/summary.json")"
t0=$(date +%s.%N)
"$CM" index update "$W/rag" "$W/recipe.yaml" --input "$W/new/docs.jsonl"
t1=$(date +%s.%N)
echo "add 2,000 documents (1%): $(echo "$t1 - $t0" | bc) s wall"
# shellcheck disable=SC2086
set -- $(for i in $ids; do printf -- '--delete %s ' "$i"; done)
t0=$(date +%s.%N)
"$CM" index update "$W/rag" "$W/recipe.yaml" "$@"
t1=$(date +%s.%N)
echo "delete 2,000 documents: $(echo "$t1 - $t0" | bc) s wall"
"$CM" eval-retrieval "$W/rag" --qa ../shared/data/zh-rag-rgb/zh_refine.json --json | jq -c '{bm25, latency_ms}'
