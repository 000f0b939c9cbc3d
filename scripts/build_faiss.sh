#!/usr/bin/env bash
# Builds FAISS 1.7.3 with its C API (libfaiss_c) from Debian's own source
# package, because Debian's libfaiss-dev ships the c_api headers but not the
# compiled C API, and is a baseline SSE2 build (2-4x slower on search and HNSW
# than AVX2). The result is installed into a cache outside the clone
# (default /var/cache/corpusmill/faiss-1.7.3-LEVEL), reused by every clone,
# rerun and CI run on this machine; CMake finds it there. About 4 minutes on 2
# cores the first time, nothing afterwards.
#
#   bash scripts/build_faiss.sh            # prints the install prefix
#
# Needs (scripts/setup.sh installs them): build-essential cmake dpkg-dev
# libopenblas-dev liblapack-dev, and the Debian mirror for the source.
set -euo pipefail
CACHE=${CORPUSMILL_CACHE:-/var/cache/corpusmill}
LEVEL=generic
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && LEVEL=avx2
PREFIX=$CACHE/faiss-1.7.3-$LEVEL
if [ -f "$PREFIX/.complete" ]; then
  echo "$PREFIX"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ] && [ ! -w "$(dirname "$CACHE")" ]; then SUDO="sudo"; fi
$SUDO mkdir -p "$CACHE"
$SUDO chown "$(id -u):$(id -g)" "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# Debian's source package, through a private sources list (the system's
# lists are left alone)
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
mkdir -p apt/lists/partial apt/sources
printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  "$MIRROR" > apt/sources/src.sources
APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$WORK/apt/sources"
          -o "Dir::State::Lists=$WORK/apt/lists" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
echo "build_faiss: fetching Debian's faiss source from $MIRROR" >&2
apt-get "${APT_OPTS[@]}" update -qq >&2
apt-get "${APT_OPTS[@]}" source --download-only -qq faiss=1.7.3-2 >&2 ||
  apt-get "${APT_OPTS[@]}" source --download-only -qq faiss >&2
dpkg-source -x --no-check faiss_*.dsc src >/dev/null

echo "build_faiss: building FAISS with the C API ($LEVEL), a few minutes" >&2
FLAGS=""
[ "$LEVEL" = avx2 ] && FLAGS="-mavx2 -mfma -mf16c -mpopcnt"
cmake -S src -B build -DCMAKE_BUILD_TYPE=Release -DFAISS_ENABLE_C_API=ON -DFAISS_ENABLE_GPU=OFF \
  -DFAISS_ENABLE_PYTHON=OFF -DBUILD_TESTING=OFF -DBUILD_SHARED_LIBS=ON -DFAISS_OPT_LEVEL=generic \
  -DBLA_VENDOR=OpenBLAS -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH="$PREFIX/lib" >build.log 2>&1 ||
  { tail -30 build.log >&2; exit 1; }
cmake --build build -j "$(nproc)" >>build.log 2>&1 || { tail -30 build.log >&2; exit 1; }
cmake --install build >>build.log 2>&1
# upstream 1.7.3 does not install the C API: copy the library and headers
cp build/c_api/libfaiss_c.so "$PREFIX/lib/"
mkdir -p "$PREFIX/include/faiss/c_api"
(cd src/c_api && find . -name '*.h' -exec cp --parents {} "$PREFIX/include/faiss/c_api/" \;)
touch "$PREFIX/.complete"
echo "$PREFIX"
