#!/usr/bin/env bash
# Evidence for the fastText quality classifier (issue 19), on ../shared/data:
#  - Chinese: trained on clean Chinese (news, CMRC/XQuAD contexts, knowledge-base
#    docs) against the raw ChineseWebText pages, judged on quality_clean /
#    quality_dirty (never trained on);
#  - English: trained on reference-like text (XQuAD's Wikipedia, refined C4)
#    against raw Common Crawl (Dolma's raw documents and WARC pages), judged on
#    DCLM's human labels (majority_data.jsonl): rules alone (wanjuan-cc),
#    classifier alone, rules + classifier;
#  - 5-fold cross-validation of a classifier trained on the DCLM labels;
#  - the quality_model step's cost on 100 MB of the English bench shard.
# usage: bash bench/quality.sh [BUILD]   (figures in bench/README.md)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CM=${1:-$ROOT/build}/corpusmill
SHARED=${SHARED:-$ROOT/../shared/data}
W=${WORK:-/tmp/cm-quality}
rm -rf "$W"; mkdir -p "$W"; cd "$W"
python3 "$ROOT/bench/quality_sets.py" "$SHARED" sets
cat > train.yaml <<'YAML'
input:
  format: jsonl
  text_field: [text, content, raw_content]
clean:
  steps:
    - normalize: {}
YAML
for f in clean dirty; do
  jq -c --argjson y $([ $f = clean ] && echo 1 || echo 0) '{text, label: $y}' "$SHARED/zh-web-chinesewebtext/quality_$f.jsonl"
done > zh_eval.jsonl

echo "== Chinese"
"$CM" quality train train.yaml --positive sets/zh_pos.jsonl --negative sets/zh_neg.jsonl --out zh.bin --cjk chars --epochs 10
"$CM" quality eval zh.bin --labels zh_eval.jsonl

echo "== English: reference-like vs raw Common Crawl, judged on DCLM's labels"
"$CM" quality train train.yaml --positive sets/en_pos.jsonl --negative sets/en_neg.jsonl --out en.bin --epochs 10
"$CM" quality eval en.bin --labels sets/dclm.jsonl
# rules alone and rules + classifier: the recipe's verdicts with the scores
"$CM" clean "$ROOT/configs/wanjuan-cc.yaml" --input sets/dclm.jsonl --out rules --progress none 2>/dev/null
{ find rules/clean -name 'part-*' | sort | xargs zstdcat | jq -c '{text: .text, label: .label, kept: 1}'
  find rules/rejected -name 'part-*' | sort | xargs zstdcat | jq -c '{text: .text, label: .label, kept: 0}'
} > rules.jsonl
jq -r '.text | gsub("\n"; " ")' rules.jsonl | "$CM" quality predict en.bin > rules.scores
python3 - rules.jsonl rules.scores <<'PY'
# thresholds as shares of the documents (DCLM keeps its classifier's top 10%):
# the classifier keeps its top q, or the rules' kept documents scoring at least that
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
scores = [float(l) for l in open(sys.argv[2])]
pos = sum(r["label"] == 1 for r in rows)
def pr(keep):
    tp = sum(1 for r, k in zip(rows, keep) if k and r["label"] == 1)
    return (tp / sum(keep) if sum(keep) else 0, tp / pos)
rules = [r["kept"] == 1 for r in rows]
print("rules alone: precision %.3f recall %.3f (%d documents)" % (*pr(rules), len(rows)))
ranked = sorted(scores, reverse=True)
best = None
for q in (0.9, 0.85, 0.8, 0.78, 0.75, 0.7, 0.6, 0.5):
    t = ranked[int(q * len(rows)) - 1]
    c, rc = pr([s >= t for s in scores]), pr([k and s >= t for k, s in zip(rules, scores)])
    print("top %.0f%% (score >= %.4f): classifier alone precision %.3f recall %.3f; rules + classifier precision %.3f recall %.3f"
          % (100 * q, t, *c, *rc))
PY

echo "== 5-fold cross-validation on DCLM's labels (scores of each fold from the model trained on the other four)"
python3 - "$CM" <<'PY'
import json, subprocess, sys
cm = sys.argv[1]
rows = [json.loads(l) for l in open("sets/dclm.jsonl")]
scores = [0.0] * len(rows)
for k in range(5):
    with open(f"fold{k}.pos.jsonl", "w") as p, open(f"fold{k}.neg.jsonl", "w") as n:
        for i, r in enumerate(rows):
            if i % 5 != k: (p if r["label"] == 1 else n).write(json.dumps(r, ensure_ascii=False) + "\n")
    subprocess.run([cm, "quality", "train", "train.yaml", "--positive", f"fold{k}.pos.jsonl", "--negative",
                    f"fold{k}.neg.jsonl", "--out", f"fold{k}.bin", "--epochs", "10", "--holdout", "0"],
                   check=True, stdout=subprocess.DEVNULL)
    test = [i for i in range(len(rows)) if i % 5 == k]
    out = subprocess.run([cm, "quality", "predict", f"fold{k}.bin"], check=True, capture_output=True, text=True,
                         input="".join(" ".join(rows[i]["text"].split()) + "\n" for i in test)).stdout.split()
    for i, s in zip(test, out): scores[i] = float(s)
good = [s for s, r in zip(scores, rows) if r["label"] == 1]
bad = [s for s, r in zip(scores, rows) if r["label"] == 0]
auc = sum((g > b) + 0.5 * (g == b) for g in good for b in bad) / (len(good) * len(bad))
ranked = sorted(scores, reverse=True)
for q in (0.4, 0.5, 0.6):
    t = ranked[int(q * len(rows)) - 1]
    kept = [r for s, r in zip(scores, rows) if s >= t]
    tp = sum(r["label"] == 1 for r in kept)
    print("AUC %.3f; top %.0f%%: precision %.3f recall %.3f" % (auc, 100 * q, tp / len(kept), tp / len(good)))
PY

echo "== the step's cost (100 MB of the English bench shard, one thread)"
if [ -f /tmp/en100.jsonl ]; then
  for with in 0 1; do
    { sed -n '1,/^clean:/p' "$ROOT/configs/wanjuan-cc.yaml" | grep -v '^clean:'; echo "clean:"; echo "  steps:"
      echo "    - normalize: {}"; [ $with = 1 ] && echo "    - quality_model: {model: $W/en.bin, threshold: 0}"; } > cost$with.yaml
    /usr/bin/time -f '%U %S' -o t$with "$CM" clean cost$with.yaml --input /tmp/en100.jsonl --out cost$with --threads 1 --progress none 2>/dev/null
    echo "quality_model $with: $(awk '{print $1 + $2}' t$with) CPU s"
  done
fi
