#!/usr/bin/env bash
# Progress follows the work: a step of several phases names each one as it
# starts (the lines `run` reads from its tasks on a pipe carry the phase), so
# a bar does not sit at 100% while the chunk store is built. The index
# step's phases, in order; the runner shows a task's phase in its bar.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
"$CM" run configs/demo.yaml --out "$WORK/d" --tasks 1 --progress none 2>/dev/null || fail "demo"
"$CM" index configs/demo.yaml --out "$WORK/d" --force --progress fd:3 3>"$WORK/prog.txt" 2>/dev/null || fail "index"
phases=$(awk -F'\t' 'NF > 1 && $2 != last {printf "%s%s", sep, $2; sep=","; last=$2}' "$WORK/prog.txt")
assert_eq "$phases" "train,vectors,recall check,write index,chunk store + BM25 terms,BM25 index,checksums" "the index step's phases"
# every line is one the runner parses: P docs bytes done total [TAB phase]
grep -qvE $'^P [0-9]+ [0-9]+ [0-9]+ [0-9]+(\t[A-Za-z0-9 +]+)?$' "$WORK/prog.txt" && fail "a progress line the runner cannot parse"
# a bar on a terminal names the phase: the runner's label takes the task's
script -qec "$CM pretrain configs/demo.yaml --out $WORK/d --force --progress bar" /dev/null > "$WORK/tty.txt" 2>&1 || fail "pretrain"
grep -q "pretrain: k-means" "$WORK/tty.txt" || fail "the bar does not name the phase: $(tr '\r' '\n' < "$WORK/tty.txt" | head)"
echo "progress: ok"
