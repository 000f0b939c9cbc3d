#!/usr/bin/env bash
# Dedup against brute-force ground truth (tests/dedup_truth.c computes the
# exact Jaccard of document pairs over the same shingles): on the Chinese
# news of ../shared/data (its two data files, 3,860 documents with natural
# near duplicates) and on English web samples, pairs with J >= 0.8 must end
# up in one cluster with recall >= 0.95, and removed documents must have
# J >= 0.8 to the document they were verified against with precision >= 0.98
# (verification on). The truth keeps digits as written; so does the default
# (fold_digits: false). With fold_digits: true, matches that hold only with
# digits folded are labelled dedup:folded, never dedup:exact.
source "$(dirname "$0")/lib.sh"
if [ ! -d "$SHARED" ]; then echo "SKIP: $SHARED is absent"; exit 77; fi
TRUTH=$(dirname "$CM")/tests/dedup_truth

check() {
  local name=$1 out=$2
  "$TRUTH" "$out" > "truth-$name.txt"
  cat "truth-$name.txt"
  recall=$(awk '/^recall/ {print $2}' "truth-$name.txt")
  precision=$(awk '/^precision/ {print $2}' "truth-$name.txt")
  truth=$(awk '/^documents/ {print $NF}' "truth-$name.txt")
  [ "$truth" -gt 20 ] || fail "$name: too few true pairs ($truth) for a measure"
  python3 -c "import sys; sys.exit(0 if $recall >= 0.95 else 1)" || fail "$name: recall $recall below 0.95"
  python3 -c "import sys; sys.exit(0 if $precision >= 0.98 else 1)" || fail "$name: precision $precision below 0.98"
}

write_config zh.yaml "input:" "  format: lines" "output:" "  dir: zh" "clean:" "  steps:" "    - normalize: {}" \
  "dedup:" "  verify: exact" "  threshold: 0.8"
NEWS=("$SHARED"/zh-news-crud-rag/documents_*.txt)
[ ${#NEWS[@]} -ge 2 ] || fail "the news data files are missing"
args=(); for f in "${NEWS[@]}"; do args+=(--input "$f"); done
"$CM" run zh.yaml "${args[@]}" --progress none 2>/dev/null || fail "news run failed"
check news zh
assert_eq "$(jq '.stages.clean.read' zh/summary.json)" "$(cat "${NEWS[@]}" | grep -c .)" "the data files' lines, and nothing else"

# folding digits: more removed, the extra ones labelled dedup:folded, and an
# exact removal is always a byte-identical text
sed 's|  threshold: 0.8|  threshold: 0.8\n  fold_digits: true|; s|  dir: zh|  dir: zhf|' zh.yaml > zhf.yaml
"$CM" run zhf.yaml "${args[@]}" --progress none 2>/dev/null || fail "news run with fold_digits failed"
"$TRUTH" zhf | tee truth-folded.txt
[ "$(jq '.stages.dedup.removed["dedup:folded"] // 0' zhf/summary.json)" -gt 0 ] || fail "no dedup:folded removal on the news"
# every dedup:exact removal has the same text as its kept copy; every
# dedup:folded one differs from the document it was verified against
python3 - <<'PYEOF' || fail "a removal's reason does not match its texts"
import glob, json, subprocess
def records(pattern):
    for p in sorted(glob.glob(pattern)):
        for line in subprocess.run(["zstdcat", p], capture_output=True, check=True).stdout.decode().splitlines():
            yield json.loads(line)
text, seen = {}, {}
for r in records("zhf/clean/part-*.jsonl.zst"):
    f = r["corpusmill"]["source"]["file"]
    text[(f, seen.get(f, 0))] = r["content"]
    seen[f] = seen.get(f, 0) + 1
n = {"dedup:exact": 0, "dedup:folded": 0}
for r in records("zhf/rejected/dedup/part-*.jsonl.zst"):
    c = r["corpusmill"]
    kept = text[(c["duplicate_of"]["file"], c["duplicate_of"]["record"])]
    via = text[(c["verified_against"]["file"], c["verified_against"]["record"])]
    if c["reason"] == "dedup:exact":
        assert r["content"] == via, r["id"]
        n["dedup:exact"] += 1
    if c["reason"] == "dedup:folded":
        assert r["content"] != via and c["verified_against"]["jaccard_folded"] >= 0.8, r["id"]
        n["dedup:folded"] += 1
print("reasons checked against the texts:", n)
PYEOF

write_config en.yaml "input:" "  format: jsonl" "  text_field: [text, content]" "output:" "  dir: en" "clean:" "  steps:" \
  "    - normalize: {}" "dedup:" "  verify: exact" "  threshold: 0.8"
"$CM" run en.yaml --input "$SHARED/en-web-datajuicer-demos" --input "$SHARED/en-web-dolma-samples/cc_en_head-0091.jsonl" \
  --input "$SHARED/en-web-dolma-samples/cc_en_head-0174.jsonl" --progress none 2>/dev/null || fail "English run failed"
"$TRUTH" en
echo "dedup_evidence: ok"
