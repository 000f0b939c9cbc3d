#!/usr/bin/env bash
# The demo job (every stage, through `run` and its task processes) under
# valgrind memcheck: exit 1 on any memory error or any definite or indirect
# leak. Reachable blocks that libraries keep until exit (ICU, OpenBLAS and
# OpenMP thread pools) are not leaks and are not reported. PCRE2's JIT is
# off here (pii: {jit: false}): valgrind cannot follow JIT-compiled code and
# reports its reads as uninitialised.
# Usage: bash scripts/memcheck.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=$(mktemp -d /tmp/cm-memcheck.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
sed 's/- pii: {}/- pii: {jit: false}/' configs/demo.yaml > "$OUT/demo.yaml"
grep -q 'jit: false' "$OUT/demo.yaml" || { echo "memcheck: the demo config has no pii step to adjust" >&2; exit 1; }
valgrind --trace-children=yes --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 -q \
  "$BUILD/corpusmill" run "$OUT/demo.yaml" --input sample --out "$OUT/demo" -j 1 --progress none 2>"$OUT/memcheck.log" || {
  grep -v '^corpusmill' "$OUT/memcheck.log" | head -n 80
  echo "memcheck: errors or leaks (above)" >&2
  exit 1
}
if grep -q '^==[0-9]*==' "$OUT/memcheck.log"; then
  grep '^==[0-9]*==' "$OUT/memcheck.log" | head -n 80
  echo "memcheck: valgrind reported something (above)" >&2
  exit 1
fi
echo "memcheck: the demo job ran every stage under valgrind: no memory error, no leak"
