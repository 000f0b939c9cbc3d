#!/usr/bin/env python3
"""Makes a Chinese collection for the BM25 and serving benchmarks.

Every Chinese sentence of ../shared/data (news, web text, reading
comprehension contexts, sentence pairs, knowledge-base Markdown; not the RGB
set, whose passages are added as they are) goes into a pool; each output
document is a run of sentences drawn at random from the pool, 80 to 880
characters long (one chunk of the `hash` model's 900 characters, mostly), so
documents are new texts made of real sentences. RGB's passages follow, one
document each, so that its 300 questions have their gold passages in the
collection. Records are {"id", "content"}, JSON Lines, deterministic.

    python3 bench/make_zh_docs.py OUT.jsonl DOCUMENTS [SHARED_DATA_DIR]
"""
import glob
import json
import os
import random
import re
import sys

SENTENCE_END = re.compile(r"(?<=[。！？!?])")


def cjk_share(t):
    return sum(1 for c in t if "\u4e00" <= c <= "\u9fff") / max(1, len(t))


def texts(root):
    for path in sorted(glob.glob(os.path.join(root, "zh-news-crud-rag", "*.txt"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            yield from f
    for path in sorted(glob.glob(os.path.join(root, "zh-web-chinesewebtext", "*.jsonl"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                r = json.loads(line)
                yield r.get("text") or r.get("content") or ""
    for path in sorted(glob.glob(os.path.join(root, "zh-pairs-sohu2021", "*.jsonl"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                r = json.loads(line)
                yield r.get("sentence1", "")
                yield r.get("sentence2", "")
    for path in sorted(glob.glob(os.path.join(root, "zh-qa-cmrc2018", "*.json"))) + \
            sorted(glob.glob(os.path.join(root, "qa-xquad-en-zh", "*.zh.json"))):
        with open(path, encoding="utf-8") as f:
            for article in json.load(f)["data"]:
                for p in article["paragraphs"]:
                    yield p["context"]
    for path in sorted(glob.glob(os.path.join(root, "zh-kb-*", "**", "*.md"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            yield from f


def main():
    out_path, n_docs = sys.argv[1], int(sys.argv[2])
    root = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
    seen, pool = set(), []
    for t in texts(root):
        for s in SENTENCE_END.split(t):
            s = s.strip()
            if 8 <= len(s) <= 300 and cjk_share(s) >= 0.5 and s not in seen:
                seen.add(s)
                pool.append(s)
    rng = random.Random(20261204)
    chars = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for i in range(n_docs):
            want, parts, n = rng.randint(80, 880), [], 0
            while n < want:
                s = rng.choice(pool)
                parts.append(s)
                n += len(s)
            text = "".join(parts)[:880]
            chars += len(text)
            out.write(json.dumps({"id": "zh-%08d" % i, "content": text}, ensure_ascii=False) + "\n")
        rgb = os.path.join(root, "zh-rag-rgb", "zh_refine.json")
        passages = set()
        with open(rgb, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                for p in r["positive"] + r["negative"]:
                    if isinstance(p, str) and p.strip():
                        passages.add(p)
        for j, p in enumerate(sorted(passages)):
            out.write(json.dumps({"id": "rgb-%05d" % j, "content": p}, ensure_ascii=False) + "\n")
            chars += len(p)
    print(f"{out_path}: {n_docs} documents from {len(pool)} sentences, {len(passages)} RGB passages, "
          f"{chars / 1e6:.1f} M characters")


if __name__ == "__main__":
    main()
