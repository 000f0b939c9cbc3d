#!/usr/bin/env bash
# The RAG export of the demo run: it loads outside corpusmill (Debian's
# python3-faiss reads index.faiss, sqlite3 reads chunks.sqlite), the counts
# and checksums in the manifest are right, and `query` finds what it should
# in each mode: BM25 the knowledge-base chunk about picking tea, dense the
# chunk whose text it is given (the hash model is lexical), hybrid both;
# FAISS's own search agrees with ours; the optional FTS5 table ranks as
# bm25.idx does; bm25.idx is the same file built in one task or in add
# tasks merged; a damaged bm25.idx is refused; misuse is refused.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

cp -r "$SRC/sample" "$SRC/configs" .
"$CM" run configs/demo.yaml --out demo --progress none 2>err || { cat err; fail "demo run failed"; }
assert_contains "$(cat err)" "corpusmill: index:" "run prints the index line"
for f in index.faiss chunks.sqlite bm25.idx manifest.json; do [ -s "demo/rag/$f" ] || fail "no demo/rag/$f"; done
chunks=$(jq '.stages.embed.outputs.chunks' demo/summary.json)
assert_eq "$(jq .chunks demo/rag/manifest.json)" "$chunks" "every chunk in the export"
assert_eq "$(jq .index.vectors demo/rag/manifest.json)" "$chunks" "every vector in the index"
assert_eq "$(jq -r .index.factory demo/rag/manifest.json)" "IDMap,Flat" "auto picks exact search for a small export"
assert_eq "$(jq -r '.files["index.faiss"].sha256' demo/rag/manifest.json)" "$(sha256sum demo/rag/index.faiss | cut -d' ' -f1)" "index sha256"
assert_eq "$(jq -r '.files["chunks.sqlite"].sha256' demo/rag/manifest.json)" "$(sha256sum demo/rag/chunks.sqlite | cut -d' ' -f1)" "store sha256"
assert_eq "$(sqlite3 demo/rag/chunks.sqlite 'SELECT count(*) FROM chunks')" "$chunks" "sqlite3 reads the chunk store"
assert_eq "$(jq -r '.files["bm25.idx"].sha256' demo/rag/manifest.json)" "$(sha256sum demo/rag/bm25.idx | cut -d' ' -f1)" "bm25.idx sha256"
assert_eq "$(jq .bm25.fts5 demo/rag/manifest.json)" "false" "no FTS5 table by default"
assert_eq "$(sqlite3 demo/rag/chunks.sqlite "SELECT count(*) FROM sqlite_master WHERE name = 'chunks_fts'")" 0 "no FTS5 table by default"
assert_eq "$(sqlite3 demo/rag/chunks.sqlite "SELECT headings FROM chunks WHERE doc_id = 'kb/longjing-tea.md' AND text LIKE '%清明节以前%'")" \
  '["龙井茶知识手册","采摘时节","明前茶与雨前茶"]' "heading paths in the store"
assert_eq "$(sqlite3 demo/rag/chunks.sqlite "SELECT DISTINCT json_extract(metadata, '$.language') FROM chunks WHERE doc_id = 'kb/longjing-tea.md'")" \
  "zh" "the document's language in the chunk metadata"

# BM25 finds the tea-picking chunk; the JSON names document, source, headings
"$CM" query demo/rag "明前茶是什么时候采摘的" --mode bm25 --k 3 --json > bm25.json || fail "query bm25 failed"
assert_eq "$(jq -r '.results[0].doc_id' bm25.json)" "kb/longjing-tea.md" "bm25 top document"
assert_eq "$(jq -r '.results[0].headings[-1]' bm25.json)" "明前茶与雨前茶" "bm25 top chunk's heading"
assert_eq "$(jq -r '.results[0].source' bm25.json)" "sample/kb/longjing-tea.md" "source of a hit"
[ "$(jq '.results | length' bm25.json)" -eq 3 ] || fail "--k 3 gives 3 results"
# an English question
"$CM" query demo/rag "how long does it take to walk across the bridge" --mode bm25 --k 1 --json > en.json
assert_eq "$(jq -r '.results[0].doc_id' en.json)" "kb/brooklyn-bridge.md" "bm25 in English"

# dense: a chunk's own text comes back first, with cosine ~1 (lexical model)
text=$(sqlite3 demo/rag/chunks.sqlite "SELECT text FROM chunks WHERE doc_id = 'kb/brooklyn-bridge.md' ORDER BY chunk_index LIMIT 1 OFFSET 1")
id=$(sqlite3 demo/rag/chunks.sqlite "SELECT id FROM chunks WHERE doc_id = 'kb/brooklyn-bridge.md' ORDER BY chunk_index LIMIT 1 OFFSET 1")
"$CM" query demo/rag "$text" --mode dense --k 5 --json > dense.json || fail "query dense failed"
assert_eq "$(jq '.results[0].chunk_id' dense.json)" "$id" "dense top-1 is the chunk itself"
jq -e '.results[0].score > 0.99' dense.json >/dev/null || fail "cosine of a text with itself"
# hybrid: fused scores, both ranks where both lists have the chunk
"$CM" query demo/rag "$text" --mode hybrid --k 5 --json > hybrid.json
assert_eq "$(jq '.results[0].chunk_id' hybrid.json)" "$id" "hybrid top-1"
jq -e '.results[0].dense_rank == 1 and .results[0].bm25_rank >= 1' hybrid.json >/dev/null || fail "hybrid keeps both ranks"
"$CM" query demo/rag "龙井茶什么时候采摘" > text.txt
assert_contains "$(head -1 text.txt)" "1. " "text output for people"

# with index.fts5 the store has an FTS5 table too, and BM25 through it ranks
# the same chunks as bm25.idx (lengths are quantized in bm25.idx: the scores
# agree within 6%)
cp -r demo fts
sed 's/^index:.*/index:\n  fts5: true/' configs/demo.yaml > fts.yaml
grep -q 'fts5: true' fts.yaml || printf 'index:\n  fts5: true\n' >> fts.yaml
"$CM" index fts.yaml --out fts --force 2>err || { cat err; fail "index with fts5"; }
assert_eq "$(jq .bm25.fts5 fts/rag/manifest.json)" "true" "the manifest says so"
assert_eq "$(sqlite3 fts/rag/chunks.sqlite "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH '\"明前\"'")" \
  "$(sqlite3 fts/rag/chunks.sqlite "SELECT count(*) FROM chunks WHERE text LIKE '%明前%'")" "the FTS5 table indexes CJK bigrams"
for q in "明前茶是什么时候采摘的" "how long does it take to walk across the bridge"; do
  "$CM" query fts/rag "$q" --mode bm25 --k 3 --json > idx.json
  "$CM" query fts/rag "$q" --mode bm25 --k 3 --bm25 fts5 --json > fts5.json || fail "query --bm25 fts5"
  assert_eq "$(jq -c '[.results[].chunk_id]' idx.json)" "$(jq -c '[.results[].chunk_id]' fts5.json)" "the same top 3 for: $q"
  jq -e --slurpfile f fts5.json '[.results, $f[0].results] | transpose | all(.[0].score / .[1].score | . > 0.94 and . < 1.06)' idx.json \
    >/dev/null || fail "bm25.idx and FTS5 scores differ for: $q"
done
set +e
"$CM" query demo/rag "茶" --bm25 fts5 2>err; rc=$?
set -e
assert_eq "$rc" 2 "--bm25 fts5 on an export without the table"
assert_contains "$(cat err)" "fts5: true" "the error says how to get it"

# a damaged bm25.idx is refused, naming the file
cp -r demo broken
printf 'x' | dd of=broken/rag/bm25.idx bs=1 seek=300 conv=notrunc 2>/dev/null
set +e
"$CM" query broken/rag "茶" 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a changed bm25.idx"
assert_contains "$(cat err)" "broken/rag/bm25.idx" "the error names the file"
assert_contains "$(cat err)" "sha256" "and says why"
head -c 1000 demo/rag/bm25.idx > broken/rag/bm25.idx
set +e
"$CM" query broken/rag "茶" 2>err; rc=$?
set -e
assert_eq "$rc" 2 "a truncated bm25.idx"

# Python's faiss reads the index and finds the same neighbours
printf '%s\n' "$text" | tr '\n' ' ' > q.txt; echo >> q.txt
"$CM" embed-text --model hash --dim 512 --query --output q.npy < q.txt
"$PY" - "$id" <<'PYEOF' || fail "python3-faiss disagrees"
import json, sys
import faiss
import numpy as np
index = faiss.read_index("demo/rag/index.faiss")
m = json.load(open("demo/rag/manifest.json"))
assert index.ntotal == m["chunks"] and index.d == m["dim"], (index.ntotal, index.d)
D, I = index.search(np.load("q.npy"), 5)
mine = json.load(open("dense.json"))["results"]
assert I[0][0] == int(sys.argv[1]), I
assert [r["chunk_id"] for r in mine] == I[0].tolist(), (mine, I)
assert np.allclose([r["score"] for r in mine], D[0], atol=1e-5)
PYEOF

assert_eq "$(jq .index.recall_at_10 demo/rag/manifest.json)" "1" "exact search has recall 1"

# auto on 12,000 random vectors: HNSW32, widened until recall@10 >= 0.95
# against exact search, efSearch saved in the index file
mkdir -p big/embeddings big/chunks big/_done/embed
"$PY" - <<'PYEOF'
import json
import numpy as np
rng = np.random.default_rng(1)
n, d = 12000, 48
v = rng.standard_normal((n, d)).astype(np.float32)
v /= np.linalg.norm(v, axis=1, keepdims=True)
np.save("big/embeddings/part-00000-0000.npy", v)
np.save("big/embeddings/part-00000-0000.ids.npy", np.arange(n, dtype=np.int64) * 7)
json.dump({"model": "hash", "dim": d, "lexical": True, "chunk": {"unit": "characters", "max": 900, "overlap": 32}},
          open("big/embeddings/manifest.json", "w"))
with open("big/chunks/part-00000-0000.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"chunk_id": i * 7, "doc_id": "d%d" % i, "text": "t%d" % i, "headings": []}) + "\n")
PYEOF
touch big/_done/embed/00000
printf '{"tasks": 1, "fingerprint": "0"}\n' > big/_done/embed/_run.json
printf 'index:\n  factory: auto\n' > big.yaml
"$CM" index big.yaml --out big 2>err || { cat err; fail "index of random vectors failed"; }
assert_eq "$(jq -r .index.factory big/rag/manifest.json)" "IDMap,HNSW32" "auto picks HNSW above 10,000"
jq -e '.index.recall_at_10 >= 0.95 and .index.recall_queries == 1000' big/rag/manifest.json >/dev/null ||
  fail "recall@10 below 0.95: $(jq -c .index big/rag/manifest.json)"
"$PY" - <<'PYEOF' || fail "python3-faiss reads the HNSW index with its efSearch"
import json
import faiss
m = json.load(open("big/rag/manifest.json"))
index = faiss.read_index("big/rag/index.faiss")
hnsw = faiss.downcast_index(faiss.downcast_index(index).index)
assert index.ntotal == 12000 and m["index"]["search_parameters"] == "efSearch=%d" % hnsw.hnsw.efSearch, m["index"]
PYEOF

# the same export in steps: IVF trained once, parts added by 3 tasks, shards
# merged list by list; the merged index answers as the one built in one go
"$PY" - <<'PYEOF'
import numpy as np
v = np.load("big/embeddings/part-00000-0000.npy")
ids = np.load("big/embeddings/part-00000-0000.ids.npy")
for i, (a, b) in enumerate([(0, 5000), (5000, 9000), (9000, 12000)]):
    np.save("big/embeddings/part-%05d-0000.npy" % i, v[a:b])
    np.save("big/embeddings/part-%05d-0000.ids.npy" % i, ids[a:b])
PYEOF
printf 'index:\n  factory: IVF64,Flat\n  nprobe: 8\n' > ivf.yaml
cp -r big one
"$CM" index ivf.yaml --out one --force 2>err || { cat err; fail "IVF in one go"; }
"$CM" index train ivf.yaml --out big 2>err || { cat err; fail "index train"; }
for t in 0 1 2; do "$CM" index add ivf.yaml --out big --task $t --tasks 3 2>err || { cat err; fail "index add $t"; }; done
set +e
"$CM" index add ivf.yaml --out big --task 0 --tasks 2 2>err; rc=$?
set -e
assert_eq "$rc" 2 "another split of a started add"
"$CM" index merge ivf.yaml --out big --force 2>err || { cat err; fail "index merge"; }
ls big/index/rag/shard-0000{0,1,2}.faiss >/dev/null || fail "three shards"
assert_eq "$(jq .index.vectors big/rag/manifest.json)" 12000 "merged vectors"
ls big/index/rag/bm25-0000{0,1,2}.idx >/dev/null || fail "three BM25 parts"
cmp one/rag/bm25.idx big/rag/bm25.idx || fail "bm25.idx differs between one task and three add tasks merged"
"$PY" - <<'PYEOF' || fail "the merged IVF index differs from the one built in one go"
import faiss
import numpy as np
a, b = faiss.read_index("one/rag/index.faiss"), faiss.read_index("big/rag/index.faiss")
q = np.load("big/embeddings/part-00001-0000.npy")[:200]
Da, Ia = a.search(q, 10)
Db, Ib = b.search(q, 10)
assert a.ntotal == b.ntotal == 12000
assert np.allclose(Da, Db, atol=1e-5), "scores differ"
PYEOF

# a rerun of index does nothing; misuse is refused
"$CM" index configs/demo.yaml --out demo 2>err
assert_contains "$(cat err)" "already finished" "a finished index is not rebuilt"
set +e
"$CM" query nowhere "x" 2>err; rc=$?
set -e
assert_eq "$rc" 2 "query on a missing export"
assert_contains "$(cat err)" "nowhere/manifest.json" "the error names the file"
set +e
"$CM" query demo/rag "x" --mode fuzzy 2>err; rc=$?
set -e
assert_eq "$rc" 2 "an unknown mode"
set +e
"$CM" index configs/demo.yaml --out fresh 2>err; rc=$?
set -e
assert_eq "$rc" 2 "index before embed"
assert_contains "$(cat err)" "run embed first" "the error says what to run"
echo ok
