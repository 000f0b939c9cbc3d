#!/usr/bin/env bash
# decontaminate on the demo run against a hand-made evaluation set: an item
# quoting an English sample document (13 words), one quoting the Chinese
# knowledge base (13 characters), one found nowhere; every hit reported with
# both texts and an n-gram really shared; with remove, the accounting holds
# and the removed documents carry their reason; SQuAD format works too.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

cp -r "$SRC/sample" "$SRC/configs" .
cat > eval.jsonl <<'JSON'
{"question": "Which is the longest suspension bridge?", "context": "At the time, it was the longest suspension bridge in the world. Historians consider it one of the great engineering achievements of the nineteenth century."}
{"question": "明前茶为什么贵", "answer": "一斤特级明前茶需要采摘三万多个嫩芽，价格因此较高。"}
{"question": "unrelated", "answer": "nothing in the sample looks like this sentence at all, I am quite sure of it today"}
JSON
printf '\ndecontam:\n  eval_sets: [eval.jsonl]\n  remove: true\n' >> configs/demo.yaml
"$CM" run configs/demo.yaml --out demo --progress none 2>err || { cat err; fail "run with decontam failed"; }
jq -e '.stages.decontam | .read == .kept + .removed["decontam:ngram"] and .outputs.eval_items == 3' demo/summary.json >/dev/null ||
  fail "decontam accounting: $(jq -c .stages.decontam demo/summary.json)"
assert_eq "$(jq .stages.decontam.read demo/summary.json)" "$(jq .stages.dedup.kept demo/summary.json)" "every kept document checked"
removed=$(jq '.stages.decontam.removed["decontam:ngram"]' demo/summary.json)
assert_eq "$(wc -l < demo/decontam/report.jsonl)" "$removed" "one report line per hit"
assert_eq "$(find demo/rejected/decontam -name '*.zst' | xargs zstdcat | jq -r .corpusmill.reason | sort -u)" "decontam:ngram" "reason"
assert_eq "$(find demo/rejected/decontam -name '*.zst' | xargs zstdcat | wc -l)" "$removed" "removed records on disk"
assert_eq "$(find demo/decontam/kept -name '*.zst' | xargs zstdcat | wc -l)" "$(jq .stages.decontam.kept demo/summary.json)" "kept on disk"
"$PY" - <<'PYEOF' || fail "the report is wrong"
import json, re
rows = [json.loads(l) for l in open("demo/decontam/report.jsonl", encoding="utf-8")]
items = {r["eval_item"] for r in rows}
assert items == {0, 1}, items          # the unrelated item hits nothing
assert any(r["doc_id"] == "kb/longjing-tea.md" and r["eval_item"] == 1 for r in rows)
def bare(t):
    return re.sub(r"[\W_]+", "", t.lower())
for r in rows:
    g = bare(r["ngram"])
    assert g and g in bare(r["doc_text"]) and g in bare(r["eval_text"]), r["ngram"]
    assert len(r["ngram"].split()) >= 13 or len(re.findall(r"[\u4e00-\u9fff]", r["ngram"])) == 13, r["ngram"]
PYEOF

# report only, SQuAD format, shorter n-grams find at least as much
cat > squad.json <<'JSON'
{"version": "1", "data": [{"title": "t", "paragraphs": [{"context": "Regular physical activity lowers the risk of heart disease and improves sleep. It is never too late to start.",
  "qas": [{"id": "q1", "question": "What does activity lower?", "answers": [{"text": "the risk of heart disease", "answer_start": 0}]}]}]}]}
JSON
sed -i 's/eval_sets: \[eval.jsonl\]/eval_sets: [eval.jsonl, squad.json]/; s/  remove: true/  remove: false/' configs/demo.yaml
"$CM" decontaminate configs/demo.yaml --out demo --force 2>err || { cat err; fail "report-only run failed"; }
assert_contains "$(cat err)" "evaluation items" "decontaminate prints what it found"
assert_contains "$(cat err)" "vector check skipped: the hash model is lexical" "no vector check with the hash model"
jq -e '.stages.decontam | .kept == .read and .outputs.eval_items == 4' demo/summary.json >/dev/null || fail "report only keeps all"
[ "$(jq -c 'select(.eval_file == "squad.json")' demo/decontam/report.jsonl | wc -l)" -gt 0 ] || fail "no hit for the SQuAD item"
hits13=$(wc -l < demo/decontam/report.jsonl)
printf '  ngram: 8\n  cjk_ngram: 8\n' >> configs/demo.yaml
"$CM" decontaminate configs/demo.yaml --out demo --force 2>/dev/null
[ "$(wc -l < demo/decontam/report.jsonl)" -ge "$hits13" ] || fail "8-grams found less than 13-grams"

# by vectors, with a (tiny) BERT model: an item equal to a chunk's text is a
# hit even with n-grams too long to match anything
mkdir vec && cp -r sample vec/ && cd vec
sed -e "s|model: hash|model: $SRC/tests/fixtures/tiny-bert-mean|" -e 's|max_tokens: 900|max_tokens: 0|' -e 's|overlap: 32|overlap: 4|' \
  ../configs/demo.yaml | sed '/^decontam:/,$d' > bert.yaml
"$CM" run bert.yaml --out out --progress none 2>err || { cat err; fail "BERT run failed"; }
find out/chunks -name '*.zst' | sort | xargs zstdcat | jq -c -s '[.[] | select(.doc_id == "kb/longjing-tea.md")][2]' > chunk.json
jq -c '{question: .text}' chunk.json > veval.jsonl
printf 'decontam:\n  eval_sets: [veval.jsonl]\n  ngram: 60\n  cjk_ngram: 60\n  vector_threshold: 0.9999\n  remove: true\n' >> bert.yaml
"$CM" decontaminate bert.yaml --out out 2>err || { cat err; fail "vector decontam failed"; }
assert_contains "$(cat err)" "vector check on" "the vector check ran"
jq -e '.stages.decontam.removed["decontam:vector"] >= 1' out/summary.json >/dev/null || fail "no vector hit: $(jq -c .stages.decontam out/summary.json)"
assert_eq "$(jq -r 'select(.vector_similarity != null) | .doc_id' out/decontam/report.jsonl | sort -u | grep -c longjing)" 1 "the tea document is the hit"
cd ..

set +e
printf 'decontam:\n  eval_sets: [missing.json]\n' > bad.yaml
"$CM" decontaminate bad.yaml --out demo --force 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a missing evaluation set"
assert_contains "$(cat err)" "missing.json" "the error names it"
echo ok
