# A UTF-8 byte-order mark before the first record: read as a record, not malformed.
setup() { { printf '\xef\xbb\xbf'; records 3; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err=""
check() { [ "$(summary clean.malformed)" = 0 ] && [ "$(summary clean.read)" = 3 ]; }
