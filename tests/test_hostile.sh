#!/usr/bin/env bash
# The hostile-input suite: every case in tests/hostile/NN-*.sh builds its
# input, runs one corpusmill command and states the outcome it expects: the
# exit status (rc, or "any" for a clear error without a crash), a piece of
# the error text naming the file, and a check of the counts (a reason, what
# was kept around the damage). Here, for every case: no crash (no signal,
# no sanitizer report), every stage's counts balance, and, outside the
# sanitizer build, peak memory under the case's bound (default 300 MiB).
source "$(dirname "$0")/lib.sh"
HOSTILE=$SRC/tests/hostile

# records N: N valid records of English text long enough to be kept
records() {
  for i in $(seq 1 "$1"); do
    printf '{"id": "r%d", "content": "Record %d tells about rivers, harvests and the tea of spring. It has several sentences. They end properly here."}\n' "$i" "$i"
  done
}
# config PATH...: c.yaml reading PATH into o/, no malformed bound
config() { printf 'input:\n  paths: [%s]\noutput:\n  dir: o\nrun:\n  max_malformed_fraction: 1\n' "$(IFS=,; echo "$*")" > c.yaml; }
# summary PATH: a value of o/summary.json under .stages
summary() { jq -r ".stages.$1 // \"null\"" o/summary.json 2>/dev/null || echo none; }
model_copy() { cp -r "$SRC/tests/fixtures/tiny-bert-cls" "$1"; }
sanitized=0
[ "${CM_SANITIZED:-0}" = 1 ] && sanitized=1

n=0
for case_file in "$HOSTILE"/[0-9][0-9]-*.sh; do
  name=$(basename "$case_file" .sh)
  mkdir "$name"
  (
    cd "$name"
    unset -f setup check
    cmd=() rc=0 err="" stdin="" max_rss_mb=300
    source "$case_file"
    setup
    set +e
    if [ -n "$stdin" ]; then
      printf '%s\n' "$stdin" | /usr/bin/time -f '%M' -o rss.txt "$CM" "${cmd[@]}" >stdout.txt 2>stderr.txt
    else
      /usr/bin/time -f '%M' -o rss.txt "$CM" "${cmd[@]}" >stdout.txt 2>stderr.txt </dev/null
    fi
    got=$?
    set -e
    why() { echo "--- stderr:"; head -c 2000 stderr.txt; }
    [ "$got" -lt 128 ] || { why; fail "$name: killed by signal $((got - 128))"; }
    ! grep -q "Sanitizer\|runtime error:" stderr.txt || { why; fail "$name: sanitizer report"; }
    [ "$rc" = any ] || [ "$got" = "$rc" ] || { why; fail "$name: exit $got, want $rc"; }
    [ "$got" != 0 ] || [ "$rc" != any ] || true
    [ -z "$err" ] || grep -qF -- "$err" stderr.txt || { why; fail "$name: stderr lacks '$err'"; }
    if [ -f o/summary.json ]; then
      jq -e '[.stages[] | select(.balanced == false)] | length == 0' o/summary.json >/dev/null || fail "$name: unbalanced counts"
    fi
    check || { why; [ -f o/summary.json ] && jq -c .stages o/summary.json | head -c 1500; fail "$name: its check failed"; }
    rss_mb=$(( $(tail -n 1 rss.txt) / 1024 ))
    [ "$sanitized" = 1 ] || [ "$rss_mb" -le "$max_rss_mb" ] || fail "$name: peak RSS $rss_mb MiB over $max_rss_mb"
    echo "$name: exit $got, ${rss_mb} MiB"
  )
  rm -rf "$name"
  n=$((n + 1))
done
[ "$n" -ge 30 ] || fail "only $n hostile cases"
echo "ok: $n hostile cases"
