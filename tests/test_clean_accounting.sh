#!/usr/bin/env bash
# Accounting across tasks and reruns: read = kept + removed + malformed per
# task and in the summary; splitting into tasks changes nothing but the part
# names; a finished task is not run again; size-bounded parts; rejected
# records in full or as ids.
source "$(dirname "$0")/lib.sh"

mkdir in
for i in 1 2 3 4 5; do
  {
    for j in $(seq 1 200); do printf '{"id": "f%d-%d", "content": "document %d of file %d\\n\\nwith  spaces"}\n' $i $j $j $i; done
    printf '{"id": "f%d-empty", "content": "  \\u200b "}\n' $i
    printf '{"id": "f%d-bad", "content": \n' $i
  } > in/file$i.jsonl
done
gzip in/file2.jsonl

write_config one.yaml "input:" "  paths: [in]" "output:" "  dir: one" "run:" "  max_malformed_fraction: 0.05"
"$CM" clean one.yaml 2>/dev/null
check_accounting one
assert_eq "$(stage_get one read)" 1010 "read"
assert_eq "$(stage_get one kept)" 1000 "kept"
assert_eq "$(jq '.stages.clean.removed["normalize:empty"]' one/summary.json)" 5 "removed by reason"
assert_eq "$(stage_get one malformed)" 5 "malformed"
assert_eq "$(stage_get one modified)" 1000 "modified (spaces collapsed)"

# three tasks over five files, two processes at a time: the same records
write_config three.yaml "input:" "  paths: [in]" "output:" "  dir: three" "  part_size: 8KiB" "run:" "  max_malformed_fraction: 0.05"
"$CM" run three.yaml --tasks 3 -j 2 --progress none 2>runerr || { cat runerr; fail "run failed"; }
check_accounting three
assert_eq "$(ls three/stats | tr '\n' ' ')" "clean-00000.json clean-00001.json clean-00002.json " "one stats file per task"
assert_eq "$(ls three/_done/clean | tr '\n' ' ')" "00000 00001 00002 _inputs.tsv _run.json " \
  "done markers, the input listing and the stage manifest"
assert_eq "$(tail -n +2 three/_done/clean/_inputs.tsv | cut -f3 | tr '\n' ' ')" \
  "in/file1.jsonl in/file2.jsonl.gz in/file3.jsonl in/file4.jsonl in/file5.jsonl " "the listing every task splits"
assert_eq "$(awk -F'\t' '$3 == "in/file3.jsonl" {print $1}' three/_done/clean/_inputs.tsv)" "$(stat -c %s in/file3.jsonl)" \
  "sizes in the listing"
assert_eq "$(stage_get three tasks_done)" 3 "tasks done"
diff <(kept_records one | jq -c 'del(.corpusmill)' | sort) <(kept_records three | jq -c 'del(.corpusmill)' | sort) >/dev/null \
  || fail "splitting into tasks changed the kept records"
# task 0 read files 1 and 4 (sorted order, i, i+3)
assert_eq "$(jq .files three/stats/clean-00000.json)" 2 "task 0 files"
assert_eq "$(jq .files three/stats/clean-00002.json)" 1 "task 2 files"
# 8 KiB parts: several per task, none left as .tmp
[ "$(ls three/clean | wc -l)" -gt 6 ] || fail "part_size did not split the output: $(ls three/clean)"
[ -z "$(find three -name '*.tmp')" ] || fail "temporary files left behind"
assert_contains "$(cat runerr)" "read 1010, kept 1000, removed 5, malformed 5 (read = kept + removed + malformed)" "run prints the funnel"
assert_contains "$(cat runerr)" "three/summary.json" "run prints where the summary is"

# a finished task is a no-op; --force runs it again
before=$(stat -c %Y three/clean/part-00000-0000.jsonl.zst)
sleep 1
out=$("$CM" clean three.yaml --task 0 --tasks 3 2>&1)
assert_contains "$out" "already finished" "rerun is a no-op"
assert_eq "$(stat -c %Y three/clean/part-00000-0000.jsonl.zst)" "$before" "rerun did not rewrite"
# a task that died left a temporary part: rerunning starts clean
touch three/clean/part-00001-0042.jsonl.zst.tmp
"$CM" clean three.yaml --task 1 --tasks 3 --force 2>/dev/null
[ ! -e three/clean/part-00001-0042.jsonl.zst.tmp ] || fail "stale temporary part kept"
check_accounting three
"$CM" run three.yaml --tasks 3 -j 2 --progress none 2>/dev/null
check_accounting three

# another split of a started stage is refused: outputs of two splits would mix
set +e; "$CM" run three.yaml --tasks 2 --progress none 2>err; rc=$?; set -e
assert_eq "$rc" 2 "changing --tasks refused"
assert_file_contains err "already holds clean results split into 3 tasks; this run asks for 2" "split message"
set +e; "$CM" clean three.yaml --task 0 --tasks 4 2>err; rc=$?; set -e
assert_eq "$rc" 2 "changing --tasks refused for one task"
# a changed config is refused too (finished tasks would keep old results), unless --force
echo "# changed" >> three.yaml
set +e; "$CM" run three.yaml --tasks 3 --progress none 2>err; rc=$?; set -e
assert_eq "$rc" 2 "changed config refused"
assert_file_contains err "made with another config or input" "changed config message"
"$CM" run three.yaml --tasks 3 --force --progress none 2>/dev/null
check_accounting three
assert_eq "$(stage_get three read)" 1010 "forced rerun counts once"

# keep_rejected: ids keeps only the id, the source and the reason
write_config ids.yaml "input:" "  paths: [in/file1.jsonl]" "output:" "  dir: ids" "  keep_rejected: ids" "run:" "  max_malformed_fraction: 0.05"
"$CM" clean ids.yaml 2>/dev/null
check_accounting ids
assert_eq "$(rejected_records ids)" '{"id":"f1-empty","corpusmill":{"source":{"file":"in/file1.jsonl","line":201},"reason":"normalize:empty"}}' "ids-only rejected record"
assert_eq "$(rejected_records one | jq -r 'select(.id=="f1-empty") | .corpusmill.reason')" "normalize:empty" "full rejected record has its reason"
assert_eq "$(rejected_records one | jq -r 'select(.id=="f1-empty") | .content')" "" "full rejected record has its text"
echo "clean_accounting: ok"
