#!/usr/bin/env bash
# `clean` over every text file of ../shared/data: JSON and JSON Lines files,
# Markdown and HTML pages (one document per file), and the line-per-document
# text files (news dumps, question lists). The accounting must balance on each;
# JSON files that are one big document rather than JSON Lines are accounted
# for as malformed records, not lost.
source "$(dirname "$0")/lib.sh"
if [ ! -d "$SHARED" ]; then echo "SKIP: $SHARED is absent"; exit 77; fi

inputs() { local a=(); for f in "$@"; do a+=(--input "$f"); done; printf '%s\n' "${a[@]}"; }

# JSON Lines (and .json): whichever text field the source uses
write_config jsonl.yaml "input:" "  format: jsonl" "  text_field: [content, text, raw_content, sentence1, query]" \
  "output:" "  dir: o-jsonl" "run:" "  max_malformed_fraction: 1" "  max_error_lines: 5"
mapfile -t files < <(find "$SHARED" -type f \( -name '*.jsonl' -o -name '*.jsonl.gz' -o -name '*.json' \) | sort)
mapfile -t args < <(inputs "${files[@]}")
"$CM" clean jsonl.yaml "${args[@]}" --progress none 2>err-jsonl || { cat err-jsonl; fail "jsonl run failed"; }
check_accounting o-jsonl
assert_eq "$(stage_get o-jsonl files)" "${#files[@]}" "every JSON file read"
[ "$(stage_get o-jsonl kept)" -gt 2000 ] || fail "few records kept from the JSON Lines files"

# one document per file: Markdown (knowledge bases, READMEs, SOURCE.md) and HTML pages
write_config text.yaml "input:" "  format: text" "output:" "  dir: o-text"
mapfile -t files < <(find "$SHARED" -type f \( -name '*.md' -o -name '*.html' \) | sort)
mapfile -t args < <(inputs "${files[@]}")
"$CM" clean text.yaml "${args[@]}" --progress none 2>err-text || { cat err-text; fail "text run failed"; }
check_accounting o-text
nonempty=$(find "$SHARED" -type f \( -name '*.md' -o -name '*.html' \) -size +0 | wc -l)
assert_eq "$(stage_get o-text read)" "$nonempty" "one document per non-empty file"
assert_eq "$(stage_get o-text empty_files)" "$(( ${#files[@]} - nonempty ))" "empty files counted"

# one document per line: news dumps, question lists, labelled sentences
write_config lines.yaml "input:" "  format: lines" "output:" "  dir: o-lines"
mapfile -t files < <(find "$SHARED" -type f -name '*.txt' | sort)
mapfile -t args < <(inputs "${files[@]}")
"$CM" clean lines.yaml "${args[@]}" --progress none 2>err-lines || { cat err-lines; fail "lines run failed"; }
check_accounting o-lines
[ "$(stage_get o-lines kept)" -gt 3000 ] || fail "news documents kept"
echo "shared_data: ok"
