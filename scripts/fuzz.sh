#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UBSan) and runs
# each for SECONDS (default 30) from its seed corpus in fuzz/corpus/TARGET/
# (the corpus it grows stays in build-fuzz/corpus/, outside the repo).
# A crash stops the script, with the input under build-fuzz/artifacts/:
# make it a regression test, then fix it. `make fuzz` runs 600 s each.
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(jsonl archive clean_text config safetensors wordpiece chunker sigfile http bm25idx)
B=${FUZZ_BUILD:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORPUSMILL_FUZZ=ON >/dev/null
cmake --build "$B" -j "$(nproc)" --target corpusmill $(printf 'fuzz_%s ' "${TARGETS[@]}") >/dev/null
# the export the HTTP target serves: the demo's
if [ ! -f "$B/fuzz-rag/rag/manifest.json" ]; then
  ASAN_OPTIONS=detect_leaks=0 "$B/corpusmill" run configs/demo.yaml --out "$B/fuzz-rag" --progress none 2>/dev/null
fi
export CM_FUZZ_RAG=$PWD/$B/fuzz-rag/rag
# leaks are checked per input by libFuzzer itself
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
mkdir -p "$B/artifacts"
for t in "${TARGETS[@]}"; do
  mkdir -p "$B/corpus/$t"
  log=$B/fuzz-$t.log
  if ! "$B/fuzz/fuzz_$t" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" "$B/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $t FAILED after $SECS s; the input is in $B/artifacts/ (see $log)" >&2
    exit 1
  fi
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  echo "fuzz: $t: $execs executions in $SECS s, coverage $cov edges, corpus $(ls "$B/corpus/$t" | wc -l) inputs, no crash"
done
