#!/usr/bin/env bash
# Installs every Debian package corpusmill needs to build, run and test.
# Idempotent: packages already installed are not fetched again.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config       # toolchain
  libarchive-dev                         # tar containers
  libzstd-dev zlib1g-dev liblzma-dev libbz2-dev  # zstd, gzip, xz, bzip2 decoders
  libicu-dev                             # Unicode normalization
  libyaml-dev                            # config files
  libsimdjson-dev                        # JSON records
  libxxhash-dev                          # hashing
  libpcre2-dev                           # PII patterns
  libcld2-dev                            # language identification
  libfasttext-dev fasttext               # quality_model and language engine fasttext; the CLI checks them in tests
  libopenblas-dev liblapack-dev          # sgemm for the BERT encoder; BLAS/LAPACK for FAISS
  dpkg-dev                               # unpacks Debian's faiss source (scripts/build_faiss.sh)
  libsqlite3-dev sqlite3                 # the RAG chunk store (FTS5), and its CLI for tests
  nettle-dev                             # sha256 of the exported files
  libmicrohttpd-dev curl                 # corpusmill serve, and its tests
  python3-faiss                          # tests load the export with Python's faiss
  zstd xz-utils bzip2 gzip tar           # fixtures in tests and the bench corpus
  jq python3                             # test assertions, sample and bench generators
  python3-numpy                          # reads the .npy outputs back in tests
  slurmctld slurmd slurm-client munge    # a real one-node Slurm for the cluster test
  procps time                            # pgrep/ps in the kill and cluster tests; peak memory in the hostile suite
  clang libclang-rt-14-dev               # libFuzzer targets (scripts/fuzz.sh)
  cppcheck valgrind                      # static analysis and memcheck in the tests
  chromium fonts-noto-cjk                # the report test opens report.html in a real browser (CJK glyphs)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# FAISS with its C API, built once from Debian's source into a cache
bash "$(dirname "$0")/build_faiss.sh" >/dev/null
