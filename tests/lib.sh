# lib.sh -- helpers for the end-to-end tests: each test script gets the
# corpusmill binary, the source tree and the shared data folder as $1 $2 $3.
set -euo pipefail
CM=$1
SRC=$2
SHARED=${3:-$SRC/../shared/data}
WORK=$(mktemp -d /tmp/cm-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" == "$2" ] || fail "$3: got '$1', want '$2'"; }
assert_contains() { grep -qF -- "$2" <<<"$1" || fail "$3: output does not contain '$2': $1"; }
assert_file_contains() { grep -qF -- "$2" "$1" || fail "$3: $1 does not contain '$2'"; }

# stage_get OUT KEY: a key of the clean stage in OUT/summary.json
stage_get() { jq -r ".stages.clean.$2" "$1/summary.json"; }

# Decompressed kept / rejected records, and malformed records, of OUT.
kept_records() { find "$1/clean" -name 'part-*.jsonl.zst' | sort | xargs -r zstdcat; }
rejected_records() { find "$1/rejected/clean" -name 'part-*.jsonl.zst' | sort | xargs -r zstdcat; }
malformed_records() { find "$1/malformed" -name '*.jsonl' | sort | xargs -r cat; }

# check_accounting OUT: read = kept + removed + malformed, in the summary and
# in every task's stats, and the output files hold exactly those records.
check_accounting() {
  local out=$1
  [ -f "$out/summary.json" ] || fail "no summary.json in $out"
  local read kept removed malformed
  read=$(stage_get "$out" read)
  kept=$(stage_get "$out" kept)
  removed=$(jq '[.stages.clean.removed[]] | add // 0' "$out/summary.json")
  malformed=$(stage_get "$out" malformed)
  assert_eq "$((kept + removed + malformed))" "$read" "read = kept + removed + malformed ($out)"
  assert_eq "$(stage_get "$out" balanced)" "true" "summary balanced flag"
  for s in "$out"/stats/clean-*.json; do
    jq -e '.read == .kept + ([.removed[]] | add // 0) + .malformed' "$s" >/dev/null || fail "unbalanced $s"
  done
  assert_eq "$(kept_records "$out" | wc -l)" "$kept" "kept records on disk"
  assert_eq "$(rejected_records "$out" | wc -l)" "$removed" "rejected records on disk"
  assert_eq "$(malformed_records "$out" | wc -l)" "$malformed" "malformed records on disk"
  # every output line is valid JSON
  kept_records "$out" | jq -e . >/dev/null || fail "kept records are not all valid JSON"
  rejected_records "$out" | jq -e . >/dev/null || fail "rejected records are not all valid JSON"
  malformed_records "$out" | jq -e . >/dev/null || fail "malformed records are not all valid JSON"
}

# write_config FILE [YAML lines...]
write_config() { local f=$1; shift; printf '%s\n' "$@" > "$f"; }
