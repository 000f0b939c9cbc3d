#!/usr/bin/env bash
# Rejection evidence (issue 17): precision, recall and F1 of "answerable" on
# questions never calibrated on, with the hash model.
#   1. HuixiangDou: the shared lmdeploy, HuixiangDou and InternLM tutorial
#      docs as the knowledge base; calibrated on the odd lines of gt_good /
#      gt_bad, judged on the even lines and on HuixiangDou's 33 / 37 seed
#      questions.
#   2. A SQuAD-style split of CMRC 2018 dev: the knowledge base is half of
#      the articles (every other one); good = their questions, bad = the
#      other half's questions plus gt_bad's chit-chat; calibrated on every
#      other question of each set, judged on the rest.
# Usage: bash bench/rejection.sh   (about a minute; outputs in bench/data/rejection/)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CM=$PWD/$BUILD/corpusmill
S=$(cd ../shared/data && pwd)
H=$S/zh-rag-rejection-huixiangdou
W=bench/data/rejection
rm -rf "$W" && mkdir -p "$W"
cd "$W"

report() { # NAME JSON
  jq -r --arg n "$1" '"\($n): \(.score) >= \(.threshold | tostring | .[0:6])  precision \(.precision)  recall \(.recall)  F1 \(.f1)  AUC \(.auc)  (\(.good) good, \(.bad) bad)"' "$2"
}

# 1. HuixiangDou
sed -e "s|^  paths: \[\]|  paths: [$S/zh-kb-lmdeploy-docs, $S/zh-kb-huixiangdou-docs, $S/zh-kb-internlm-tutorial]|" \
    -e 's|dir: out/kb|dir: hx|' ../../../configs/kb.yaml > hx.yaml
"$CM" run hx.yaml --progress none 2>/dev/null
awk 'NR % 2' "$H/gt_good.txt" > hx-good.cal; awk 'NR % 2 == 0' "$H/gt_good.txt" > hx-good.test
awk 'NR % 2' "$H/gt_bad.txt" > hx-bad.cal; awk 'NR % 2 == 0' "$H/gt_bad.txt" > hx-bad.test
"$CM" index calibrate hx/rag --good hx-good.cal --bad hx-bad.cal
"$CM" index calibrate hx/rag --good hx-good.cal --bad hx-bad.cal --json > hx-cal.json
"$CM" eval-rejection hx/rag --good hx-good.test --bad hx-bad.test --json > hx-test.json
"$CM" eval-rejection hx/rag --good "$H/huixiangdou_good_questions.json" --bad "$H/huixiangdou_bad_questions.json" --json > hx-seed.json
echo "== HuixiangDou knowledge base: $(jq .chunks hx/rag/manifest.json) chunks"
for s in bm25 dense learned; do jq ".$s" hx-cal.json > hx-cal-$s.json; report "calibration set, $s" hx-cal-$s.json; done
report "held-out half of gt_good / gt_bad" hx-test.json
report "HuixiangDou seed questions" hx-seed.json

# 2. CMRC 2018 split
python3 - "$S/zh-qa-cmrc2018/cmrc2018_dev.json" "$H/gt_bad.txt" <<'PY'
import json, sys
data = json.load(open(sys.argv[1], encoding="utf-8"))["data"]
kb, good, bad = [], [], []
for i, art in enumerate(data):
    qs = [qa["question"].replace("\n", " ").strip() for p in art["paragraphs"] for qa in p["qas"]]
    if i % 2 == 0:
        for j, p in enumerate(art["paragraphs"]):
            kb.append({"id": f"{art.get('id', i)}-{j}", "content": p["context"]})
        good += qs
    else:
        bad += qs
bad += [l.strip() for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
with open("cmrc-kb.jsonl", "w", encoding="utf-8") as f:
    for d in kb: f.write(json.dumps(d, ensure_ascii=False) + "\n")
for name, qs in (("good", good), ("bad", bad)):
    qs = [q for q in qs if q]
    open(f"cmrc-{name}.cal", "w", encoding="utf-8").write("".join(q + "\n" for q in qs[0::2]))
    open(f"cmrc-{name}.test", "w", encoding="utf-8").write("".join(q + "\n" for q in qs[1::2]))
print(f"CMRC split: {len(kb)} passages in the knowledge base, {len(good)} good and {len(bad)} bad questions")
PY
sed -e 's|^  paths: \[\]|  paths: [cmrc-kb.jsonl]|' -e 's|dir: out/kb|dir: cmrc|' ../../../configs/kb.yaml > cmrc.yaml
"$CM" run cmrc.yaml --progress none 2>/dev/null
"$CM" index calibrate cmrc/rag --good cmrc-good.cal --bad cmrc-bad.cal --json > cmrc-cal.json
"$CM" eval-rejection cmrc/rag --good cmrc-good.test --bad cmrc-bad.test --json > cmrc-test.json
echo "== CMRC 2018 split: $(jq .chunks cmrc/rag/manifest.json) chunks"
for s in bm25 dense learned; do jq ".$s" cmrc-cal.json > cmrc-cal-$s.json; report "calibration set, $s" cmrc-cal-$s.json; done
report "held-out questions" cmrc-test.json
