#!/usr/bin/env bash
# Each dedup removal's reason says what matched: dedup:exact only for the
# same text, dedup:simplified for the same text but for case, punctuation
# and spacing, dedup:minhash for a verified near duplicate, dedup:folded for
# a match that holds only with digits folded (fold_digits: true; by default
# two notices that differ in their numbers are both kept). Every removal
# names the document it was verified against, with that pair's Jaccard: in
# a chain A ~ E ~ F, F is verified against E while its kept copy is A.
source "$(dirname "$0")/lib.sh"

python3 - <<'PYEOF'
import json, random
random.seed(7)
vocab = ["river", "stone", "garden", "window", "letter", "market", "winter", "silver", "forest", "candle", "harbor",
         "meadow", "lantern", "orchard", "valley", "thunder", "copper", "willow", "falcon", "ember"]
a = [random.choice(vocab) for _ in range(200)]
def changed(words, positions):
    w = list(words)
    for p in positions: w[p] = "zz%dq" % p
    return w
e = changed(a, [20, 60])
f = changed(e, [120, 170])  # J(A,E) = J(E,F) = 0.90, J(A,F) = 0.81
A, E, F = " ".join(a), " ".join(e), " ".join(f)
rate = "The central parity of the renminbi against the US dollar was set at %s yuan on %s, the exchange center said in a statement on its website, adding that trading would continue as usual through the week."
docs = [("A", A), ("E", E), ("F", F), ("A-copy", A), ("A-case", A.upper() + " !!"),
        ("rate1", rate % ("7.1023", "May 1 2024")), ("rate2", rate % ("7.0981", "May 2 2024"))]
with open("in.jsonl", "w") as out:
    for i, t in docs: out.write(json.dumps({"id": i, "content": t}) + "\n")
PYEOF
write_config d.yaml "input:" "  paths: [in.jsonl]" "clean:" "  steps:" "    - normalize: {}" "dedup:" "  threshold: 0.85"
"$CM" run d.yaml --out o --progress none 2>err || { cat err; fail "run"; }
removed() { find "$1/rejected/dedup" -name '*.zst' | xargs -r zstdcat | jq -r "$2" | sort; }
assert_eq "$(removed o '.id + " " + .corpusmill.reason')" "$(printf 'A-case dedup:simplified\nA-copy dedup:exact\nE dedup:minhash\nF dedup:minhash')" "reasons with digits as written"
assert_eq "$(removed o 'select(.id == "F") | .corpusmill.duplicate_of.id + " " + .corpusmill.verified_against.id')" "A E" "F's kept copy and the document it was verified against"
removed o 'select(.id == "F") | .corpusmill.verified_against.jaccard' | awk '{ exit !($1 >= 0.85 && $1 < 0.95) }' ||
  fail "F's Jaccard with E: $(removed o 'select(.id == "F") | .corpusmill.verified_against.jaccard')"
removed o 'select(.id == "A-copy") | .corpusmill.verified_against.jaccard' | grep -qx 1 || fail "an exact copy's Jaccard is 1"
[ -z "$(removed o 'select(.id | startswith("rate")) | .id')" ] || fail "two rates on two days are not duplicates by default"

# fold_digits: true, as datatrove does it: the second notice goes, as dedup:folded
printf '  fold_digits: true\n' >> d.yaml
"$CM" run d.yaml --out of --progress none 2>err || { cat err; fail "run with fold_digits"; }
assert_eq "$(removed of 'select(.id | startswith("rate")) | .id + " " + .corpusmill.reason')" "rate2 dedup:folded" "the folded match"
removed of 'select(.id == "rate2") | [.corpusmill.verified_against.jaccard, .corpusmill.verified_against.jaccard_folded] | @tsv' |
  awk '{ exit !($1 < 0.85 && $2 == 1) }' || fail "a folded match: its Jaccard with digits as written, and folded"
assert_eq "$(jq '.joined.folded' of/minhash/clusters.json)" 1 "clusters.json counts the folded pair"
echo "dedup reasons: ok"
