#!/usr/bin/env bash
# The dedup stages after clean: exact and MinHash duplicates of the embedded
# sample removed with their reasons and representatives; the same removed set
# whatever the task split; damaged or mismatched signature files refused
# with the file named.
source "$(dirname "$0")/lib.sh"

cp -r "$SRC/sample" .
sed 's|^  dir: out/demo|  dir: unused|; s|max_malformed_fraction: 0.01|max_malformed_fraction: 0.05|' "$SRC/configs/demo.yaml" > dd.yaml

dedup_removed() { find "$1/rejected/dedup" -name '*.zst' | sort | xargs -r zstdcat | jq -r '[.corpusmill.source.file, .corpusmill.source.member // "", .corpusmill.source.line, .corpusmill.reason] | @tsv' | sort; }
dedup_kept() { find "$1/dedup" -name '*.zst' | sort | xargs -r zstdcat | jq -r '[.corpusmill.source.file, .corpusmill.source.member // "", .corpusmill.source.line] | @tsv' | sort; }

for t in 1 2 4; do
  "$CM" run dd.yaml --out o$t --tasks $t -j 2 --progress none 2>err$t || { cat err$t; fail "run with --tasks $t failed"; }
  check_accounting o$t
  read=$(jq .stages.dedup.read o$t/summary.json)
  kept=$(jq .stages.dedup.kept o$t/summary.json)
  removed=$(jq '[.stages.dedup.removed[]] | add // 0' o$t/summary.json)
  assert_eq "$read" "$(stage_get o$t kept)" "dedup reads what clean kept (--tasks $t)"
  assert_eq "$((kept + removed))" "$read" "dedup: read = kept + removed (--tasks $t)"
  assert_eq "$(dedup_kept o$t | wc -l)" "$kept" "dedup kept records on disk"
  assert_eq "$(dedup_removed o$t | wc -l)" "$removed" "dedup removed records on disk"
done
[ "$(jq '.stages.dedup.removed["dedup:exact"]' o1/summary.json)" -gt 10 ] || fail "the sample's exact duplicates were not removed"
[ "$(jq '.stages.dedup.removed["dedup:minhash"]' o1/summary.json)" -gt 0 ] || fail "no near duplicate removed"
diff <(dedup_removed o1) <(dedup_removed o2) >/dev/null || fail "--tasks 2 removed another set than --tasks 1"
diff <(dedup_removed o1) <(dedup_removed o4) >/dev/null || fail "--tasks 4 removed another set than --tasks 1"
"$CM" run dd.yaml --out o1t --tasks 1 --threads 1 --progress none 2>/dev/null
"$CM" run dd.yaml --out o2t --tasks 1 --threads 2 --progress none 2>/dev/null
diff <(dedup_removed o1t) <(dedup_removed o2t) >/dev/null || fail "2 threads removed another set than 1"
# signatures and filter follow clean's split: another one is refused (records would be missed)
set +e; "$CM" dedup signatures dd.yaml --out o2 --task 0 --tasks 1 --force 2>err; rc=$?; set -e
assert_eq "$rc" 2 "signatures with another split than clean"
assert_file_contains err "clean ran in 2 tasks; dedup signatures must use --tasks 2" "split message"

# more buckets tasks than bands: each band is cut into hash ranges; same result
cp -r o1 oR
rm -rf oR/minhash/pairs oR/minhash/remove oR/_done/dedup_buckets oR/_done/dedup_clusters oR/_done/dedup oR/dedup oR/rejected/dedup
for t in $(seq 0 29); do "$CM" dedup buckets dd.yaml --out oR --task $t --tasks 30 2>/dev/null || fail "buckets task $t of 30"; done
[ "$(ls oR/minhash/pairs | grep -c -- '-0001.bin')" -gt 0 ] || fail "no second hash range: $(ls oR/minhash/pairs | head -3)"
"$CM" dedup clusters dd.yaml --out oR --task 0 --tasks 1 2>/dev/null || fail "clusters after 30 buckets tasks"
"$CM" dedup filter dd.yaml --out oR --task 0 --tasks 1 2>/dev/null || fail "filter after 30 buckets tasks"
diff <(dedup_removed o1) <(dedup_removed oR) >/dev/null || fail "30 buckets tasks removed another set"
set +e; "$CM" dedup buckets dd.yaml --out oR --task 0 --tasks 7 2>err; rc=$?; set -e
assert_eq "$rc" 2 "another buckets split of a started step is refused"

# a tiny memory bound: signatures writes several sorted runs per band; same result
sed 's|^  threshold: 0.8|  threshold: 0.8\n  memory: 1KiB|' dd.yaml > ddm.yaml
"$CM" run ddm.yaml --out om --tasks 2 --progress none 2>/dev/null || fail "run with a small memory bound"
[ "$(ls om/minhash/bands/000 | wc -l)" -gt 2 ] || fail "no sorted runs were spilled: $(ls om/minhash/bands/000)"
diff <(dedup_removed o1) <(dedup_removed om) >/dev/null || fail "the memory bound changed the removed set"
# the sample's exact copies (ids *-dup-*) are removed, and point at a kept record
find o1/rejected/dedup -name '*.zst' | xargs zstdcat > rej.jsonl
[ "$(jq -r 'select(.id | test("-dup-")) | .corpusmill.reason' rej.jsonl | grep -c 'dedup:exact')" -ge 10 ] || fail "copies not removed as exact"
[ "$(jq -c 'select(.corpusmill.duplicate_of.file == null or .corpusmill.duplicate_of.record == null)' rej.jsonl | wc -l)" -eq 0 ] ||
  fail "a removed record without its representative"
# duplicate_of names the kept copy by its id
find o1/dedup -name '*.zst' | xargs zstdcat | jq -r .id | sort -u > kept_ids.txt
jq -r '.corpusmill.duplicate_of.id' rej.jsonl | sort -u > rep_ids.txt
[ -s rep_ids.txt ] || fail "no representative ids"
[ -z "$(comm -23 rep_ids.txt kept_ids.txt)" ] || fail "duplicate_of.id names records that were not kept: $(comm -23 rep_ids.txt kept_ids.txt | head -3)"

# damaged or mismatched signature files are refused, naming the file
band=$(ls o1/minhash/bands/000/* | head -1)
printf 'x' | dd of="$band" bs=1 seek=100 conv=notrunc 2>/dev/null
set +e; "$CM" dedup buckets dd.yaml --out o1 --task 0 --tasks 15 --force 2>err; rc=$?; set -e
assert_eq "$rc" 1 "corrupt band file"
assert_file_contains err "$band: corrupt: the checksum does not match" "corrupt file named"
sed 's/  minhash: true/  minhash: true\n  rows: 9/' dd.yaml > dd9.yaml
set +e; "$CM" dedup buckets dd9.yaml --out o2 --task 1 --tasks 15 --force 2>err; rc=$?; set -e
assert_eq "$rc" 1 "mismatched parameters"
assert_file_contains err "made with other MinHash parameters" "mismatch named"
ids=o1/minhash/remove/00000.ids
[ -s "$ids" ] || fail "no representatives' ids file in o1"
truncate -s -3 "$ids"
set +e; "$CM" dedup filter dd.yaml --out o1 --task 0 --tasks 1 --force 2>err; rc=$?; set -e
assert_eq "$rc" 1 "truncated ids file"
assert_file_contains err "$ids: truncated or corrupt ids file" "truncated ids file named"
# incremental: a second run deduplicates against the first one, which stays untouched
sed 's|^  paths: \[sample\]|  paths: [sample/part-000000-5a1b9c3e.jsonl.tar.gz]|' dd.yaml > first.yaml
"$CM" run first.yaml --out first --progress none 2>/dev/null || fail "first run"
before=$(find first -type f ! -name '.summary.lock' | sort | xargs sha256sum | sha256sum)
sed 's|^  threshold: 0.8|  threshold: 0.8\n  previous: [first]|' dd.yaml > second.yaml
grep -q 'previous: \[first\]' second.yaml || fail "test setup: no previous in second.yaml"
"$CM" run second.yaml --out second --progress none 2>err2nd || { cat err2nd; fail "incremental run"; }
after=$(find first -type f ! -name '.summary.lock' | sort | xargs sha256sum | sha256sum)
assert_eq "$after" "$before" "the earlier run is not touched"
find second/rejected/dedup -name '*.zst' | xargs zstdcat > rej2.jsonl
prev=$(jq -r 'select(.corpusmill.duplicate_of.previous_run == "first") | .id' rej2.jsonl | wc -l)
[ "$prev" -gt 0 ] || fail "no document removed as a duplicate of the earlier run"
# every record of the earlier run's input, in this run, is a duplicate of that run
kept_again=$(find second/dedup -name '*.zst' | xargs zstdcat | jq -r 'select(.corpusmill.source.file == "sample/part-000000-5a1b9c3e.jsonl.tar.gz") | .id' | wc -l)
assert_eq "$kept_again" 0 "the earlier run's documents are not kept twice"
# exact copies in near pairs: each copy of a text meets each copy of its
# neighbour's, and verification shingles a text once for all its copies;
# each pair must still be measured on its own two texts. Per base text of
# 100 words: 4 copies, 2 copies with one word changed (J ~0.9: joined),
# 3 copies with three words changed (J ~0.73: a candidate that fails)
python3 - <<'PYEOF' > copies.jsonl
import json, random
rng = random.Random(7)
vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9))) for _ in range(5000)]
def edited(words, at):
    w = list(words)
    for p in at: w[p] = rng.choice(vocab)
    return " ".join(w)
docs = []
for i in range(30):
    base = [rng.choice(vocab) for _ in range(100)]
    for text, copies in ((" ".join(base), 4), (edited(base, [50]), 2), (edited(base, [20, 50, 80]), 3)):
        docs += [text] * copies
rng.shuffle(docs)
for n, text in enumerate(docs):
    print(json.dumps({"id": f"c{n}", "content": text}))
PYEOF
write_config copies.yaml "input:" "  format: jsonl" "output:" "  dir: copies" "clean:" "  steps:" "    - normalize: {}" \
  "dedup:" "  verify: exact" "  threshold: 0.8"
"$CM" run copies.yaml --input copies.jsonl --progress none 2>err-copies || { cat err-copies; fail "run on exact copies in near pairs failed"; }
assert_eq "$(jq .stages.dedup.kept copies/summary.json)" 60 "each base text and its far variant kept once"
[ "$(jq .pairs_failing_verification copies/minhash/clusters.json)" -gt 0 ] || fail "no candidate pair failed verification"
"$(dirname "$CM")/tests/dedup_truth" copies > truth-copies.txt
assert_contains "$(cat truth-copies.txt)" "precision 1.0000 at J >= 0.8" "every removal measured on its own text"
assert_contains "$(cat truth-copies.txt)" "recall 1.0000" "every pair with J >= 0.8 in one cluster"
# signatures remember recent texts' values; the same bytes whether none is
# remembered or two (slots shared by many texts, copies met again and evicted)
for r in 0 2; do
  sed "s|  dir: copies|  dir: copies-r$r|; s|  threshold: 0.8|  threshold: 0.8\n  recent_texts: $r|" copies.yaml > copies-r$r.yaml
  "$CM" run copies-r$r.yaml --input copies.jsonl --progress none 2>/dev/null || fail "run with recent_texts: $r failed"
  for f in sigs/00000.bin texts/00000.bin remove/00000.bin remove/00000.via.bin remove/00000.sim.bin; do
    cmp -s "copies/minhash/$f" "copies-r$r/minhash/$f" || fail "recent_texts: $r changed minhash/$f"
  done
done
echo "dedup: ok"
