#!/usr/bin/env bash
# The recipes named after the corpora do the whole job on real text of
# ../shared/data: clean, exact + MinHash dedup, and the pretraining index
# (document vectors, k-means clusters, a document index), with every record
# accounted for at each stage.
source "$(dirname "$0")/lib.sh"
if [ ! -d "$SHARED" ]; then echo "SKIP: $SHARED is absent"; exit 77; fi
cd "$SRC"
check_recipe() {
  local recipe=$1 out=$2; shift 2
  "$CM" run "configs/$recipe.yaml" "$@" --out "$out" -j 2 --progress none 2>"$WORK/err" || { cat "$WORK/err"; fail "$recipe"; }
  for stage in clean dedup embed pretrain; do
    jq -e ".stages.$stage.read > 0" "$out/summary.json" >/dev/null || fail "$recipe: no $stage stage in the summary"
  done
  assert_eq "$(jq '.stages.dedup.read' "$out/summary.json")" "$(jq '.stages.clean.kept' "$out/summary.json")" "$recipe: dedup reads what clean kept"
  assert_eq "$(jq '.stages.pretrain.read' "$out/summary.json")" "$(jq '.stages.dedup.kept' "$out/summary.json")" "$recipe: every deduplicated document in the index"
  [ -s "$out/index/pretrain/documents.faiss" ] && [ -s "$out/index/pretrain/clusters.json" ] || fail "$recipe: no pretraining index"
  jq -e '.clusters >= 2' "$out/index/pretrain/clusters.json" >/dev/null || fail "$recipe: fewer than 2 clusters"
}
check_recipe wanjuan-zh "$WORK/zh" --input "$SHARED/zh-web-chinesewebtext/cc_2021-43_cleared1.jsonl" \
  --input "$SHARED/zh-web-chinesewebtext/quality_clean.jsonl"
check_recipe wanjuan-cc "$WORK/en" --input "$SHARED/en-web-dolma-samples/cc_en_head-0091.jsonl" \
  --input "$SHARED/en-web-dolma-samples/cc_en_head-0174.jsonl" --input "$SHARED/en-web-datajuicer-demos"
echo "recipes: ok"
