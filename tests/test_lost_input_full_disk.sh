#!/usr/bin/env bash
# An input file that vanishes mid-run, and a disk that fills up: a clear
# error, no completion marker, nothing a later stage would take for finished
# output, and a rerun after the fix gives the digest of an undisturbed run.
# The split is the listing made when the run started, so a file added to the
# input folder meanwhile changes nothing.
source "$(dirname "$0")/lib.sh"

mkdir in
for i in 1 2 3 4; do
  for j in $(seq 1 150); do
    printf '{"id": "f%d-%d", "content": "Record %d of file %d talks about harvests, rivers and the price of tea in spring. It has enough words to pass the quality rules. Another sentence follows here, and a third one ends it %d."}\n' \
      "$i" "$j" "$j" "$i" "$((RANDOM))"
  done > in/file$i.jsonl
done
write_config c.yaml "input:" "  paths: [in]" "output:" "  dir: out" "dedup:" "  exact: true" "  minhash: true"
"$CM" run c.yaml --out ref --tasks 2 --progress none 2>/dev/null || fail "reference run"
"$CM" digest ref > ref.digest

# --- a vanished input file ---
"$CM" clean c.yaml --out v --task 0 --tasks 2 --progress none 2>/dev/null || fail "clean task 0"
mv in/file2.jsonl held.jsonl                 # task 1 reads files 2 and 4
echo '{"id": "late", "content": "a file that came after the run started"}' > in/file0.jsonl
set +e
"$CM" clean c.yaml --out v --task 1 --tasks 2 --progress none 2>err; rc=$?
set -e
assert_eq "$rc" 1 "a vanished input fails the task"
assert_contains "$(cat err)" "input 'in/file2.jsonl' vanished since the run listed it" "the error names the file"
[ ! -e v/_done/clean/00001 ] || fail "a marker for a task that lost its input"
[ -z "$(ls v/clean | grep '^part-00001' || true)" ] || fail "task 1 left parts: $(ls v/clean)"
set +e
"$CM" dedup signatures c.yaml --out v --task 1 --tasks 2 2>err; rc=$?
set -e
[ "$rc" != 0 ] || fail "dedup ran on an unfinished clean task"
assert_contains "$(cat err)" "clean task 1 has not finished" "dedup refuses"
mv held.jsonl in/file2.jsonl
"$CM" run c.yaml --out v --tasks 2 --progress none 2>/dev/null || fail "the rerun after restoring the file"
"$CM" digest v > v.digest
diff ref.digest v.digest >/dev/null || fail "the late file or the failure changed the result"
assert_eq "$(tail -n +2 v/_done/clean/_inputs.tsv | wc -l)" 4 "the listing kept the 4 files of the start"
rm in/file0.jsonl

# --- a full disk ---
mkdir small
if ! mount -t tmpfs -o size=160k tmpfs small 2>/dev/null; then
  echo "skip: full-disk case (cannot mount a small tmpfs here)"; echo ok; exit 0
fi
trap 'umount "$WORK/small" 2>/dev/null; rm -rf "$WORK"' EXIT
# incompressible records so the outputs outgrow 160 KiB
python3 - <<'EOF'
import random, string
r = random.Random(5)
with open("in/big.jsonl", "w") as f:
    for i in range(400):
        words = " ".join("".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(3, 9))) for _ in range(120))
        f.write('{"id": "big%d", "content": "%s. The end of record %d."}\n' % (i, words, i))
EOF
set +e
"$CM" run c.yaml --out small/out --tasks 2 --progress none 2>err; rc=$?
set -e
assert_eq "$rc" 1 "a full disk fails the run"
echo "full disk: $(grep -m1 "No space" err)"
grep -q "No space left on device" err || fail "the error does not say the disk is full: $(cat err)"
done_clean=$(ls small/out/_done/clean 2>/dev/null | grep -c '^[0-9]' || true)
[ "$done_clean" -lt 2 ] || fail "every clean task claims to have finished on a full disk"
[ ! -e small/out/_done/dedup ] || [ -z "$(ls small/out/_done/dedup | grep '^[0-9]' || true)" ] \
  || fail "dedup ran after a failed clean"
for t in 0 1; do
  if [ ! -e "small/out/_done/clean/0000$t" ]; then
    [ -z "$(ls small/out/clean 2>/dev/null | grep "^part-0000$t-" | grep -v '\.tmp' || true)" ] \
      || echo "note: unfinished task $t left complete parts (removed by its rerun)"
  fi
done
# room again: the same command on the same OUT finishes the work
mount -o remount,size=64m small
"$CM" run c.yaml --out small/out --tasks 2 --progress none 2>/dev/null || fail "the rerun with room"
"$CM" run c.yaml --out ref2 --tasks 2 --progress none 2>/dev/null || fail "reference run with the big file"
diff <("$CM" digest ref2) <("$CM" digest small/out) >/dev/null || fail "the rerun after a full disk gave another result"
[ -z "$(find small/out -name '*.tmp*')" ] || fail "temporary files left: $(find small/out -name '*.tmp*')"
echo ok
