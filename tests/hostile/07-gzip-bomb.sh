# A gzip bomb (1000:1): stopped past 64 MiB by input.max_ratio, counted as limit:ratio, memory bounded.
setup() { python3 -c "
import gzip, sys
line = b'{\"id\": \"z\", \"content\": \"' + b'a' * (1 << 20) + b'\"}\n'
with gzip.open('bomb.jsonl.gz', 'wb', 9) as f:
    for i in range(300): f.write(line)"; records 5 > ok.jsonl; config bomb.jsonl.gz ok.jsonl; }
cmd=(clean c.yaml); rc=any; err="limit:ratio"; max_rss_mb=400
check() { [ "$(summary clean.input_errors_by.\"limit:ratio\")" = 1 ] && [ "$(summary clean.read)" -lt 100 ]; }
