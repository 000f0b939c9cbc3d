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

set +e
"$CM" pretrain configs/demo.yaml --out nothing 2>err; rc=$?
set -e
assert_eq "$rc" 2 "pretrain before embed"
assert_contains "$(cat err)" "run embed first" "the error says what to run"
echo ok
