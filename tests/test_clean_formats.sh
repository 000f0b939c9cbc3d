#!/usr/bin/env bash
# Every reader and format end to end: JSON Lines plain and compressed (gzip,
# xz, bzip2, zstd, zstd --long=31), tar / tar.gz / tar.zst, WanJuan 1.0 shards
# with an Exam-cn member, WanJuan-CC records, Dolma-style `text`, Markdown
# folders, one-document-per-line text, globs. Unknown fields pass through
# byte for byte.
source "$(dirname "$0")/lib.sh"

mkdir in
# WanJuan-CC: 13 fields; values chosen so that re-serializing would change them
cat > in/cc.jsonl <<'JSON'
{"id": "cc-1", "content": "Line one.\r\nLine  two.", "title": "T", "language": "en", "date": "2023-01-01", "token_num": 4, "cbytes_num": 20, "line_num": 2, "char_num": 20, "toxic_score": 0.0100, "porn_score": 1e-3, "fluency_score": 0.90, "not_ad_score": 123456789012345678901234567890}
{"id": "cc-2", "content": "Already clean.", "title": "U", "language": "en", "date": "2023-01-02", "token_num": 2, "cbytes_num": 14, "line_num": 1, "char_num": 14, "toxic_score": 0, "porn_score": 0, "fluency_score": 1, "not_ad_score": 1}
JSON
for z in "gzip -c" "xz -c" "bzip2 -c" "zstd -q -c"; do
  ext=$(echo "$z" | awk '{print $1}'); ext=${ext/gzip/gz}; ext=${ext/bzip2/bz2}; ext=${ext/zstd/zst}
  $z in/cc.jsonl > "in/cc.jsonl.$ext"
done
cat in/cc.jsonl | zstd -q --long=31 -c > in/cc-long31.jsonl.zst
mkdir -p shard/part-000000-0a0b0c0d
printf '%s\n' '{"id": "wj-1", "content": "中文文档，第一行。\n第二行！"}' '{"id": "wj-2", "content": "ＡＢＣ全角字母"}' > shard/part-000000-0a0b0c0d/ChinaNews-cn.jsonl
printf '%s\n' '{"id": "ex-1", "q_main": "1+1=?", "option_a": "1", "option_b": "2", "option_c": "", "std_ans": "B", "answer_detail": null}' > shard/part-000000-0a0b0c0d/Exam-cn.jsonl
tar -C shard -cf - part-000000-0a0b0c0d | gzip > in/part-000000-0a0b0c0d.jsonl.tar.gz
tar -C shard -cf in/plain.tar part-000000-0a0b0c0d
tar -C shard -cf - part-000000-0a0b0c0d | zstd -q -c > in/shard.tar.zst

write_config c.yaml "input:" "  paths: [in]" "output:" "  dir: o"
"$CM" clean c.yaml 2>err || { cat err; fail "clean failed"; }
check_accounting o
# 2 records x 6 CC files + (2 + 1 exam) x 3 tar files
assert_eq "$(stage_get o read)" 21 "records read"
assert_eq "$(stage_get o kept)" 21 "records kept"
assert_eq "$(stage_get o files)" 9 "files read"

# normalization applied to the text, other fields byte for byte
kept_records o > kept.jsonl
assert_eq "$(grep -c '"toxic_score": 0.0100,"porn_score": 1e-3,"fluency_score": 0.90' kept.jsonl)" 6 "unknown fields unchanged"
assert_eq "$(grep -c '"not_ad_score": 123456789012345678901234567890' kept.jsonl)" 6 "big integer unchanged"
assert_eq "$(jq -r 'select(.id=="cc-1") | .content' kept.jsonl | sort -u)" "$(printf 'Line one.\nLine two.')" "cc-1 text normalized"
assert_eq "$(jq -r 'select(.id=="wj-2") | .content' kept.jsonl | sort -u)" "ABC全角字母" "NFKC on full-width letters"
assert_eq "$(jq -r 'select(.id=="wj-1") | .content' kept.jsonl | sort -u)" "$(printf '中文文档，第一行。\n第二行！')" "Chinese punctuation kept"
# Exam-cn rendered through the template; empty options and null fields leave no line
assert_eq "$(jq -r 'select(.id=="ex-1") | .content' kept.jsonl | sort -u)" "$(printf '1+1=?\nA. 1\nB. 2\n答案：B')" "Exam-cn rendered"
# the source of every record
assert_eq "$(jq -r 'select(.id=="wj-1") | .corpusmill.source.member' kept.jsonl | sort -u)" "part-000000-0a0b0c0d/ChinaNews-cn.jsonl" "archive member recorded"
assert_eq "$(jq -r 'select(.id=="cc-2" and (.corpusmill.source.file | endswith("cc.jsonl.xz"))) | .corpusmill.source.line' kept.jsonl)" 2 "line recorded"

# exam_cn: skip counts the record as removed with its reason
write_config c2.yaml "input:" "  paths: [in/part-000000-0a0b0c0d.jsonl.tar.gz]" "  exam_cn: skip" "output:" "  dir: o2"
"$CM" clean c2.yaml 2>/dev/null
check_accounting o2
assert_eq "$(jq '.stages.clean.removed["input:exam_cn_skipped"]' o2/summary.json)" 1 "exam skipped with a reason"

# Dolma / RedPajama style: `text`; a list of candidate fields, first present wins
printf '%s\n' '{"id": "d1", "text": "dolma text", "source": "cc"}' '{"id": "d2", "raw_content": "ccnet text"}' > dolma.jsonl
write_config c3.yaml "input:" "  paths: [dolma.jsonl]" "  text_field: [text, raw_content]" "output:" "  dir: o3"
"$CM" clean c3.yaml 2>/dev/null
check_accounting o3
assert_eq "$(kept_records o3 | jq -r .text | head -1)" "dolma text" "text field"
assert_eq "$(kept_records o3 | jq -r .raw_content | tail -1)" "ccnet text" "second candidate field"

# a record that already went through corpusmill: its old corpusmill object is replaced, not duplicated
kept_records o3 > again.jsonl
write_config c3b.yaml "input:" "  paths: [again.jsonl]" "  text_field: [text, raw_content]" "output:" "  dir: o3b"
"$CM" clean c3b.yaml 2>/dev/null
check_accounting o3b
assert_eq "$(kept_records o3b | grep -o '"corpusmill"' | wc -l)" 2 "one corpusmill object per record"
assert_eq "$(kept_records o3b | jq -r .corpusmill.source.file | sort -u)" "again.jsonl" "the new source"

# Markdown knowledge base: one document per file, id = path below the root
mkdir -p kb/guide/sub
printf '# 标题\n\n正文内容。\n' > kb/guide/intro.md
printf 'Plain text file.\n' > kb/guide/sub/notes.txt
printf 'not read\n' > kb/guide/image.png
write_config c4.yaml "input:" "  paths: [kb]" "output:" "  dir: o4"
"$CM" clean c4.yaml 2>err4
check_accounting o4
assert_file_contains err4 "1 files in the input directories are not read by this format (e.g. kb/guide/image.png)" "skipped file note"
assert_eq "$(kept_records o4 | jq -r .id | sort | tr '\n' ' ')" "guide/intro.md guide/sub/notes.txt " "markdown ids"
assert_eq "$(kept_records o4 | jq -r 'select(.id=="guide/intro.md") | .content')" "$(printf '# 标题\n\n正文内容。')" "markdown text"

# one document per line (news dumps): ids are path:line, blank lines skipped
printf '第一条新闻。\n\n第二条新闻。\n' > news.txt
write_config c5.yaml "input:" "  paths: [news.txt]" "  format: lines" "output:" "  dir: o5"
"$CM" clean c5.yaml 2>/dev/null
check_accounting o5
assert_eq "$(kept_records o5 | jq -r .id | tr '\n' ' ')" "news.txt:1 news.txt:3 " "line ids"
assert_eq "$(stage_get o5 blank_lines)" 1 "blank lines counted"

# globs, and --input replacing the config's paths
"$CM" clean c.yaml --input 'in/cc.jsonl*' --out o6 2>/dev/null
check_accounting o6
assert_eq "$(stage_get o6 files)" 5 "glob matched the five cc.jsonl files"
# WanJuan-CC's own language field can be trusted instead of CLD2
printf '%s\n' '{"id": "l1", "content": "这是一段中文文本，用来测试语言字段。", "language": "en"}' \
  '{"id": "l2", "content": "A record whose language field needs escaping.", "language": "x\"y\\\\z"}' > lang.jsonl
write_config lt.yaml "input:" "  paths: [lang.jsonl]" "output:" "  dir: olt" "clean:" "  steps:" \
  "    - language: {keep: [en], trust_field: language}"
"$CM" clean lt.yaml 2>/dev/null
check_accounting olt
assert_eq "$(kept_records olt | jq -r .corpusmill.language)" "en" "the record's language field is trusted"
assert_eq "$(rejected_records olt | jq -r .corpusmill.language)" 'x"y\\z' "a field value is escaped in the output"
write_config lc.yaml "input:" "  paths: [lang.jsonl]" "output:" "  dir: olc" "clean:" "  steps:" "    - language: {keep: [en]}"
"$CM" clean lc.yaml 2>/dev/null
check_accounting olc
assert_eq "$(rejected_records olc | jq -r 'select(.id=="l1") | .corpusmill.reason')" "language:not_kept" "CLD2 (here the Han shortcut) says zh"
echo "clean_formats: ok"
