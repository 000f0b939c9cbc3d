# A tar.gz whose second member is cut: the first member's records kept.
setup() { mkdir t; records 50 > t/a.jsonl; records 50 > t/b.jsonl; tar czf full.tar.gz -C t a.jsonl b.jsonl; gzip -dc full.tar.gz | head -c 12000 | gzip > in.tar.gz; rm -r t full.tar.gz; config in.tar.gz; }
cmd=(clean c.yaml); rc=any; err="in.tar.gz"
check() { [ "$(summary clean.read)" -ge 50 ] && [ "$(summary clean.input_errors)" = 1 ]; }
