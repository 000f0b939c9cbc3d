#!/usr/bin/env bash
# Debian's cppcheck over every source file: no warning or portability
# finding (the same flags as in the README's "Tests").
source "$(dirname "$0")/lib.sh"
[ "${CM_SANITIZED:-0}" = 1 ] && { echo "skip: the plain build runs cppcheck"; echo ok; exit 0; }
command -v cppcheck >/dev/null || fail "cppcheck is not installed (scripts/setup.sh installs it)"
cd "$SRC"
cppcheck --quiet --enable=warning,portability --std=c11 --error-exitcode=1 --inline-suppr \
  -I pipeline -I filters -I dedup -I embed -I index -I programs --suppress=missingIncludeSystem \
  pipeline filters dedup embed index programs fuzz 2>"$WORK/cppcheck.txt" || { cat "$WORK/cppcheck.txt"; fail "cppcheck findings"; }
echo ok
