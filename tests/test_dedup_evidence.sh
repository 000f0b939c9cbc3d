#!/usr/bin/env bash
# Dedup against brute-force ground truth (tests/dedup_truth.c computes the
# exact Jaccard of document pairs over the same shingles): on the Chinese
# news of ../shared/data (3,876 documents with natural near duplicates) and on
# English web samples, pairs with J >= 0.8 must end up in one cluster with
# recall >= 0.95, and removed documents must have J >= 0.8 to their
# representative with precision >= 0.98 (verification on).
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
"$CM" run zh.yaml --input "$SHARED/zh-news-crud-rag" --progress none 2>/dev/null || fail "news run failed"
check news zh

write_config en.yaml "input:" "  format: jsonl" "  text_field: [text, content]" "output:" "  dir: en" "clean:" "  steps:" \
  "    - normalize: {}" "dedup:" "  verify: exact" "  threshold: 0.8"
"$CM" run en.yaml --input "$SHARED/en-web-datajuicer-demos" --input "$SHARED/en-web-dolma-samples/cc_en_head-0091.jsonl" \
  --input "$SHARED/en-web-dolma-samples/cc_en_head-0174.jsonl" --progress none 2>/dev/null || fail "English run failed"
"$TRUTH" en
echo "dedup_evidence: ok"
