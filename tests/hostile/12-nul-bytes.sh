# A raw NUL byte inside a record: malformed (nul_byte).
setup() { { records 2; printf '{"id": "nul", "content": "a\0b"}\n'; records 2; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="in.jsonl:3: NUL byte"
check() { [ "$(summary clean.malformed_by.nul_byte)" = 1 ]; }
