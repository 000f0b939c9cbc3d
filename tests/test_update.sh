#!/usr/bin/env bash
# `index update` and `index compact`: an export brought to a set of
# documents by updates answers every query in every mode as the export
# built in one go from them does (same documents, texts and scores) and has
# the same digest: documents added, deleted by id, added again under their
# id (replaced, not doubled); with HNSW, deleted vectors are tombstones that
# search skips and compact removes; a running `serve` answers every request
# during updates, then as the updated export; a failed or refused update
# leaves the export as it was; damaged tombstones are refused.
source "$(dirname "$0")/lib.sh"

cp -r "$SRC/sample" "$SRC/configs" .
mkdir a b c
cp sample/kb/brooklyn-bridge.md a/
cp sample/kb/longjing-tea.md b/
cat > c/wuyi-tea.md <<'EOF'
# 武夷岩茶

武夷岩茶产于福建武夷山，是乌龙茶的一种。
岩茶生长在岩石缝隙之间，茶树根深，茶汤带有独特的“岩韵”。
大红袍是武夷岩茶中最著名的品种，母树生长在九龙窠的峭壁上。
岩茶的制作要经过萎凋、做青、杀青、揉捻和焙火，焙火的轻重决定了茶汤的香气与滋味。

## 冲泡

冲泡岩茶宜用一百度的沸水，盖碗投茶八克左右，第一泡十秒即可出汤，之后每泡逐渐延长。
好的岩茶可以冲泡七到八次，香气依然持久。
EOF
cfg() { sed -e "s|^  paths: \[sample\]|  paths: [$1]|" configs/demo.yaml; }
grep -q '^  paths: \[sample\]' configs/demo.yaml || fail "the demo config's input line changed: update this test"
cfg "a" > a.yaml; cfg "a, b" > ab.yaml; cfg "a, c" > ac.yaml; cfg "a, b, c" > abc.yaml
for x in a ab ac abc; do "$CM" run $x.yaml --out o-$x --progress none 2>/dev/null || fail "run $x"; done

queries=("明前茶是什么时候采摘的" "how long is the bridge" "武夷岩茶怎么冲泡" "大红袍的母树在哪里")
same() { # EXPORT REFERENCE WHAT: every query, every mode, the same documents, texts and scores
  for m in bm25 dense hybrid; do
    for q in "${queries[@]}"; do
      "$CM" query "$1" "$q" --mode $m --k 5 --json | jq -c '[.results[] | [.doc_id, .text, .score]]' > got.json
      "$CM" query "$2" "$q" --mode $m --k 5 --json | jq -c '[.results[] | [.doc_id, .text, .score]]' > want.json
      cmp -s got.json want.json || fail "$3: $m '$q' differs: $(head -c 300 got.json) vs $(head -c 300 want.json)"
    done
  done
  assert_eq "$("$CM" digest "$1")" "$("$CM" digest "$2")" "$3: digest"
}

# added: a + c, then b
R=o-a/rag
"$CM" index update $R a.yaml --input c 2>err || { cat err; fail "update --input c"; }
assert_contains "$(cat err)" "generation 1" "the update says its generation"
same $R o-ac/rag "a + c by update"
assert_eq "$(jq .generation $R/manifest.json)" 1 "generation in the manifest"
assert_eq "$(jq -r '.files["chunks.1.sqlite"].sha256' $R/manifest.json)" "$(sha256sum $R/chunks.1.sqlite | cut -d' ' -f1)" "the new store's sha256"
assert_eq "$(jq -r '.files["bm25.1.idx"].sha256' $R/manifest.json)" "$(sha256sum $R/bm25.1.idx | cut -d' ' -f1)" "the new bm25 sha256"
[ -f $R/chunks.sqlite ] || fail "the previous generation stays for readers that opened it"
"$CM" index update $R a.yaml --input b 2>err || { cat err; fail "update --input b"; }
same $R o-abc/rag "a + c + b by updates"
# deleted
"$CM" index update $R a.yaml --delete wuyi-tea.md --delete no-such-document 2>err || { cat err; fail "update --delete"; }
assert_contains "$(cat err)" "1 of the ids to delete were not in the export" "a missing id is said"
same $R o-ab/rag "c deleted"
[ ! -f $R/chunks.sqlite ] || fail "generation 0 removed two generations later"
# added again under the same id: replaced
"$CM" index update $R a.yaml --input b 2>/dev/null || fail "update --input b again"
same $R o-ab/rag "b replaced by itself"
assert_eq "$(jq .chunks $R/manifest.json)" "$(jq .chunks o-ab/rag/manifest.json)" "no chunk doubled"

# HNSW: tombstones until compact
sed 's|  factory: auto|  factory: IDMap,HNSW32|' abc.yaml > h.yaml
grep -q 'IDMap,HNSW32' h.yaml || fail "the demo config's factory line changed: update this test"
"$CM" run h.yaml --out o-h --progress none 2>/dev/null || fail "run with HNSW"
"$CM" index update o-h/rag h.yaml --delete longjing-tea.md 2>/dev/null || fail "delete from HNSW"
[ "$(jq .tombstones o-h/rag/manifest.json)" -gt 0 ] || fail "HNSW keeps tombstones"
assert_eq "$(jq .vectors o-h/rag/manifest.json)" "$(( $(jq .chunks o-h/rag/manifest.json) + $(jq .tombstones o-h/rag/manifest.json) ))" "vectors = chunks + tombstones"
same o-h/rag o-ac/rag "HNSW with tombstones"
cp -r o-h h-damaged
printf 'x' >> h-damaged/rag/tombstones.1.ids
set +e
"$CM" query h-damaged/rag "大红袍" 2>err; rc=$?
set -e
assert_eq "$rc" 2 "damaged tombstones refused"
assert_contains "$(cat err)" "tombstones.1.ids" "the file named"
"$CM" index compact o-h/rag 2>err || { cat err; fail "compact"; }
assert_eq "$(jq .tombstones o-h/rag/manifest.json)" 0 "no tombstones after compact"
assert_eq "$(jq .vectors o-h/rag/manifest.json)" "$(jq .chunks o-h/rag/manifest.json)" "one vector per chunk after compact"
same o-h/rag o-ac/rag "HNSW compacted"
"$CM" index compact o-h/rag 2>err
assert_contains "$(cat err)" "nothing to do" "compact twice"

# a running serve answers throughout an update and takes up the new generation
"$CM" serve o-ab/rag --port 0 --threads 2 2>serve.err &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do grep -q 'http://' serve.err && break; sleep 0.1; done
PORT=$(grep -o 'http://127.0.0.1:[0-9]*' serve.err | cut -d: -f3)
[ -n "$PORT" ] || { cat serve.err; fail "serve did not start"; }
q='{"query": "明前茶是什么时候采摘的", "k": 3, "mode": "hybrid"}'
ask() { curl -s -X POST --data-binary "$q" "http://127.0.0.1:$PORT/search" | jq -c '[.results[] | [.doc_id, .score]]'; }
cli() { "$CM" query o-ab/rag "明前茶是什么时候采摘的" --mode hybrid --k 3 --json | jq -c '[.results[] | [.doc_id, .score]]'; }
assert_eq "$(ask)" "$(cli)" "serve before the update"
( while :; do curl -s -o /dev/null -w '%{http_code}\n' -X POST --data-binary "$q" "http://127.0.0.1:$PORT/search" >> codes.txt; done ) &
LOOP=$!
"$CM" index update o-ab/rag ab.yaml --delete longjing-tea.md 2>/dev/null || fail "update under serve"
"$CM" index update o-ab/rag ab.yaml --input c 2>/dev/null || fail "second update under serve"
want=$(jq .chunks o-ab/rag/manifest.json)
for _ in $(seq 50); do
  [ "$(curl -s "http://127.0.0.1:$PORT/healthz" | jq .chunks)" = "$want" ] && break
  sleep 0.1
done
kill $LOOP; wait $LOOP 2>/dev/null || true
assert_eq "$(curl -s "http://127.0.0.1:$PORT/healthz" | jq .chunks)" "$want" "serve takes up the new generation"
assert_eq "$(ask)" "$(cli)" "serve answers as the updated export"
assert_eq "$(curl -s "http://127.0.0.1:$PORT/manifest" | jq .generation)" "$(jq .generation o-ab/rag/manifest.json)" "serve's manifest is the new one"
[ "$(wc -l < codes.txt)" -gt 5 ] || fail "too few requests during the updates to tell"
assert_eq "$(sort -u codes.txt | tr '\n' ' ')" "200 " "every request during the updates answered"
assert_contains "$(cat serve.err)" "changed: now" "serve says it took up the change"
kill $PID

# refused or failed: the export as it was
cp o-ab/rag/manifest.json m.before
sed 's|^  dim: 512|  dim: 256|' ab.yaml > dim.yaml
grep -q '^  dim: 256' dim.yaml || fail "the demo config's dim line changed: update this test"
set +e
"$CM" index update o-ab/rag dim.yaml --input b 2>err; rc=$?
set -e
assert_eq "$rc" 2 "another dimension refused"
assert_contains "$(cat err)" "use the export's recipe" "the message says why"
cmp -s o-ab/rag/manifest.json m.before || fail "a refused update changed the manifest"
[ ! -d o-ab/rag/update.work ] || fail "the work folder left behind"
set +e
"$CM" index update o-ab/rag ab.yaml 2>err; rc=$?
set -e
assert_eq "$rc" 2 "nothing to do"
set +e
"$CM" index update o-ab/rag ab.yaml --input no-such-folder 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a missing input"
cmp -s o-ab/rag/manifest.json m.before || fail "a failed update changed the manifest"
echo "update: ok"
