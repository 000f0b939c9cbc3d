#!/usr/bin/env python3
"""Labelled document sets for `corpusmill quality train` from ../shared/data,
written as JSON Lines ({"id", "text"}) into OUT_DIR (bench/quality.sh and
tests/test_quality_model.sh use them; nothing is copied into the repository).

  zh_pos.jsonl  clean Chinese: the news of zh-news-crud-rag (one per line),
                CMRC 2018 and XQuAD zh contexts, the knowledge-base markdown
  zh_neg.jsonl  the raw ChineseWebText CommonCrawl pages (raw_content)
  en_pos.jsonl  reference-like English: XQuAD en contexts (Wikipedia) and the
                data-juicer refined C4 / RedPajama samples
  en_neg.jsonl  raw English CommonCrawl: Dolma's raw documents, and the text
                of the Dolma WARC samples' HTML pages (tags stripped)
  dclm.jsonl    DCLM's majority labels (text, label) for 5-fold CV
usage: quality_sets.py SHARED OUT_DIR"""
import glob, gzip, html, json, os, re, sys

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def write(name, texts):
    seen = set()
    with open(os.path.join(out, name), "w") as f:
        for i, t in enumerate(texts):
            t = t.strip()
            if len(t) < 50 or t in seen:
                continue
            seen.add(t)
            f.write(json.dumps({"id": f"{name}:{i}", "text": t}, ensure_ascii=False) + "\n")
    return len(seen)


def squad_contexts(path):
    d = json.load(open(path))
    return [p["context"] for a in d["data"] for p in a["paragraphs"]]


zh_pos = []
for p in sorted(glob.glob(f"{shared}/zh-news-crud-rag/documents_dup_part_*.txt")):
    zh_pos += [l for l in open(p, encoding="utf-8")]
zh_pos += squad_contexts(f"{shared}/zh-qa-cmrc2018/cmrc2018_dev.json")
zh_pos += squad_contexts(f"{shared}/qa-xquad-en-zh/xquad.zh.json")
for d in ("zh-kb-lmdeploy-docs", "zh-kb-huixiangdou-docs", "zh-kb-internlm-tutorial"):
    for p in sorted(glob.glob(f"{shared}/{d}/**/*.md", recursive=True)):
        zh_pos.append(open(p, encoding="utf-8", errors="replace").read())
zh_neg = [json.loads(l)["raw_content"] for l in open(f"{shared}/zh-web-chinesewebtext/cc_2021-43_cleared1.jsonl")]

en_pos = squad_contexts(f"{shared}/qa-xquad-en-zh/xquad.en.json")
for p in ("redpajama-c4-refined.jsonl", "redpajama-cc-2023-06-refined.jsonl"):
    en_pos += [json.loads(l)["text"] for l in open(f"{shared}/en-web-datajuicer-demos/{p}")]
en_neg = [json.loads(l)["text"] for l in gzip.open(f"{shared}/en-web-dolma-samples/cc_raw_documents_000.jsonl.gz", "rt")]
for p in sorted(glob.glob(f"{shared}/en-web-dolma-samples/*.warc.gz")):
    raw = gzip.open(p, "rb").read().decode("utf-8", "replace")
    for page in raw.split("WARC/1.0")[1:]:
        if "<html" not in page.lower():
            continue
        body = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", page)
        body = re.sub(r"(?s)<[^>]+>", "\n", body)
        lines = [html.unescape(l).strip() for l in body.split("\n")]
        en_neg.append("\n".join(l for l in lines if l))

counts = {n: write(n, t) for n, t in (("zh_pos.jsonl", zh_pos), ("zh_neg.jsonl", zh_neg),
                                       ("en_pos.jsonl", en_pos), ("en_neg.jsonl", en_neg))}
with open(os.path.join(out, "dclm.jsonl"), "w") as f:
    for l in open(f"{shared}/en-quality-dclm/majority_data.jsonl"):
        r = json.loads(l)
        f.write(json.dumps({"text": r["text"], "label": int(r["label"])}, ensure_ascii=False) + "\n")
print(json.dumps(counts))
