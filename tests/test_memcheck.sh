#!/usr/bin/env bash
# The demo job under valgrind memcheck (scripts/memcheck.sh): no memory
# error, no definite or indirect leak, in any stage. Runs on the plain
# build; the sanitizer build checks memory its own way.
source "$(dirname "$0")/lib.sh"
if [ "${CM_SANITIZED:-0}" = 1 ]; then echo "skip: valgrind does not run AddressSanitizer builds"; echo ok; exit 0; fi
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/setup.sh installs it)"
bash "$SRC/scripts/memcheck.sh" "$(dirname "$CM")" || fail "memcheck"
echo ok
