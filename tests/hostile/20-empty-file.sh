# An empty file: a warning, no records, exit 0.
setup() { : > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="empty file"
check() { [ "$(summary clean.read)" = 0 ] && [ "$(summary clean.empty_files)" = 1 ]; }
