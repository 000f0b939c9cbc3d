#!/usr/bin/env bash
# eval-retrieval on hand-made QA sets in both formats, with numbers that can
# be worked out by hand, then the RGB set of ../shared/data: corpusmill's
# BM25 must reach the reference BM25 (character unigrams + bigrams) on
# recall@1 (0.657), recall@5 (0.953) and precision@5 (0.628).
source "$(dirname "$0")/lib.sh"

# RGB-style JSON Lines: the second query's positive is also the first's
# negative (one passage, stored once); the third query matches nothing
cat > rgb.jsonl <<'EOF'
{"query": "西湖龙井茶的采摘时间", "positive": ["西湖龙井茶在清明前后采摘，明前茶最贵。"], "negative": ["布鲁克林大桥于1883年建成。"]}
{"query": "布鲁克林大桥哪一年建成", "positive": ["布鲁克林大桥于1883年建成。"], "negative": ["今天的天气很好，适合散步。"]}
{"query": "量子计算机的原理", "positive": ["超导比特需要极低温。"], "negative": ["西湖龙井茶在清明前后采摘，明前茶最贵。"]}
EOF
"$CM" eval-retrieval --qa rgb.jsonl --json > rgb.json 2>err || { cat err; fail "eval-retrieval on JSON Lines failed"; }
assert_eq "$(jq .questions rgb.json)" 3 "three questions"
assert_eq "$(jq .passages rgb.json)" 4 "identical passages stored once"
for m in dense bm25 hybrid; do
  for k in recall@1 recall@5 recall@20 mrr@10 precision@5; do
    jq -e --arg m $m --arg k $k '.[$m][$k] | type == "number" and . >= 0 and . <= 1' rgb.json >/dev/null || fail "$m $k"
  done
done
# bm25: the first two at rank 1, the third nowhere (it shares no term with its passage)
assert_eq "$(jq '.bm25["recall@1"]' rgb.json)" "0.6667" "bm25 recall@1"
assert_eq "$(jq '.bm25["recall@20"]' rgb.json)" "0.6667" "bm25 cannot find a passage without shared terms"
# precision@5: one gold among at most five results, for two questions
assert_eq "$(jq '.bm25["precision@5"]' rgb.json)" "0.1333" "bm25 precision@5"

# SQuAD format: a context is a passage; its questions are its gold
cat > squad.json <<'EOF'
{"version": "1", "data": [{"title": "t", "paragraphs": [
  {"context": "The bridge was completed in 1883 after fourteen years of construction.",
   "qas": [{"id": "q1", "question": "When was the bridge completed?", "answers": []},
           {"id": "q2", "question": "How many years of construction did the bridge take?", "answers": []}]},
  {"context": "Green tea picked before the Qingming festival is the most expensive.",
   "qas": [{"id": "q3", "question": "Which green tea is the most expensive?", "answers": []}]}]}]}
EOF
"$CM" eval-retrieval --qa squad.json > squad.txt 2>err || { cat err; fail "eval-retrieval on SQuAD failed"; }
assert_contains "$(head -1 squad.txt)" "3 questions, 2 passages" "SQuAD questions and contexts"
assert_eq "$(awk '$1 == "bm25" {print $2}' squad.txt)" "1.000" "bm25 finds each question's paragraph first"
assert_eq "$(awk '$1 == "dense" {print $2}' squad.txt)" "1.000" "so does the lexical dense model"

# against an existing export (the demo's): a hit is a chunk whose text lies
# inside a gold passage, or the passage inside it, after folding
cp -r "$SRC/sample" "$SRC/configs" .
"$CM" run configs/demo.yaml --out demo --progress none 2>err || { cat err; fail "demo run failed"; }
cat > kbqa.jsonl <<'EOF'
{"query": "明前茶为什么价格高", "positive": ["清明节以前采摘的茶叶称为明前茶。这时气温较低，芽叶生长缓慢，内含物质积累充分，所以滋味鲜醇，产量却很少。一斤特级明前茶需要采摘三万多个嫩芽，价格因此较高。"]}
{"query": "How long does a walk across the bridge take?", "positive": ["A walk from Manhattan to Brooklyn takes about thirty minutes at an easy pace, longer if you stop for photographs."]}
EOF
"$CM" eval-retrieval demo/rag --qa kbqa.jsonl --json > kb.json 2>err || { cat err; fail "eval-retrieval on an export failed"; }
# the tea question's chunk comes first; the walking question's second (the
# guide's introduction, which speaks of walking across the bridge, is first)
assert_eq "$(jq '.bm25["recall@1"]' kb.json)" "0.5" "bm25 recall@1 on the export"
assert_eq "$(jq '.bm25["recall@5"]' kb.json)" "1" "bm25 recall@5 on the export"
assert_eq "$(jq '.bm25["mrr@10"]' kb.json)" "0.75" "bm25 MRR on the export"
assert_eq "$(jq .passages kb.json)" 2 "the gold passages"
"$CM" eval-retrieval demo/rag --qa kbqa.jsonl > kb.txt
assert_contains "$(head -1 kb.txt)" "searched in demo/rag" "the text output names the export"

set +e
"$CM" eval-retrieval --qa nowhere.json 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a missing QA file"
assert_contains "$(cat err)" "nowhere.json" "the error names it"

RGB="$SHARED/zh-rag-rgb/zh_refine.json"
if [ ! -f "$RGB" ]; then
  echo "SKIP: $RGB not found"
  exit 77
fi
"$CM" eval-retrieval --qa "$RGB" --json > real.json || fail "eval-retrieval on RGB failed"
cat real.json
assert_eq "$(jq .passages real.json)" 7337 "RGB's collection"
jq -e '.bm25["recall@1"] >= 0.657 and .bm25["recall@5"] >= 0.953 and .bm25["precision@5"] >= 0.628' real.json >/dev/null ||
  fail "bm25 below the reference on RGB: $(jq -c .bm25 real.json)"
jq -e '.hybrid["recall@1"] >= .dense["recall@1"]' real.json >/dev/null || fail "hybrid below dense"
echo ok
