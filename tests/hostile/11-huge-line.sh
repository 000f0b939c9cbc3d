# A 200 MB line: malformed (too_long), the rest read, memory bounded.
setup() { { records 2; printf '{"id": "huge", "content": "'; head -c 200000000 /dev/zero | tr '\0' a; printf '"}\n'; records 2; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="in.jsonl:3:"; max_rss_mb=400
check() { [ "$(summary clean.malformed_by.too_long)" = 1 ] && [ "$(summary clean.read)" = 5 ]; }
