#!/usr/bin/env bash
# Output content and order do not depend on the number of worker threads:
# small batches force many batches in flight, finishing out of order.
source "$(dirname "$0")/lib.sh"

mkdir in
python3 - <<'PY'
import json, random
rng = random.Random(7)
words = "数据 清洗 模型 训练 文本 the quick brown fox jumps over lazy dog ＡＢＣ １２３ ，！？".split()
with open("in/a.jsonl", "w") as f:
    for i in range(3000):
        n = rng.randint(1, 60)
        text = " ".join(rng.choice(words) for _ in range(n))
        if i % 97 == 0: text = "   "
        if i % 101 == 0:
            f.write('{"id": %d, "content": broken\n' % i); continue
        f.write(json.dumps({"id": i, "content": text + "\r\n" + "  tail  "}, ensure_ascii=False) + "\n")
PY
cp in/a.jsonl in/b.jsonl
for t in 1 2 4; do
  write_config c$t.yaml "input:" "  paths: [in]" "output:" "  dir: o$t" "  part_size: 64KiB" "run:" "  batch_size: 4KiB" "  max_malformed_fraction: 0.05"
  "$CM" clean c$t.yaml --threads $t 2>/dev/null
  check_accounting o$t
  assert_eq "$(jq .threads o$t/stats/clean-00000.json)" "$t" "threads used"
done
for t in 2 4; do
  for d in clean rejected/clean; do
    assert_eq "$(ls o1/$d | tr '\n' ' ')" "$(ls o$t/$d | tr '\n' ' ')" "same parts in $d at $t threads"
    for p in o1/$d/*.zst; do
      cmp -s <(zstdcat "$p") <(zstdcat "o$t/$d/$(basename "$p")") || fail "$d/$(basename "$p") differs at $t threads"
    done
  done
  cmp -s o1/malformed/clean-00000.jsonl o$t/malformed/clean-00000.jsonl || fail "malformed records differ at $t threads"
done
[ "$(ls o1/clean | wc -l)" -gt 2 ] || fail "expected several parts"
echo "clean_threads: ok"
