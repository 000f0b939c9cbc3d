#!/usr/bin/env bash
# The command line: help, usage errors and config errors exit 2 with a
# message that names the problem, before any work starts.
source "$(dirname "$0")/lib.sh"

out=$("$CM" --help); assert_contains "$out" "usage: corpusmill COMMAND" "--help"
for c in run clean; do
  out=$("$CM" $c --help); assert_contains "$out" "usage: corpusmill $c CONFIG" "$c --help"
  out=$("$CM" help $c); assert_contains "$out" "usage: corpusmill $c CONFIG" "help $c"
done
out=$("$CM" filters); assert_contains "$out" "normalize" "filters lists normalize"
assert_contains "$out" "form: nfkc" "filters shows defaults"
out=$("$CM" config); assert_contains "$out" "max_record_size: 64MiB" "config reference"
# the reference printed by `config` is itself a valid config
"$CM" config > ref.yaml
printf '{"id":"1","content":"x"}\n' > one.jsonl
"$CM" clean ref.yaml --input one.jsonl --out o-ref 2>/dev/null || fail "the reference config does not load"

set +e
"$CM" frobnicate 2>err; rc=$?
set -e
assert_eq "$rc" 2 "unknown command"; assert_file_contains err "unknown command 'frobnicate'" "unknown command message"
set +e; "$CM" clean 2>err; rc=$?; set -e
assert_eq "$rc" 2 "clean without config"; assert_file_contains err "CONFIG file is required" "config required"
set +e; "$CM" clean ref.yaml --bogus 2>err; rc=$?; set -e
assert_eq "$rc" 2 "unknown option"; assert_file_contains err "unknown option '--bogus'" "unknown option message"
set +e; "$CM" clean ref.yaml --task 3 --tasks 2 --input one.jsonl --out o 2>err; rc=$?; set -e
assert_eq "$rc" 2 "task out of range"

# a config with an unknown key: exit 2, naming the key, the file and the line
write_config bad.yaml "input:" "  paths: [one.jsonl]" "output:" "  dri: x"
set +e; "$CM" run bad.yaml 2>err; rc=$?; set -e
assert_eq "$rc" 2 "unknown key"; assert_file_contains err "bad.yaml:4:3: unknown key 'dri' in output" "unknown key message"

# a missing input path: exit 2 before any work (no output written)
write_config c.yaml "input:" "  paths: [nowhere.jsonl]" "output:" "  dir: o-missing"
set +e; "$CM" run c.yaml 2>err; rc=$?; set -e
assert_eq "$rc" 2 "missing input"; assert_file_contains err "input 'nowhere.jsonl' does not exist" "missing input message"
[ ! -e o-missing/summary.json ] || fail "work started despite a missing input"
set +e; "$CM" clean c.yaml 2>err; rc=$?; set -e
assert_eq "$rc" 2 "missing input (clean)"

# an output directory that cannot be created: exit 2 before any work
touch afile
set +e; "$CM" run ref.yaml --input one.jsonl --out afile/sub 2>err; rc=$?; set -e
assert_eq "$rc" 2 "unwritable output"; assert_file_contains err "afile" "unwritable output message"
echo "cli: ok"
