#!/usr/bin/env bash
# `clean` over every text file of ../shared/data: the JSON Lines files, the
# Markdown knowledge bases and the line-per-document news files. The
# accounting must balance on each.
source "$(dirname "$0")/lib.sh"
if [ ! -d "$SHARED" ]; then echo "SKIP: $SHARED is absent"; exit 77; fi

# JSON Lines: whichever text field the source uses
write_config jsonl.yaml "input:" "  format: jsonl" "  text_field: [content, text, raw_content, sentence1, query]" \
  "output:" "  dir: o-jsonl" "run:" "  max_malformed_fraction: 1"
mapfile -t jsonl < <(find "$SHARED" -name '*.jsonl' -o -name '*.jsonl.gz' | sort)
args=(); for f in "${jsonl[@]}"; do args+=(--input "$f"); done
"$CM" clean jsonl.yaml "${args[@]}" --progress none 2>err-jsonl || { cat err-jsonl; fail "jsonl run failed"; }
check_accounting o-jsonl
assert_eq "$(stage_get o-jsonl files)" "${#jsonl[@]}" "every JSON Lines file read"
[ "$(stage_get o-jsonl kept)" -gt 1000 ] || fail "few records kept from the JSON Lines files"

# Markdown trees: one document per file
write_config md.yaml "input:" "  format: text" "output:" "  dir: o-md"
"$CM" clean md.yaml --input "$SHARED/zh-kb-internlm-tutorial" --input "$SHARED/zh-kb-lmdeploy-docs" \
  --input "$SHARED/zh-kb-huixiangdou-docs" --progress none 2>err-md || { cat err-md; fail "markdown run failed"; }
check_accounting o-md
assert_eq "$(stage_get o-md read)" "$(find "$SHARED"/zh-kb-* -type f \( -name '*.md' -o -name '*.txt' \) -size +0 | wc -l)" "one document per non-empty file"
assert_eq "$(stage_get o-md empty_files)" "$(find "$SHARED"/zh-kb-* -type f \( -name '*.md' -o -name '*.txt' \) -size 0 | wc -l)" "empty files counted"

# news dumps and question lists: one document per line
write_config lines.yaml "input:" "  format: lines" "output:" "  dir: o-lines"
"$CM" clean lines.yaml --input "$SHARED/zh-news-crud-rag" --input "$SHARED/zh-rag-rejection-huixiangdou" \
  --input "$SHARED/zh-web-chinesewebtext/fasttext_train.txt" --progress none 2>err-lines || { cat err-lines; fail "lines run failed"; }
check_accounting o-lines
[ "$(stage_get o-lines kept)" -gt 3000 ] || fail "news documents kept"
echo "shared_data: ok"
