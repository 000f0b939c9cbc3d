#!/usr/bin/env bash
# Hybrid search is the weighted sum the manifest says: w * BM25 / the best
# BM25 + (1 - w) * the cosine min-max scaled over the dense list. With the
# lexical hash model the default weight is 1 (BM25's order: hybrid never
# loses to it); with a neural model (the tiny BERT fixture) 0.5, or what
# index.hybrid_weight says; --bm25-weight 0 and 1 give the dense and BM25
# orders; a weight out of range is refused.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

cp -r "$SRC/sample" "$SRC/configs" .
sed -e 's|^  paths: \[sample\]|  paths: [sample/kb]|' configs/demo.yaml > kb.yaml
grep -q 'paths: \[sample/kb\]' kb.yaml || fail "the demo config's input line changed: update this test"
"$CM" run kb.yaml --out hash --progress none 2>err || { cat err; fail "hash run failed"; }
assert_eq "$(jq .hybrid.bm25_weight hash/rag/manifest.json)" "1" "a lexical model's default weight"
q="明前茶是什么时候采摘的"
"$CM" query hash/rag "$q" --mode bm25 --k 5 --json | jq -c '[.results[].chunk_id]' > b.ids
"$CM" query hash/rag "$q" --mode hybrid --k 5 --json > h.json
nb=$(jq length b.ids)
[ "$nb" -ge 2 ] || fail "BM25 finds too little to compare orders: $nb"
assert_eq "$(jq -c ".results[:$nb] | [.[].chunk_id]" h.json)" "$(cat b.ids)" "hash: hybrid orders as BM25"
# past BM25's hits (a chunk holding no query term), the dense list fills in
[ "$nb" -ge 5 ] || jq -e ".results | length == 5 and (.[$nb:] | all(.dense_rank >= 1 and (has(\"bm25_rank\") | not)))" h.json >/dev/null \
  || fail "hybrid fills in with the dense list"
jq -e '.results[0].dense_rank >= 1 and .results[0].bm25_rank == 1' h.json >/dev/null || fail "hybrid keeps both ranks"

# the tiny BERT: auto is 0.5; the config's weight is recorded and applied
sed -e "s|model: hash|model: $SRC/tests/fixtures/tiny-bert-mean|" -e 's|max_tokens: 900|max_tokens: 0|' \
    -e 's|overlap: 32|overlap: 4|' -e 's|paths: \[sample/kb\]|paths: [sample/kb/longjing-tea.md]|' kb.yaml > bert.yaml
"$CM" run bert.yaml --out bert --progress none 2>err || { cat err; fail "BERT run failed"; }
assert_eq "$(jq .hybrid.bm25_weight bert/rag/manifest.json)" "0.5" "a neural model's default weight"
sed 's|^index:|index:\n  hybrid_weight: 0.3|' bert.yaml > bert3.yaml
"$CM" index bert3.yaml --out bert --force --progress none 2>err || { cat err; fail "index with hybrid_weight 0.3 failed"; }
assert_eq "$(jq .hybrid.bm25_weight bert/rag/manifest.json)" "0.3" "index.hybrid_weight recorded"
n=$(jq .chunks bert/rag/manifest.json)
[ "$n" -le 100 ] || fail "this test needs every chunk in the dense list (100 deep): $n chunks"
for mode in dense bm25 hybrid; do "$CM" query bert/rag "$q" --mode $mode --k 100 --json > $mode.json; done
"$PY" - <<'PYEOF' || fail "hybrid scores are not the weighted sum"
import json
d = {r["chunk_id"]: r["score"] for r in json.load(open("dense.json"))["results"]}
b = {r["chunk_id"]: r["score"] for r in json.load(open("bm25.json"))["results"]}
h = json.load(open("hybrid.json"))["results"]
w, dmax, dmin, bmax = 0.3, max(d.values()), min(d.values()), max(b.values())
assert dmax > dmin and bmax > 0
for r in h[:20]:
    want = w * b.get(r["chunk_id"], 0) / bmax + (1 - w) * (d[r["chunk_id"]] - dmin) / (dmax - dmin)
    assert abs(r["score"] - want) < 1e-5, (r, want)
# not simply one list's order at this weight
assert [r["chunk_id"] for r in h[:10]] != list(b)[:10]
PYEOF
# (the tiny model gives equal cosines to many chunks: compared by score, ties in any order)
"$CM" query bert/rag "$q" --mode hybrid --bm25-weight 0 --k 8 --json | jq -c '[.results[].dense_score]' > h0.scores
"$CM" query bert/rag "$q" --mode hybrid --bm25-weight 1 --k 8 --json | jq -c '[.results[].bm25_score]' > h1.scores
assert_eq "$(cat h0.scores)" "$(jq -c '[.results[:8][].score]' dense.json)" "--bm25-weight 0: the dense order"
assert_eq "$(cat h1.scores)" "$(jq -c '[.results[:8][].score]' bm25.json)" "--bm25-weight 1: the BM25 order"

# misuse
set +e
"$CM" query bert/rag "$q" --bm25-weight 1.5 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a weight over 1"
assert_contains "$(cat err)" "a number from 0 to 1" "the message says the range"
sed 's|^index:|index:\n  hybrid_weight: -0.1|' bert.yaml > bad.yaml
set +e
"$CM" index bad.yaml --out bert --force --progress none 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a negative index.hybrid_weight"
assert_contains "$(cat err)" "hybrid_weight" "the message names the key"
echo "hybrid: ok"
