#!/usr/bin/env python3
"""Makes a large JSON Lines shard for throughput runs, zstd-compressed.

Documents come from the real public text in ../shared/data when it is there
(Chinese and English web text, news, knowledge bases), else from the embedded
sample. To get a realistic length distribution, each output document is one
real document, a prefix of one, or two or three joined (lengths then spread
from tens of characters to tens of kilobytes, like web text). Records have the
WanJuan shape {"id", "content"} plus a few WanJuan-CC fields.

    python3 bench/make_corpus.py OUT.jsonl.zst SIZE_MB [SHARED_DATA_DIR] [all|en|zh]

With en or zh, only documents mostly in that language are used (for the
per-language recipe benchmarks).
"""
import glob
import gzip
import json
import os
import random
import subprocess
import sys


def texts_from_shared(root):
    out = []
    for path in sorted(glob.glob(os.path.join(root, "**", "*.jsonl"), recursive=True)) + \
            sorted(glob.glob(os.path.join(root, "**", "*.jsonl.gz"), recursive=True)):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                for k in ("content", "text", "raw_content"):
                    if isinstance(r.get(k), str) and len(r[k]) > 20:
                        out.append(r[k])
                        break
    for path in sorted(glob.glob(os.path.join(root, "zh-news-crud-rag", "*.txt"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            out.extend(line.strip() for line in f if len(line) > 20)
    for path in sorted(glob.glob(os.path.join(root, "zh-kb-*", "**", "*.md"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            t = f.read()
            if len(t) > 20:
                out.append(t)
    return out


def texts_from_sample(sample_dir):
    import tarfile
    out = []
    for path in sorted(glob.glob(os.path.join(sample_dir, "*.tar.gz"))):
        with tarfile.open(path) as tar:
            for m in tar.getmembers():
                if m.isfile():
                    for line in tar.extractfile(m).read().decode("utf-8").splitlines():
                        r = json.loads(line)
                        if isinstance(r.get("content"), str):
                            out.append(r["content"])
    return out


def main():
    out_path, size_mb = sys.argv[1], float(sys.argv[2])
    shared = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
    lang = sys.argv[4] if len(sys.argv) > 4 else "all"
    texts = texts_from_shared(shared) if os.path.isdir(shared) else []
    def cjk_share(t):
        sample = t[:2000]
        return sum(1 for c in sample if "\u4e00" <= c <= "\u9fff") / max(1, len(sample))
    if lang == "en":
        texts = [t for t in texts if cjk_share(t) < 0.02]
    elif lang == "zh":
        texts = [t for t in texts if cjk_share(t) >= 0.3]
    source = "shared/data"
    if len(texts) < 100:
        texts = texts_from_sample(os.path.join(os.path.dirname(__file__), "..", "sample"))
        source = "the embedded sample"
    rng = random.Random(42)
    # A pool of serialized record bodies; ids are added when written.
    pool = []
    for i in range(min(40000, 4 * len(texts))):
        k = rng.random()
        if k < 0.55:
            t = rng.choice(texts)
        elif k < 0.75:
            t = rng.choice(texts)
            t = t[: max(20, int(len(t) * rng.random()))]
        else:
            t = "\n\n".join(rng.choice(texts) for _ in range(rng.randint(2, 3)))
        body = json.dumps({"content": t, "language": "zh" if any("\u4e00" <= c <= "\u9fff" for c in t[:50]) else "en",
                           "date": "2023-06-01", "char_num": len(t)}, ensure_ascii=False)
        pool.append(body[1:])  # without the opening brace
    target = int(size_mb * 1e6)
    zstd = subprocess.Popen(["zstd", "-q", "-3", "-T0", "-f", "-o", out_path], stdin=subprocess.PIPE)
    written, n = 0, 0
    chunk = []
    while written < target:
        line = '{"id": "bench-%09d", %s\n' % (n, rng.choice(pool))
        b = line.encode("utf-8")
        chunk.append(b)
        written += len(b)
        n += 1
        if len(chunk) >= 4096:
            zstd.stdin.write(b"".join(chunk))
            chunk = []
    zstd.stdin.write(b"".join(chunk))
    zstd.stdin.close()
    if zstd.wait() != 0:
        sys.exit("zstd failed")
    print(f"{out_path}: {n} records, {written / 1e6:.1f} MB of JSON from {len(texts)} texts in {source}")


if __name__ == "__main__":
    main()
