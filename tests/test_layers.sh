#!/usr/bin/env bash
# The house: a lower folder never includes a header of a higher one
# (scripts/check_layers.py: pipeline/ < filters/, dedup/, embed/ < index/
# < programs/), and the program's files are not in the library. The checker
# is shown to fail on a tree that breaks each rule.
source "$(dirname "$0")/lib.sh"

python3 "$SRC/scripts/check_layers.py" "$SRC" > layers.txt || { cat layers.txt; fail "the tree breaks the layering"; }
assert_eq "$(cat layers.txt)" "layers: ok" "checker output"

# a ground-floor file reaching up, a stage reaching sideways, a name twice
mkdir -p bad/pipeline bad/filters bad/dedup bad/embed bad/index bad/programs
printf '#include "../filters/signals.h"\n' > bad/pipeline/document.c
printf '/* */\n' > bad/filters/signals.h
printf '#include "embed_stage.h"\n' > bad/dedup/dedup_stage.c
printf '/* */\n' > bad/embed/embed_stage.h
printf '/* */\n' > bad/index/util.h
printf '/* */\n' > bad/pipeline/util.h
set +e
python3 "$SRC/scripts/check_layers.py" bad > bad.txt; rc=$?
set -e
assert_eq "$rc" 1 "the checker fails a tree that breaks the rules"
assert_file_contains bad.txt "pipeline/document.c includes ../filters/signals.h (filters/)" "ground floor reaching up"
assert_file_contains bad.txt "dedup/dedup_stage.c includes embed_stage.h (embed/)" "a stage reaching sideways"
assert_file_contains bad.txt "two headers of one name" "an ambiguous header name"

# the library target compiles nothing of programs/
lib_sources=$(sed -n '/^add_library(corpusmill_core/,/^)/p' "$SRC/CMakeLists.txt")
grep -q "programs/" <<<"$lib_sources" && fail "the library target compiles program files"
grep -q "pipeline/stage.c" <<<"$lib_sources" || fail "could not read the library's sources from CMakeLists.txt"
echo "layers: ok"
