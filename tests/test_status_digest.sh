#!/usr/bin/env bash
# `status` shows every started stage with its tasks done and counts, and
# notices an unfinished task; `digest` is the same for the demo run in 1, 3,
# 8 (1 thread) and 2 tasks (2 threads), differs when a kept record changes, and refuses a
# folder that is not an output directory.
source "$(dirname "$0")/lib.sh"

cp -r "$SRC/sample" "$SRC/configs" .
sed -i 's/max_malformed_fraction: 0.01/max_malformed_fraction: 0.05/' configs/demo.yaml
"$CM" run configs/demo.yaml --out one --tasks 1 --progress none 2>/dev/null || fail "run --tasks 1"
"$CM" run configs/demo.yaml --out three --tasks 3 -j 2 --progress none 2>/dev/null || fail "run --tasks 3"
"$CM" run configs/demo.yaml --out two --tasks 2 --threads 2 --progress none 2>/dev/null || fail "run --tasks 2"
"$CM" run configs/demo.yaml --out eight --tasks 8 -j 2 --threads 1 --progress none 2>/dev/null || fail "run --tasks 8"
"$CM" digest one > one.txt
"$CM" digest three > three.txt
"$CM" digest two > two.txt
assert_eq "$(wc -l < one.txt)" 3 "clean, dedup and chunks digests"
assert_eq "$(cat three.txt)" "$(cat one.txt)" "the same digests for 1 and 3 tasks"
assert_eq "$(cat two.txt)" "$(cat one.txt)" "the same digests for 2 tasks and 2 threads"
"$CM" digest eight > eight.txt
assert_eq "$(cat eight.txt)" "$(cat one.txt)" "the same digests for 8 tasks and 1 thread"
assert_contains "$(cat one.txt)" "$(jq .stages.dedup.kept one/summary.json) records" "dedup's kept count"

# launch on a finished output: nothing to submit; another split is refused
"$CM" launch slurm configs/demo.yaml --out three --tasks 3 --dry-run 2>launch.txt || fail "dry run: $(cat launch.txt)"
assert_eq "$(grep -c "nothing to submit" launch.txt)" 10 "every step of a finished run is done: $(cat launch.txt)"
[ "$(ls three/slurm/*.sbatch | wc -l)" = 11 ] || fail "scripts (10 steps and the report): $(ls three/slurm)"
grep -q -- "--tasks 3 " three/slurm/06-embed.sbatch || fail "embed's script: $(cat three/slurm/06-embed.sbatch)"
set +e
"$CM" launch slurm configs/demo.yaml --out three --tasks 2 2>launch.txt; rc=$?
"$CM" embed configs/demo.yaml --out three --task 0 --tasks 2 2>embed.txt; rc2=$?
set -e
assert_eq "$rc $rc2" "2 2" "a changed split is refused"
assert_contains "$(cat launch.txt)" "split into 3 tasks; this run asks for 2" "launch says why"
assert_contains "$(cat embed.txt)" "embed must use --tasks 3" "a stage task says why"

"$CM" status three > status.txt
assert_contains "$(cat status.txt)" "every started stage has finished" "all finished"
assert_eq "$(awk '$1 == "clean" {print $2, $3, $4}' status.txt)" \
  "3/3 $(jq .stages.clean.read three/summary.json) $(jq .stages.clean.kept three/summary.json)" "clean's row"
assert_eq "$(awk '$1 == "embed" {print $2}' status.txt)" "3/3" "embed's tasks"
rm three/_done/embed/00001
"$CM" status three > status.txt
assert_contains "$(awk '$1 == "embed"' status.txt)" "2/3" "a missing marker"
assert_contains "$(cat status.txt)" "unfinished tasks" "status says so"

# one changed record changes the digest
part=$(find one/dedup -name '*.zst' | sort | head -1)
zstdcat "$part" | sed '1s/"id":/"id_changed":/' | zstd -q -f -o "$part.new" && mv "$part.new" "$part"
"$CM" digest one > changed.txt
[ "$(grep dedup changed.txt)" != "$(grep dedup three.txt)" ] || fail "a changed record kept the digest"
assert_eq "$(grep chunks changed.txt)" "$(grep chunks three.txt)" "the chunks did not change"

set +e
"$CM" digest sample 2>err; rc=$?
"$CM" status sample 2>>err; rc2=$?
set -e
assert_eq "$rc $rc2" "2 2" "not an output directory"
echo ok
