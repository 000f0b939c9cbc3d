#!/usr/bin/env bash
# The main job on the embedded sample, as `make run` runs it.
source "$(dirname "$0")/lib.sh"

cp -r "$SRC/sample" "$SRC/configs" .
"$CM" run configs/demo.yaml --out demo -j 2 --progress none 2>err || { cat err; fail "demo run failed"; }
check_accounting demo
assert_eq "$(stage_get demo files)" 6 "all sample files read"
[ "$(stage_get demo read)" -gt 400 ] || fail "the sample has a few hundred documents"
[ "$(stage_get demo kept)" -gt 250 ] || fail "most are kept"
# the quality filters act on the sample's spam, boilerplate and short documents, each with its reason
for r in language:not_kept normalize:empty fineweb:line_punct_ratio; do
  [ "$(jq --arg r "$r" '.stages.clean.removed[$r] // 0' demo/summary.json)" -gt 0 ] || fail "no removal by $r"
done
[ "$(jq '[.stages.clean.removed | keys[] | split(":")[0]] | unique | length' demo/summary.json)" -ge 4 ] ||
  fail "fewer than four filters removed something"
[ "$(rejected_records demo | jq -r .id | grep -c -- '-spam-')" -ge 10 ] || fail "keyword spam kept"
[ "$(stage_get demo malformed)" -eq 2 ] || fail "the sample's two broken lines are malformed"
[ "$(stage_get demo modified)" -gt 10 ] || fail "normalization changed documents"
kept_records demo > kept.jsonl
# both languages, WanJuan archive members, the rendered exam, the zstd shard
grep -q '"member":"part-000000-5a1b9c3e/ChinaNews-cn.jsonl"' kept.jsonl || fail "zh tar member"
grep -q '"member":"part-000001-7d2e4f60/WebText-en.jsonl"' kept.jsonl || fail "en tar member"
assert_contains "$( { cat kept.jsonl; rejected_records demo; } | jq -r 'select(.id=="exam-000001") | .content')" "答案：B" "exam rendered (kept, or removed with its text)"
grep -q '"text_source": "mirror"' kept.jsonl || fail "zstd shard with its extra field"
# nothing the normalizer removes survives
! jq -r .content kept.jsonl | grep -qP '\r|\x{200B}|\x{FEFF}|\x07' || fail "unnormalized text kept"
assert_contains "$(cat err)" "demo/summary.json" "run says where the summary is"
# dedup after clean: the sample's exact copies and near duplicates go, each with its representative
[ "$(jq '.stages.dedup.removed["dedup:exact"] // 0' demo/summary.json)" -gt 10 ] || fail "exact duplicates kept"
[ "$(jq '.stages.dedup.removed["dedup:minhash"] // 0' demo/summary.json)" -gt 0 ] || fail "near duplicates kept"
assert_eq "$(jq '.stages.dedup.read' demo/summary.json)" "$(stage_get demo kept)" "dedup reads what clean kept"
[ "$(find demo/rejected/dedup -name '*.zst' | xargs zstdcat | jq -c 'select(.corpusmill.duplicate_of.file == null)' | wc -l)" -eq 0 ] ||
  fail "a duplicate without its representative"
assert_contains "$(cat err)" "corpusmill: dedup: read" "run prints the dedup funnel"
# embed after dedup, with the hash model: every deduplicated document in chunks, one vector per chunk
assert_eq "$(jq '.stages.embed.read' demo/summary.json)" "$(jq '.stages.dedup.kept' demo/summary.json)" "embed reads what dedup kept"
[ "$(jq '.stages.embed.outputs.vectors' demo/summary.json)" -ge "$(jq '.stages.embed.read' demo/summary.json)" ] ||
  fail "fewer vectors than documents"
[ "$(find demo/chunks -name '*.zst' | xargs zstdcat | jq -c 'select(.doc_id == "kb/longjing-tea.md" and .headings[-1] == "明前茶与雨前茶")' | wc -l)" -eq 1 ] ||
  fail "the Markdown knowledge base's heading path is missing"
assert_contains "$(cat err)" "corpusmill: embed: read" "run prints the embed funnel"
echo "demo: ok"
