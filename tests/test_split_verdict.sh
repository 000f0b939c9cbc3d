#!/usr/bin/env bash
# The same input gets the same verdict and the same output for any --tasks:
# the malformed gate is judged over the whole clean stage, not per task (the
# demo with 1, 2, 3 and 8 tasks; a set whose bad lines sit in one file, under
# the gate overall but over it in that file's task; one over it overall).
# And the stages after clean read the input listing clean recorded: a dedup
# step runs without --input.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

want=""
for n in 1 2 3 8; do
  "$CM" run configs/demo.yaml --out "$WORK/demo$n" --tasks $n -j 2 --progress none 2>"$WORK/err$n" ||
    { cat "$WORK/err$n"; fail "the demo failed with --tasks $n"; }
  got=$("$CM" digest "$WORK/demo$n")
  [ -z "$want" ] && want=$got
  assert_eq "$got" "$want" "demo digest with --tasks $n"
done
cd "$WORK"

# 400 records in 8 files; the 3 bad lines all in the last file (3 of 50 = 6%)
mkdir in
for f in 0 1 2 3 4 5 6 7; do
  for i in $(seq 1 50); do
    if [ $f = 7 ] && [ $i -le 3 ]; then echo "{\"id\": \"$f-$i\", \"content\": oops}"
    else echo "{\"id\": \"$f-$i\", \"content\": \"document $f-$i about the river and the stone garden, long enough to keep\"}"; fi
  done > in/f$f.jsonl
done
write_config ok.yaml "input:" "  paths: [in]" "run:" "  max_malformed_fraction: 0.01"
write_config okd.yaml "input:" "  paths: [in]" "run:" "  max_malformed_fraction: 0.01" "dedup: {}"
for n in 1 2 4 8; do
  "$CM" run ok.yaml --out ok$n --tasks $n -j 2 --progress none 2>err || { cat err; fail "0.75% malformed failed with --tasks $n"; }
  assert_eq "$(jq '.stages.clean.malformed' ok$n/summary.json)" 3 "malformed counted with --tasks $n"
done
# two more bad lines elsewhere: 5 of 400 = 1.25%, over the gate for any split
sed -i '1s/.*/{"id": "0-1", "content": oops}/' in/f0.jsonl
sed -i '1s/.*/{"id": "1-1", "content": oops}/' in/f1.jsonl
for n in 1 2 4 8; do
  set +e; "$CM" run ok.yaml --out bad$n --tasks $n -j 2 --progress none 2>err; rc=$?; set -e
  assert_eq "$rc" 1 "1.25% malformed with --tasks $n"
  assert_file_contains err "1.25% of the stage's records are malformed (5 of 400)" "the stage's verdict with --tasks $n"
  set +e; "$CM" dedup signatures okd.yaml --out bad$n --task 0 --tasks $n 2>err; rc=$?; set -e
  assert_eq "$rc" 1 "dedup refuses a clean stage over the gate (--tasks $n)"
done

# a dedup step after clean, with no input on its command line or in its config
sed -i '1s/.*/{"id": "0-1", "content": "document 0-1 about the river and the stone garden, long enough to keep"}/' in/f0.jsonl
sed -i '1s/.*/{"id": "1-1", "content": "document 1-1 about the river and the stone garden, long enough to keep"}/' in/f1.jsonl
write_config dd.yaml "dedup: {}"
"$CM" clean ok.yaml --out ok-steps --task 0 --tasks 1 --progress none 2>err || { cat err; fail "clean"; }
for step in signatures buckets clusters filter; do
  tasks=1; [ $step = buckets ] && tasks=15
  for t in $(seq 0 $((tasks - 1))); do
    "$CM" dedup $step dd.yaml --out ok-steps --task $t --tasks $tasks --progress none 2>err ||
      { cat err; fail "dedup $step without --input"; }
  done
done
assert_eq "$(jq ".stages.dedup.read" ok-steps/summary.json)" "$(jq ".stages.clean.kept" ok-steps/summary.json)" "dedup read what clean kept"
echo "split verdict: ok"
