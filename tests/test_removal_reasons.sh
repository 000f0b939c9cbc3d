#!/usr/bin/env bash
# Every document's verdict under both quality recipes, on real text of
# ../shared/data, against a snapshot (tests/fixtures/removal_reasons.tsv):
# source file and line, then "kept" or the removal reason, one line per
# record, and the digest of the kept records (text and stored signals). The
# snapshot was written by the code before issue 18's speed-ups, so a faster
# signal, tokenizer or filter that changes any decision, any reason or any
# stored value fails here. After an intended change of a rule, regenerate
# it with:  REGENERATE=1 bash tests/test_removal_reasons.sh BIN SRC [SHARED]
source "$(dirname "$0")/lib.sh"
# inputs by a relative path through a link: records name their source file as
# given, so the kept digests are the same wherever ../shared lives
ln -s "$SHARED" shared
Z=shared/zh-web-chinesewebtext
E=shared/en-quality-dclm
for f in "$Z/cc_2021-43_cleared1.jsonl" "$Z/quality_clean.jsonl" "$Z/quality_dirty.jsonl" "$E/majority_data.jsonl" \
         "$E/agreement_data.jsonl" "shared/en-web-dolma-samples/cc_raw_documents_000.jsonl.gz"; do
  [ -f "$f" ] || fail "no $f"
done
verdicts() { # OUT RECIPE: "recipe file:line verdict" for every record
  { kept_records "$1" | jq -r --arg r "$2" '$r + "\t" + (.corpusmill.source.file | split("/") | last) + ":" + (.corpusmill.source.line | tostring) + "\tkept"'
    rejected_records "$1" | jq -r --arg r "$2" '$r + "\t" + (.corpusmill.source.file | split("/") | last) + ":" + (.corpusmill.source.line | tostring) + "\t" + .corpusmill.reason'
  } | LC_ALL=C sort
}
: > got.tsv
for recipe in wanjuan-zh wanjuan-cc; do
  raw=(); [ $recipe = wanjuan-zh ] && raw=(--input "$Z/cc_2021-43_cleared1.jsonl") # raw_content: the zh recipe's field
  "$CM" clean "$SRC/configs/$recipe.yaml" --out $recipe --progress none --threads 2 "${raw[@]}" \
    --input "$Z/quality_clean.jsonl" --input "$Z/quality_dirty.jsonl" \
    --input "$E/majority_data.jsonl" --input "$E/agreement_data.jsonl" \
    --input "shared/en-web-dolma-samples/cc_raw_documents_000.jsonl.gz" 2>err || { cat err; fail "$recipe"; }
  check_accounting $recipe
  verdicts $recipe $recipe >> got.tsv
  "$CM" digest $recipe | awk -v r=$recipe '$1 == "kept" {print r "\tdigest\t" $NF}' >> got.tsv
done
WANT=$SRC/tests/fixtures/removal_reasons.tsv
if [ "${REGENERATE:-}" = 1 ]; then cp got.tsv "$WANT"; echo "wrote $WANT"; exit 0; fi
[ "$(wc -l < got.tsv)" -gt 1500 ] || fail "too few verdicts: $(wc -l < got.tsv)"
diff "$WANT" got.tsv > diff.txt || { head -20 diff.txt; fail "verdicts differ from the snapshot ($(grep -c '^>' diff.txt) lines)"; }
echo "removal reasons: $(wc -l < got.tsv) verdicts as in the snapshot"
