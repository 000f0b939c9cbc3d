#!/usr/bin/env bash
# The embed stage after clean and dedup, on the embedded sample: every kept
# document is chunked (or removed as embed:empty), chunk records and vector
# rows line up through the ids files, chunk text is the document's own text
# at the recorded character offsets, Markdown heading paths come through,
# chunk ids are the same whatever --tasks, vectors equal embed-text's for the
# same text (hash model and a tiny BERT), and misuse is refused.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

cp -r "$SRC/sample" "$SRC/configs" .
# three tasks put the sample's two broken lines in a smaller share than the demo's two
sed -i 's/max_malformed_fraction: 0.01/max_malformed_fraction: 0.02/' configs/demo.yaml
"$CM" run configs/demo.yaml --out out3 --tasks 3 -j 2 --progress none 2>err || { cat err; fail "run failed"; }
"$CM" run configs/demo.yaml --out out1 --tasks 1 --progress none 2>err1 || { cat err1; fail "run failed"; }
assert_contains "$(cat err)" "corpusmill: embed: read" "run prints the embed funnel"

for out in out1 out3; do
  jq -e '.stages.embed.read == .stages.embed.kept + ([.stages.embed.removed[]] | add // 0)' "$out/summary.json" >/dev/null ||
    fail "$out: embed accounting"
  assert_eq "$(jq .stages.embed.read "$out/summary.json")" "$(jq .stages.dedup.kept "$out/summary.json")" \
    "$out: embed reads what dedup kept"
  chunks=$(jq '.stages.embed.outputs.chunks' "$out/summary.json")
  assert_eq "$(jq '.stages.embed.outputs.vectors' "$out/summary.json")" "$chunks" "$out: one vector per chunk"
  find "$out/chunks" -name '*.zst' | sort | xargs zstdcat > "$out.chunks.jsonl"
  assert_eq "$(wc -l < "$out.chunks.jsonl")" "$chunks" "$out: chunk records on disk"
  find "$out/dedup" -name '*.zst' | sort | xargs zstdcat > "$out.docs.jsonl"
done
[ "$(jq '.stages.embed.outputs.chunks' out3/summary.json)" -gt 250 ] || fail "the sample makes a few hundred chunks"

"$PY" - <<'PYEOF' || fail "chunks, offsets or vectors are wrong"
import glob, json
import numpy as np

def load(out):
    chunks = [json.loads(l) for l in open(out + ".chunks.jsonl", encoding="utf-8")]
    docs = {}
    for l in open(out + ".docs.jsonl", encoding="utf-8"):
        d = json.loads(l)
        docs[json.dumps(d["id"])] = d["content"]
    vecs, ids = [], []
    for p in sorted(glob.glob(out + "/embeddings/part-*.ids.npy")):
        ids.append(np.load(p))
        vecs.append(np.load(p.replace(".ids.npy", ".npy")))
    return chunks, docs, np.concatenate(vecs), np.concatenate(ids)

for out in ("out1", "out3"):
    chunks, docs, V, I = load(out)
    assert V.dtype == np.float32 and V.shape == (len(chunks), 512), V.shape
    assert I.dtype == np.int64 and len(I) == len(chunks)
    # rows line up with the chunk records, part by part
    assert [c["chunk_id"] for c in chunks] == I.tolist()
    assert len(set(I.tolist())) == len(I), "chunk ids repeat"
    norms = np.linalg.norm(V, axis=1)
    assert np.allclose(norms, 1, atol=1e-5), norms.min()
    for c in chunks:
        text = docs[json.dumps(c["doc_id"])]
        assert text[c["start"]:c["end"]] == c["text"], (c["chunk_id"], c["start"], c["end"])
        assert 0 < c["length"] <= 900 and c["length"] == len(c["text"])
    # every kept document has chunks
    assert {json.dumps(c["doc_id"]) for c in chunks} == set(docs)

a, _, Va, _ = load("out1")
b, _, Vb, _ = load("out3")
ka = {c["chunk_id"]: (c["text"], i) for i, c in enumerate(a)}
kb = {c["chunk_id"]: (c["text"], i) for i, c in enumerate(b)}
assert {k: v[0] for k, v in ka.items()} == {k: v[0] for k, v in kb.items()}, "chunk ids differ between --tasks 1 and 3"
for k, (t, i) in ka.items():
    assert np.array_equal(Va[i], Vb[kb[k][1]])

# Markdown heading paths from the knowledge base
tea = [c for c in a if c["doc_id"] == "kb/longjing-tea.md"]
assert ["龙井茶知识手册", "采摘时节", "明前茶与雨前茶"] in [c["headings"] for c in tea], [c["headings"] for c in tea]
bridge = [c for c in a if c["doc_id"] == "kb/brooklyn-bridge.md"]
assert any(c["headings"][-1:] == ["Accessibility"] and c["text"].startswith("### Accessibility") for c in bridge)
open("texts.txt", "w", encoding="utf-8").write("".join(c["text"].replace("\n", " ") + "\n" for c in a[:50]))
np.save("stage50.npy", Va[:50])
m = json.load(open("out1/embeddings/manifest.json"))
assert m["lexical"] is True and m["dim"] == 512 and m["chunk"]["unit"] == "characters"
PYEOF

# the same vectors as embed-text for the same text (newlines as spaces: the
# hash model splits words on both)
"$CM" embed-text --model hash --output text50.npy < texts.txt
"$PY" -c "
import numpy as np
assert np.allclose(np.load('stage50.npy'), np.load('text50.npy'), atol=1e-6)
" || fail "the stage and embed-text disagree"

# rerunning a finished task does nothing; another split is refused
"$CM" embed configs/demo.yaml --out out3 --task 0 --tasks 3 2>err || fail "rerun failed"
assert_contains "$(cat err)" "already finished" "a finished task is not redone"
set +e
"$CM" embed configs/demo.yaml --out out3 --task 0 --tasks 2 2>err; rc=$?
set -e
assert_eq "$rc" 2 "embed with another split than dedup's"
assert_contains "$(cat err)" "--tasks 3" "the error says which split"

# a tiny BERT: chunks sized in its tokens (at most 14 = max_seq_length 16
# less [CLS] and [SEP]), vectors as embed-text computes them
sed -e "s|model: hash|model: $SRC/tests/fixtures/tiny-bert-mean|" -e 's|max_tokens: 900|max_tokens: 0|' \
    -e 's|overlap: 32|overlap: 4|' configs/demo.yaml > bert.yaml
"$CM" run bert.yaml --out outb --tasks 2 --progress none 2>err || { cat err; fail "run with a BERT model failed"; }
find outb/chunks -name '*.zst' | sort | xargs zstdcat > outb.chunks.jsonl
"$PY" - <<'PYEOF' || fail "BERT chunks are wrong"
import glob, json
import numpy as np
chunks = [json.loads(l) for l in open("outb.chunks.jsonl", encoding="utf-8")]
assert len(chunks) > 1000, len(chunks)
assert max(c["length"] for c in chunks) <= 14 and min(c["length"] for c in chunks) >= 1
V = np.concatenate([np.load(p) for p in sorted(glob.glob("outb/embeddings/part-*[0-9].npy"))])
assert V.shape == (len(chunks), 32)
sample = chunks[::97]
open("btexts.txt", "w", encoding="utf-8").write("".join(c["text"].replace("\n", " ") + "\n" for c in sample))
np.save("bstage.npy", V[::97])
m = json.load(open("outb/embeddings/manifest.json"))
assert m["lexical"] is False and m["chunk"] == {"unit": "tokens", "max": 14, "overlap": 4, "markdown": True}, m
PYEOF
"$CM" embed-text --model "$SRC/tests/fixtures/tiny-bert-mean" --output btext.npy < btexts.txt
"$PY" -c "
import numpy as np
assert np.allclose(np.load('bstage.npy'), np.load('btext.npy'), atol=1e-5)
" || fail "the stage and embed-text disagree (BERT)"

# misuse: no clean output yet; a chunk larger than the model takes
set +e
"$CM" embed configs/demo.yaml --out empty --task 0 --tasks 1 2>err; rc=$?
set -e
assert_eq "$rc" 2 "embed before clean"
assert_contains "$(cat err)" "run dedup first" "the error says what to run"
sed -e 's|max_tokens: 0|max_tokens: 100|' bert.yaml > big.yaml
set +e
"$CM" embed big.yaml --out outb --task 0 --tasks 2 --force 2>err; rc=$?
set -e
assert_eq "$rc" 2 "chunks larger than the model takes"
assert_contains "$(cat err)" "more than the model takes (14 tokens)" "the error gives the limit"
echo ok
