#!/usr/bin/env bash
# fastText quality and language models (issue 19), with Debian's fasttext:
#  - a model trained by the `fasttext` command line gives, through corpusmill,
#    the probabilities `fasttext predict-prob` prints for the same lines;
#  - `quality train` reads documents through a config, writes MODEL.json
#    (label, cjk), and `quality eval` measures it on labelled JSON Lines;
#  - the quality_model step stores each document's probability as a signal,
#    keeps the documents at or above the threshold, removes the rest as
#    quality_model:below_threshold, and accounts for every record; a cjk that
#    contradicts MODEL.json is refused;
#  - language with engine fasttext: a model's top label is the language;
#  - damaged, truncated, foreign and missing model files are refused, naming
#    the file, by the step and by the commands.
source "$(dirname "$0")/lib.sh"
command -v fasttext >/dev/null || fail "no fasttext command (scripts/setup.sh installs it)"
D=$SHARED/en-quality-dclm/majority_data.jsonl
[ -f "$D" ] || fail "no $D"

# DCLM's labelled documents: the first 400 to train, the rest to test
jq -r 'select(input_line_number <= 400) | (if .label == 1 then "__label__hq " else "__label__lq " end) +
       (.text | gsub("\\s+"; " "))' "$D" > train.txt
jq -r 'select(input_line_number > 400) | .text | gsub("\\s+"; " ")' "$D" > test.txt
[ "$(wc -l < train.txt)" = 400 ] || fail "400 training lines"
fasttext supervised -input train.txt -output cli -epoch 5 -thread 1 -wordNgrams 2 -dim 16 -bucket 20000 -verbose 0
fasttext predict-prob cli.bin test.txt -1 |
  awk '{p = 0; for (i = 1; i < NF; i += 2) if ($i == "__label__hq") p = $(i + 1); print p}' > want.txt
"$CM" quality predict cli.bin --label __label__hq < test.txt > got.txt
assert_eq "$(wc -l < got.txt)" "$(wc -l < test.txt)" "one probability a line"
paste want.txt got.txt | awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d} END {print "max |difference|", m + 0;
  if (m > 1e-5) exit 1}' || fail "corpusmill's probabilities differ from fasttext predict-prob's"
awk '$1 > 0.001 && $1 < 0.999' got.txt | grep -q . || fail "the probabilities are not all 0 or 1 (a real comparison)"

# quality train through a config, quality eval
cat > train.yaml <<'YAML'
input:
  format: jsonl
  text_field: [text, content]
clean:
  steps:
    - normalize: {}
YAML
jq -c 'select(input_line_number <= 400 and .label == 1)' "$D" > pos.jsonl
jq -c 'select(input_line_number <= 400 and .label == 0)' "$D" > neg.jsonl
jq -c 'select(input_line_number > 400)' "$D" > heldout.jsonl
"$CM" quality train train.yaml --positive pos.jsonl --negative neg.jsonl --out q.bin --epochs 10 --dim 16 \
  --bucket 20000 --json > train.json 2>err || { cat err; fail "quality train"; }
jq -e '.label == "__label__hq" and .cjk == "none" and .positive + .negative == 400 and .holdout == 40' q.bin.json >/dev/null ||
  fail "the side file: $(cat q.bin.json)"
"$CM" quality eval q.bin --labels heldout.jsonl --json > eval.json
jq -e '.positive + .negative == 99 and .auc > 0.65' eval.json >/dev/null || fail "eval on 99 held-out documents: $(cat eval.json)"
echo "quality eval (DCLM, 400 train / 99 test): $(cat eval.json)"
# the same again gives the same model (one thread, fixed seed)
"$CM" quality train train.yaml --positive pos.jsonl --negative neg.jsonl --out q2.bin --epochs 10 --dim 16 --bucket 20000 >/dev/null
cmp -s q.bin q2.bin || fail "training is not reproducible"

# the quality_model step
# one_step_config FILE STEP: JSON Lines with `text`, normalize, then STEP
one_step_config() {
  printf 'input:\n  format: jsonl\n  text_field: [text]\nclean:\n  steps:\n    - normalize: {}\n    - %s\n' "$2" > "$1"
}
one_step_config step.yaml "quality_model: {model: $WORK/q.bin, threshold: 0.5}"
"$CM" clean step.yaml --input heldout.jsonl --out step --progress none 2>err || { cat err; fail "clean with quality_model"; }
check_accounting step
kept=$(stage_get step kept); removed=$(( $(stage_get step read) - kept ))
[ "$kept" -gt 0 ] && [ "$removed" -gt 0 ] || fail "both kept ($kept) and removed ($removed) documents"
kept_records step | jq -e 'select(.corpusmill.signals.quality < 0.5)' | grep -q . && fail "a kept document below 0.5"
rejected_records step | jq -r '.corpusmill.reason' | sort -u > reasons
assert_eq "$(cat reasons)" "quality_model:below_threshold" "the removal reason"
rejected_records step | jq -e 'select(.corpusmill.signals.quality > 0.5)' | grep -q . && fail "a removed document above 0.5 (stored to 4 decimals)"
# the stored score is the model's probability for the document's text
kept_records step > kept.jsonl
jq -r '.text | gsub("\\s+"; " ")' kept.jsonl > some.txt
jq -r '.corpusmill.signals.quality' kept.jsonl > stored.txt
"$CM" quality predict q.bin < some.txt > predicted.txt
paste stored.txt predicted.txt | awk '{d = $1 - $2; if (d < 0) d = -d; if (d > 1e-4) exit 1}' ||
  fail "stored scores differ from quality predict"

# the shipped recipe with a model in place
mkdir -p models && cp q.bin models/en-quality.bin
"$CM" clean "$SRC/configs/wanjuan-cc-quality.yaml" --input heldout.jsonl --out recipe --progress none 2>err ||
  { cat err; fail "configs/wanjuan-cc-quality.yaml"; }
check_accounting recipe
kept_records recipe | jq -e 'select(.corpusmill.signals.quality == null)' | grep -q . && fail "a kept record without its score"

# Chinese: cjk chars recorded; a contradicting cjk refused
for f in clean dirty; do jq -c '{text}' "$SHARED/zh-web-chinesewebtext/quality_$f.jsonl" > zh_$f.jsonl; done
"$CM" quality train train.yaml --positive zh_clean.jsonl --negative zh_dirty.jsonl --out zh.bin --cjk chars \
  --dim 8 --bucket 20000 --holdout 0 >/dev/null
assert_eq "$(jq -r .cjk zh.bin.json)" chars "cjk recorded"
printf '%s\n' "太 平 军" "太平军" > zh_lines.txt
"$CM" quality predict zh.bin < zh_lines.txt > zh_p.txt
assert_eq "$(sed -n 1p zh_p.txt)" "$(sed -n 2p zh_p.txt)" "chars: unspaced Chinese is cut as in training"
sed -e "s|model: $WORK/q.bin, threshold: 0.5|model: $WORK/zh.bin, cjk: words|" step.yaml > wrong.yaml
set +e
"$CM" clean wrong.yaml --input heldout.jsonl --out wrong --progress none 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a cjk that contradicts MODEL.json"
assert_contains "$(cat err)" "zh.bin was trained with cjk: chars" "the message names the model"

# language with engine fasttext: a two-language model trained here
{ jq -r 'select(input_line_number <= 150) | "__label__en " + (.text | gsub("\\s+"; " "))' "$D"
  sed -n '1,150p' "$SHARED/zh-news-crud-rag/documents_dup_part_1_part_1.txt" | sed 's/./& /g; s/^/__label__zh /'
} | shuf --random-source=<(yes) > lid.txt
fasttext supervised -input lid.txt -output lid -epoch 5 -thread 1 -dim 8 -bucket 20000 -verbose 0
{ jq -c 'select(input_line_number > 400 and input_line_number <= 420) | {text}' "$D"
  sed -n '200,219p' "$SHARED/zh-news-crud-rag/documents_dup_part_1_part_1.txt" | jq -R -c '{text: .}'
} > mixed.jsonl
one_step_config lid.yaml "language: {engine: fasttext, model: $WORK/lid.bin, keep: [en], min_score: 0.5, script_shortcut: false}"
"$CM" clean lid.yaml --input mixed.jsonl --out lid --progress none 2>err || { cat err; fail "language engine fasttext"; }
check_accounting lid
kept_records lid | jq -r .corpusmill.language | sort -u > langs
assert_eq "$(cat langs)" "en" "kept documents are English"
[ "$(stage_get lid kept)" -ge 18 ] || fail "English kept: $(stage_get lid kept) of 20"
rejected_records lid | jq -r 'select(.corpusmill.language == "zh") | .corpusmill.reason' | sort -u > zh_reasons
assert_eq "$(cat zh_reasons)" "language:not_kept" "Chinese removed as not kept"
[ "$(rejected_records lid | jq -r 'select(.corpusmill.language == "zh")' | jq -s length)" -ge 18 ] || fail "Chinese found"

# damaged models: refused by the step (usage, exit 2) and by the commands, naming the file
head -c 30000 q.bin > truncated.bin
cp q.bin trailing.bin; echo junk >> trailing.bin
cp "$SRC/README.md" foreign.bin
for m in truncated.bin trailing.bin foreign.bin missing.bin; do
  sed -e "s|$WORK/q.bin|$WORK/$m|" step.yaml > bad.yaml
  set +e
  "$CM" clean bad.yaml --input heldout.jsonl --out bad-$m --progress none 2>err; rc=$?
  set -e
  assert_eq "$rc" 2 "clean with $m"
  assert_contains "$(cat err)" "$m" "the message names $m"
  set +e
  echo x | "$CM" quality predict $m 2>err; rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "quality predict $m"
  assert_contains "$(cat err)" "$m" "quality predict names $m"
done
grep -q "truncated" <("$CM" quality predict truncated.bin 2>&1 < /dev/null || true) || fail "truncated says so"
set +e
"$CM" quality eval q.bin --labels heldout.jsonl --label __label__nope 2>err; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "an unknown label"
assert_contains "$(cat err)" "no label __label__nope" "the unknown label named"
echo "quality model: all checks passed"
