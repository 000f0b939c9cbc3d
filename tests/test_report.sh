#!/usr/bin/env bash
# The run report: `run` writes OUT/report.html; the numbers on the page (its
# tables and its embedded JSON) equal summary.json and the stage files; every
# section of the demo's page is filled; record text is escaped; the page
# loads nothing from outside; and Debian's chromium, headless, opens it with
# no console message and takes a screenshot that is not blank (kept as
# BUILD/report-demo.png). Skipped (77) only when chromium is not installed.
source "$(dirname "$0")/lib.sh"

cp -r "$SRC/sample" "$SRC/configs" .
# a removed record whose text is markup: it must come back escaped
printf '{"id": "xss", "content": "<script>alert(1)</script> short"}\n' > hostile.jsonl
"$CM" run configs/demo.yaml --input sample --input hostile.jsonl --out demo --progress none 2>err || { cat err; fail "run"; }
[ -f demo/report.html ] || fail "run wrote no report.html"
cp demo/report.html from-run.html
assert_contains "$(cat err)" "demo/report.html" "run says where the report is"

python3 - demo <<'PY' || fail "the page does not match the run's files"
import json, re, sys
out = sys.argv[1]
page = open(f"{out}/report.html", encoding="utf-8").read()
summary = json.load(open(f"{out}/summary.json"))
data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1))
cells = dict(re.findall(r'data-key="([^"]+)">([^<]*)<', page))
bad = []
def same(what, got, want):
    if str(got) != str(want): bad.append(f"{what}: page {got!r}, files {want!r}")
same("embedded summary", json.dumps(data["summary"], sort_keys=True), json.dumps(summary, sort_keys=True))
for stage, s in summary["stages"].items():
    same(f"{stage} read", cells.get(f"{stage}.read"), s["read"])
    same(f"{stage} kept", cells.get(f"{stage}.kept"), s["kept"])
    same(f"{stage} removed", cells.get(f"{stage}.removed"), s["removed_total"])
    same(f"{stage} malformed", cells.get(f"{stage}.malformed"), s["malformed"])
    for reason, n in s["removed"].items():
        got = [r["count"] for r in data["removals"] if r["stage"] == stage and r["reason"] == reason]
        same(f"{stage} removed {reason}", got, [n])
embed = [f for f in data["funnel"] if f["stage"] == "embed"][0]
same("chunks", embed["chunks"], summary["stages"]["embed"]["outputs"]["chunks"])
mh = json.load(open(f"{out}/minhash/clusters.json"))
for k in ("candidate_pairs", "clusters", "removed"): same(f"minhash {k}", cells.get(f"minhash.{k}"), mh[k])
km = json.load(open(f"{out}/index/pretrain/clusters.json"))
for k in ("documents", "clusters", "min", "max"): same(f"kmeans {k}", cells.get(f"kmeans.{k}"), km[k])
man = json.load(open(f"{out}/rag/manifest.json"))
same("index factory", cells.get("rag.index.factory"), man["index"]["factory"])
same("sampled kept", data["sampled"]["kept"], summary["stages"]["clean"]["kept"])  # the demo is under the sample size
# every section is there and filled
for sec in ("funnel", "removals", "signals", "languages", "duplicates", "kmeans", "index", "time"):
    if f'id="{sec}"' not in page: bad.append(f"section {sec} missing")
hists = page.count('class="hist"')
if hists < 12: bad.append(f"{hists} histograms (zh and en: 6 each)")
if len(data["tasks"]) < 6: bad.append("time per task")
if sum(data["dedup"]["cluster_sizes"].values()) == 0: bad.append("no duplicate cluster sizes")
if "zh" not in data["languages"] or "en" not in data["languages"]: bad.append("language mix")
for rule in ("fineweb:line_punct_ratio", "dedup:exact"):
    if not re.search(re.escape(rule) + r'</td><td class="num">\d+</td><td><div class="ex"><a href="rejected/', page):
        bad.append(f"no example for {rule}")
# escaped, and self-contained
if "<script>alert(1)" in page: bad.append("record text reached the page unescaped")
if "&lt;script&gt;alert(1)" not in page: bad.append("the markup record is not shown escaped")
if re.search(r'(src|href)="(https?:)?//', page) or "@import" in page or "url(" in page: bad.append("an external resource")
if bad:
    print("\n".join(bad)); sys.exit(1)
PY

# an evaluation of the export shows up in the report's index section
cat > kbqa.jsonl <<'QA'
{"query": "明前茶为什么价格高", "positive": ["清明节以前采摘的茶叶称为明前茶。这时气温较低，芽叶生长缓慢，内含物质积累充分，所以滋味鲜醇，产量却很少。一斤特级明前茶需要采摘三万多个嫩芽，价格因此较高。"]}
{"query": "How long does a walk across the bridge take?", "positive": ["A walk from Manhattan to Brooklyn takes about thirty minutes at an easy pace, longer if you stop for photographs."]}
QA
"$CM" eval-retrieval demo/rag --qa kbqa.jsonl --json > eval.json 2>/dev/null || fail "eval-retrieval"
cmp -s <(jq -S 'del(.qa)' eval.json) <(jq -S 'del(.qa)' demo/rag/eval.json) || fail "eval-retrieval did not leave its result in the export"
"$CM" report demo 2>/dev/null
for m in dense bm25 hybrid; do
  assert_eq "$(grep -o "data-key=\"eval.$m.recall@5\">[^<]*" demo/report.html | cut -d'>' -f2)" \
    "$(jq -r ".$m[\"recall@5\"]" eval.json | awk '{printf "%g", $1}')" "the report's $m recall@5"
done

# corpusmill report on its own gives the page run wrote (but the time stamp)
rm demo/rag/eval.json
"$CM" report demo 2>/dev/null
diff <(grep -v 'written .* by corpusmill report' from-run.html) <(grep -v 'written .* by corpusmill report' demo/report.html) >/dev/null \
  || fail "report and run wrote different pages"
set +e; "$CM" report sample 2>/dev/null; rc=$?; set -e
assert_eq "$rc" 2 "report of a folder with no summary"

# ---- a real browser ----
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then echo "skip: chromium is not installed (scripts/setup.sh installs it)"; exit 77; fi
mkdir profile
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$WORK/profile" --enable-logging=stderr --v=0 \
  --window-size=1200,2400 --screenshot="$WORK/shot.png" "file://$WORK/demo/report.html" 2>chromium.log \
  || { tail -20 chromium.log; fail "chromium failed"; }
[ -s shot.png ] || fail "no screenshot"
if grep -q 'CONSOLE' chromium.log; then grep 'CONSOLE' chromium.log | head; fail "console messages"; fi
python3 - shot.png <<'PY' || fail "the screenshot is blank"
import struct, sys, zlib
raw = open(sys.argv[1], "rb").read()
assert raw[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, width, height = 8, b"", 0, 0
while pos < len(raw):
    n, kind = struct.unpack(">I4s", raw[pos:pos + 8])
    body = raw[pos + 8:pos + 8 + n]
    if kind == b"IHDR": width, height = struct.unpack(">II", body[:8])
    if kind == b"IDAT": idat += body
    pos += 12 + n
pixels = zlib.decompress(idat)
distinct = len(set(pixels[::7]))
print(f"screenshot {width}x{height}, {distinct} distinct byte values")
sys.exit(0 if width >= 1000 and distinct > 40 else 1)
PY
cp shot.png "$(dirname "$CM")/report-demo.png"
echo ok
