#!/usr/bin/env bash
# `corpusmill serve` over a real socket on loopback: good requests in every
# mode and at once, malformed JSON, bad fields, an oversized body, unknown
# paths and methods, the manifest, a stalled client and a trickling body
# cut off, hostile queries answered as JSON, 503 over --max-connections
# requests in progress, and a clean stop on SIGTERM.
source "$(dirname "$0")/lib.sh"

cp -r "$SRC/sample" "$SRC/configs" .
"$CM" run configs/demo.yaml --out demo --progress none 2>err || { cat err; fail "demo run failed"; }
"$CM" serve demo/rag --port 0 --threads 2 --max-body 1024 --timeout 2 2>serve.err &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do grep -q 'http://' serve.err && break; sleep 0.1; done
PORT=$(grep -o 'http://127.0.0.1:[0-9]*' serve.err | cut -d: -f3)
[ -n "$PORT" ] || { cat serve.err; fail "serve did not start"; }
URL=http://127.0.0.1:$PORT

call() { # METHOD PATH [BODY]: prints the body, then the status on the last line
  if [ $# -ge 3 ]; then curl -s -X "$1" -H 'Content-Type: application/json' --data-binary "$3" -w '\n%{http_code}' "$URL$2"
  else curl -s -X "$1" -w '\n%{http_code}' "$URL$2"; fi
}
status() { tail -1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }

r=$(call GET /healthz)
assert_eq "$(status "$r")" 200 "healthz"
assert_eq "$(body "$r" | jq .chunks)" "$(jq .chunks demo/rag/manifest.json)" "healthz counts the chunks"
r=$(call GET /manifest)
assert_eq "$(body "$r" | jq -S .)" "$(jq -S . demo/rag/manifest.json)" "the manifest"

for mode in dense bm25 hybrid; do
  r=$(call POST /search "{\"query\": \"明前茶是什么时候采摘的\", \"k\": 3, \"mode\": \"$mode\"}")
  assert_eq "$(status "$r")" 200 "search $mode"
  [ "$(body "$r" | jq '.results | length')" -eq 3 ] || fail "$mode: three results"
  assert_eq "$(body "$r" | jq -r .mode)" "$mode" "the mode comes back"
done
r=$(call POST /search '{"query": "明前茶是什么时候采摘的", "k": 1, "mode": "bm25"}')
assert_eq "$(body "$r" | jq -r '.results[0].doc_id')" "kb/longjing-tea.md" "the right document"
assert_eq "$(body "$r" | jq -c '[.answerable, .relevance]')" "[null,null]" "an export not calibrated has no verdict"
# the same answer as the command line
assert_eq "$(body "$r" | jq -c '.results[0] | {chunk_id, text}')" \
  "$("$CM" query demo/rag "明前茶是什么时候采摘的" --k 1 --mode bm25 --json | jq -c '.results[0] | {chunk_id, text}')" "serve = query"
# defaults: k 5, hybrid
r=$(call POST /search '{"query": "bridge"}')
assert_eq "$(body "$r" | jq -r '.mode + " " + (.results | length | tostring)')" "hybrid 5" "defaults"

# errors: JSON bodies with 4xx statuses
check_error() { # STATUS TEXT METHOD PATH [BODY]
  local want=$1 text=$2; shift 2
  local r; r=$(call "$@")
  assert_eq "$(status "$r")" "$want" "$* -> $want"
  assert_contains "$(body "$r" | jq -r .error)" "$text" "$* error text"
}
check_error 400 "not a JSON object" POST /search '{"query": '
check_error 400 "not a JSON object" POST /search '[1, 2]'
check_error 400 '"query" must be' POST /search '{"k": 3}'
check_error 400 '"query" must be' POST /search '{"query": 42}'
check_error 400 '"k" must be' POST /search '{"query": "x", "k": 0}'
check_error 400 '"k" must be' POST /search '{"query": "x", "k": 2.5}'
check_error 400 '"mode" must be' POST /search '{"query": "x", "mode": "fuzzy"}'
check_error 413 "larger than 1024 bytes" POST /search "{\"query\": \"$(head -c 3000 /dev/zero | tr '\0' a)\"}"
check_error 404 "no such path" GET /etc/passwd
check_error 404 "no such path" GET /../manifest.json
check_error 405 "use POST" GET /search
check_error 405 "use GET" POST /healthz '{}'

# several requests at once
for i in $(seq 8); do call POST /search "{\"query\": \"tea $i\", \"k\": 2}" > "par$i.txt" & done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
for i in $(seq 8); do assert_eq "$(tail -1 "par$i.txt")" 200 "parallel request $i"; done

# a client that sends half a request line and stalls is cut off after --timeout
start=$(date +%s)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /search HTTP/1.1\r\nHost: x\r\n' >&3
timeout 8 cat <&3 >/dev/null || true
exec 3>&-
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 7 ] || fail "a stalled client held its connection for ${elapsed} s (timeout 2)"
assert_eq "$(status "$(call GET /healthz)")" 200 "still serving after the slow client"

# a body that trickles in, a byte a second (never idle for --timeout), is cut
# off --timeout after its headers
start=$(date +%s)
(
  trap '' PIPE # a write to the closed connection then fails instead of killing this shell
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{' >&3
  for _ in $(seq 8); do sleep 1; printf ' ' >&3 2>/dev/null || break; done
)
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 6 ] || fail "a trickling body held its connection for ${elapsed} s (timeout 2)"

# what comes back is JSON whatever the query holds: quotes, controls, markup;
# a body that is not UTF-8 is a 400 whose message is JSON too
r=$(call POST /search '{"query": "\"quoted\" \u0001 <script>x</script> tea", "k": 2}')
assert_eq "$(status "$r")" 200 "a hostile query"
body "$r" | jq -e '.query | contains("<script>") and contains("\"quoted\"")' >/dev/null \
  || fail "the query does not come back as JSON: $(body "$r")"
r=$(call POST /search "$(printf '{"query": "\xff\xfe tea"}')")
assert_eq "$(status "$r")" 400 "a body that is not UTF-8"
body "$r" | jq -e .error >/dev/null || fail "the error is not JSON: $(body "$r")"

# over --max-connections requests in progress: 503 at once, not a queue
"$CM" serve demo/rag --port 0 --threads 1 --max-connections 2 --timeout 6 2>busy.err &
PID2=$!
trap 'kill $PID $PID2 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do grep -q 'http://' busy.err && break; sleep 0.1; done
URL=http://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' busy.err | cut -d: -f3)
PORT2=${URL##*:}
exec 4<>"/dev/tcp/127.0.0.1/$PORT2"; exec 5<>"/dev/tcp/127.0.0.1/$PORT2"
printf 'POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{' >&4
printf 'POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{' >&5
sleep 0.5
r=$(call GET /healthz)
assert_eq "$(status "$r")" 503 "a third request while two are in progress"
assert_contains "$(body "$r")" "busy" "503 says why"
exec 4>&- 5>&-
sleep 0.5
assert_eq "$(status "$(call GET /healthz)")" 200 "served again once they are gone"
kill -TERM $PID2; wait $PID2 || true

set +e
"$CM" serve nowhere --port 0 2>err; rc=$?
set -e
assert_eq "$rc" 2 "serve of a missing export"
echo ok
