#!/usr/bin/env bash
# The quality recipes against labelled real data (../shared/data):
#  - en-quality-dclm: 780 English web documents with human 0/1 labels; the
#    wanjuan-cc recipe (FineWeb's) must keep label-1 documents with precision
#    and recall above the floors (measured 0.76 / 0.78; base rate 0.54);
#  - zh-web-chinesewebtext: the Chinese recipe keeps at least 9 of the 10
#    clean samples and drops at least 9 of the 10 dirty ones;
#  - both recipes over every text file, with the accounting balanced and
#    every removal reason of the form filter:rule.
source "$(dirname "$0")/lib.sh"
if [ ! -d "$SHARED" ]; then echo "SKIP: $SHARED is absent"; exit 77; fi

"$CM" clean "$SRC/configs/wanjuan-cc.yaml" --out dclm --progress none \
  --input "$SHARED/en-quality-dclm/agreement_data.jsonl" --input "$SHARED/en-quality-dclm/majority_data.jsonl" 2>/dev/null
check_accounting dclm
read -r precision recall < <( { kept_records dclm | jq -c '[1, .label]'; rejected_records dclm | jq -c '[0, .label]'; } |
  python3 -c '
import sys, json
tp = fp = fn = 0
for line in sys.stdin:
    kept, label = json.loads(line)
    tp += kept and label == 1; fp += kept and label == 0; fn += (not kept) and label == 1
print("%.3f %.3f" % (tp / (tp + fp), tp / (tp + fn)))')
echo "dclm: precision $precision recall $recall"
python3 -c "import sys; sys.exit(0 if $precision >= 0.72 and $recall >= 0.72 else 1)" ||
  fail "DCLM precision $precision / recall $recall below the floors 0.72 / 0.72"

"$CM" clean "$SRC/configs/wanjuan-zh.yaml" --out zh --progress none \
  --input "$SHARED/zh-web-chinesewebtext/quality_clean.jsonl" --input "$SHARED/zh-web-chinesewebtext/quality_dirty.jsonl" 2>/dev/null
check_accounting zh
clean_kept=$(kept_records zh | jq -r .corpusmill.source.file | grep -c quality_clean || true)
dirty_dropped=$(rejected_records zh | jq -r .corpusmill.source.file | grep -c quality_dirty || true)
echo "chinesewebtext: clean kept $clean_kept/10, dirty dropped $dirty_dropped/10"
[ "$clean_kept" -ge 9 ] || fail "only $clean_kept of 10 clean Chinese samples kept"
[ "$dirty_dropped" -ge 9 ] || fail "only $dirty_dropped of 10 dirty Chinese samples dropped"
# every removal names the filter and the rule, and carries the signals it was judged on
[ "$(rejected_records zh | jq -c 'select((.corpusmill.reason | test("^[a-z_0-9]+:[a-z_0-9]+$") | not) or (.corpusmill.signals.chars == null))' | wc -l)" -eq 0 ] ||
  fail "a removal without a filter:rule reason or signals"
[ "$(kept_records zh | jq -c 'select(.corpusmill.signals.words == null or .corpusmill.language == null)' | wc -l)" -eq 0 ] ||
  fail "a kept record without signals or language"

# both recipes over every text file
mapfile -t jsonl < <(find "$SHARED" -type f \( -name '*.jsonl' -o -name '*.jsonl.gz' -o -name '*.json' \) | sort)
mapfile -t texts < <(find "$SHARED" -type f \( -name '*.md' -o -name '*.html' \) | sort)
mapfile -t lines < <(find "$SHARED" -type f -name '*.txt' | sort)
for recipe in wanjuan-cc wanjuan-zh; do
  for kind in jsonl texts lines; do
    declare -n files=$kind
    fmt=jsonl; [ $kind = texts ] && fmt=text; [ $kind = lines ] && fmt=lines
    sed "s/^  format: jsonl/  format: $fmt/" "$SRC/configs/$recipe.yaml" > r.yaml
    printf 'run:\n  max_malformed_fraction: 1\n  max_error_lines: 0\n' >> r.yaml
    args=(); for f in "${files[@]}"; do args+=(--input "$f"); done
    "$CM" clean r.yaml --out "all-$recipe-$kind" --progress none "${args[@]}" 2>/dev/null ||
      fail "$recipe over the $kind files failed"
    check_accounting "all-$recipe-$kind"
    jq -e '.stages.clean.removed | keys | all(test("^[a-z_0-9]+:[a-z_0-9]+$"))' "all-$recipe-$kind/summary.json" >/dev/null ||
      fail "unspecific removal reasons"
    echo "$recipe $kind: $(jq -c '.stages.clean | {read, kept, malformed}' "all-$recipe-$kind/summary.json")"
  done
done
echo "quality_evidence: ok"
