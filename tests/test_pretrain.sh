#!/usr/bin/env bash
# The pretraining index of the demo run: one vector per document equal to
# the normalized mean of its chunk vectors (recomputed here from embed's
# outputs), K = round(sqrt(documents)) clusters whose sizes add up, every
# document assigned to its nearest centroid, the same result when run again,
# and misuse refused.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

cp -r "$SRC/sample" "$SRC/configs" .
"$CM" run configs/demo.yaml --out demo --progress none 2>err || { cat err; fail "demo run failed"; }
assert_contains "$(cat err)" "corpusmill: pretrain:" "run prints the pretrain line"
docs=$(jq .stages.embed.kept demo/summary.json)
assert_eq "$(jq .documents demo/index/pretrain/clusters.json)" "$docs" "every embedded document clustered"
assert_eq "$(jq '.sizes | add' demo/index/pretrain/clusters.json)" "$docs" "cluster sizes add up"
assert_eq "$(jq .stages.pretrain.read demo/summary.json)" "$docs" "pretrain in the summary"
assert_eq "$(jq .stages.pretrain.outputs.largest_cluster demo/summary.json)" "$(jq '.sizes | max' demo/index/pretrain/clusters.json)" "largest cluster in the stats"

"$PY" - <<'PYEOF' || fail "document vectors or clusters are wrong"
import glob, json, math
import faiss
import numpy as np
import subprocess

chunks = []
for p in sorted(glob.glob("demo/chunks/part-*.jsonl.zst")):
    out = subprocess.run(["zstdcat", p], capture_output=True, check=True).stdout.decode()
    chunks += [json.loads(l) for l in out.splitlines()]
V = np.concatenate([np.load(p) for p in sorted(glob.glob("demo/embeddings/part-*[0-9].npy"))])
I = np.concatenate([np.load(p) for p in sorted(glob.glob("demo/embeddings/part-*.ids.npy"))])
row = {int(i): k for k, i in enumerate(I)}
want = {}
for c in chunks:
    want.setdefault(c["doc_key"], np.zeros(V.shape[1], np.float32))
    want[c["doc_key"]] += V[row[c["chunk_id"]]]
for k in want:
    want[k] /= np.linalg.norm(want[k])

meta = json.load(open("demo/index/pretrain/clusters.json"))
K = meta["clusters"]
assert K == round(math.sqrt(len(want))), (K, len(want))
C = np.load("demo/index/pretrain/centroids.npy")
assert C.shape == (K, V.shape[1])
index = faiss.read_index("demo/index/pretrain/documents.faiss")
assert index.ntotal == len(want)
ids = faiss.vector_to_array(index.id_map)
flat = faiss.downcast_index(index.index)
got = {int(ids[i]): flat.reconstruct(i) for i in range(index.ntotal)}
assert set(got) == set(want)
assert max(float(np.abs(got[k] - want[k]).max()) for k in want) < 1e-5

out = subprocess.run(["zstdcat"] + sorted(glob.glob("demo/index/pretrain/clusters-*.jsonl.zst")),
                     capture_output=True, check=True).stdout.decode()
rows = [json.loads(l) for l in out.splitlines()]
assert len(rows) == len(want) and {r["doc_key"] for r in rows} == set(want)
sizes = [0] * K
for r in rows:
    sims = C @ want[r["doc_key"]]
    assert sims[r["cluster"]] >= sims.max() - 1e-5, r
    assert abs(sims[r["cluster"]] - r["similarity"]) < 1e-4
    sizes[r["cluster"]] += 1
assert sizes == meta["sizes"]
PYEOF

# run again: the same clusters
cp demo/index/pretrain/clusters.json first.json
"$CM" pretrain configs/demo.yaml --out demo --force 2>err || { cat err; fail "pretrain --force"; }
assert_eq "$(jq -c .sizes demo/index/pretrain/clusters.json)" "$(jq -c .sizes first.json)" "k-means is deterministic"

# SemDeDup: refused with the lexical hash model unless asked for; then every
# removed document has an earlier kept twin in its cluster with cosine >= 1 - epsilon
sed 's/^  clusters: 0$/  clusters: 0\n  semdedup: true\n  epsilon: 0.05/' configs/demo.yaml > sd.yaml
set +e
"$CM" pretrain sd.yaml --out demo --force 2>err; rc=$?
set -e
assert_eq "$rc" 2 "semdedup with the hash model is refused"
assert_contains "$(cat err)" "share words, not meaning" "the error says why"
sed -i 's/^  epsilon: 0.05$/  epsilon: 0.05\n  semdedup_lexical: true/' sd.yaml
"$CM" pretrain sd.yaml --out demo --force 2>err || { cat err; fail "semdedup run failed"; }
jq -e '.stages.semdedup | .read == .kept + ([.removed[]] | add // 0) and (.removed["semdedup:near_duplicate"] // 0) > 0' \
  demo/summary.json >/dev/null || fail "semdedup accounting: $(jq -c .stages.semdedup demo/summary.json)"
assert_eq "$(find demo/rejected/semdedup -name '*.zst' | xargs zstdcat | wc -l)" \
  "$(jq '.stages.semdedup.removed["semdedup:near_duplicate"]' demo/summary.json)" "removed records on disk"
assert_eq "$(find demo/semdedup -name '*.zst' | xargs zstdcat | wc -l)" "$(jq .stages.semdedup.kept demo/summary.json)" "kept on disk"
"$PY" - <<'PYEOF' || fail "a semdedup removal without a close, earlier, kept twin"
import glob, json, subprocess
import faiss
import numpy as np
index = faiss.read_index("demo/index/pretrain/documents.faiss")
ids = faiss.vector_to_array(index.id_map)
flat = faiss.downcast_index(index.index)
vec = {int(ids[i]): flat.reconstruct(i) for i in range(index.ntotal)}
def records(pattern):
    files = sorted(glob.glob(pattern))
    out = subprocess.run(["zstdcat"] + files, capture_output=True, check=True).stdout.decode() if files else ""
    return [json.loads(l) for l in out.splitlines()]
kept_ids = {json.dumps(r["id"]) for r in records("demo/semdedup/*.zst")}
for r in records("demo/rejected/semdedup/*.zst"):
    sd = r["corpusmill"]["semdedup"]
    assert r["corpusmill"]["reason"] == "semdedup:near_duplicate"
    assert json.dumps(sd["kept"]["id"]) in kept_ids, sd
    assert sd["similarity"] >= 0.95 - 1e-6
PYEOF

set +e
"$CM" pretrain configs/demo.yaml --out nothing 2>err; rc=$?
set -e
assert_eq "$rc" 2 "pretrain before embed"
assert_contains "$(cat err)" "run embed first" "the error says what to run"
echo ok
