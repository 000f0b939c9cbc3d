#!/usr/bin/env bash
# FAISS through corpusmill against FAISS's C API called directly, in the same
# run on the same library and vectors: build time (corpusmill: train + add
# from .npy parts) and single-query search rate, for Flat, HNSW32 and IVF.
# Usage: bash bench/index.sh [N] [DIMS...]   (default 100000, 384 512)
# FACTORIES="IDMap,Flat IVF" and QUERIES=2000 in the environment narrow it
# (IVF alone means IVF{8 sqrt N},Flat).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${1:-100000}
shift || true
DIMS=("$@")
[ ${#DIMS[@]} -gt 0 ] || DIMS=(384 512)
cmake --build "$BUILD" --target bench_index >/dev/null
K=$(python3 -c "import math; k=1; n=$N
while k*k < 64*n: k*=2
print(k)")
echo "== $(nproc) cores, one OpenMP thread, $N random unit vectors"
for d in "${DIMS[@]}"; do
  for f in ${FACTORIES:-IDMap,Flat IDMap,HNSW32 IVF}; do
    [ "$f" = IVF ] && f="IVF$K,Flat"
    rm -rf bench/data/index && mkdir -p bench/data/index
    "$BUILD/bench/bench_index" bench/data/index "$N" "$d" "$f" "${QUERIES:-2000}"
  done
done
